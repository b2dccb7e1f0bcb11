// Notification settings: turn Web Push on or off for this browser.
// Asks permission, subscribes with the server's VAPID key, and posts the
// subscription with the page's CSRF token.
(function () {
  "use strict";
  var box = document.getElementById("push-controls");
  if (!box) return;
  var status = box.querySelector("[data-push-status]");
  var onButton = box.querySelector("[data-push-on]");
  var offButton = box.querySelector("[data-push-off]");

  function say(name) {
    var text = box.getAttribute("data-msg-" + name);
    if (status && text) status.textContent = text;
    box.setAttribute("data-state", name);
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.status === 204 ? null : response.json();
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function show(subscribed) {
    if (onButton) onButton.hidden = subscribed;
    if (offButton) offButton.hidden = !subscribed;
  }

  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) {
    say("unsupported");
    show(false);
    if (onButton) onButton.disabled = true;
    return;
  }
  if (Notification.permission === "denied") say("denied");

  navigator.serviceWorker.ready.then(function (registration) {
    return registration.pushManager.getSubscription();
  }).then(function (subscription) {
    show(!!subscription);
    if (subscription) say("on");
    else if (Notification.permission !== "denied") say("off");
  }).catch(function () { say("off"); });

  function turnOn() {
    onButton.disabled = true;
    say("working");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("denied");
      return Promise.all([navigator.serviceWorker.ready, api("GET", "/push/vapid-public-key")]);
    }).then(function (results) {
      return results[0].pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(results[1].public_key),
      });
    }).then(function (subscription) {
      return api("POST", "/push/subscriptions", subscription.toJSON());
    }).then(function () {
      show(true);
      say("on");
    }).catch(function (error) {
      say(error && error.message === "denied" ? "denied" : "failed");
    }).then(function () { onButton.disabled = false; });
  }

  function turnOff() {
    offButton.disabled = true;
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return api("DELETE", "/push/subscriptions", { endpoint: endpoint });
      });
    }).then(function () {
      show(false);
      say("off");
    }).catch(function () { say("failed"); })
      .then(function () { offButton.disabled = false; });
  }

  if (onButton) onButton.addEventListener("click", turnOn);
  if (offButton) offButton.addEventListener("click", turnOff);
})();
