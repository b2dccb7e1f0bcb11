// Offline banner: a page served from the service worker's cache carries
// data-offline-at (when it was fetched); a live page that loses the network
// shows when it was loaded.
(function () {
  "use strict";
  var loadedAt = new Date();

  function format(moment) {
    var lang = document.documentElement.lang || undefined;
    try {
      return moment.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
    } catch (error) {
      return moment.toLocaleString();
    }
  }

  function show(moment) {
    var banner = document.getElementById("offline-banner");
    if (!banner) return;
    var time = banner.querySelector("time");
    if (time && moment && !isNaN(moment.getTime())) {
      time.setAttribute("datetime", moment.toISOString());
      time.textContent = format(moment);
    }
    banner.hidden = false;
  }

  function hide() {
    var banner = document.getElementById("offline-banner");
    if (banner && !document.documentElement.hasAttribute("data-offline-at")) banner.hidden = true;
  }

  // The connection is back: a page served from the cache is stale, so fetch it fresh; a live page just drops the banner.
  function back() {
    if (document.documentElement.hasAttribute("data-offline-at")) {
      window.location.reload();
      return;
    }
    hide();
  }

  function init() {
    var root = document.documentElement;
    if (root.hasAttribute("data-offline-at")) {
      var stamp = root.getAttribute("data-offline-at");
      show(stamp ? new Date(stamp) : null);
    } else if (navigator.onLine === false) {
      show(loadedAt);
    }
  }

  window.addEventListener("offline", function () { show(loadedAt); });
  window.addEventListener("online", back);
  document.addEventListener("htmx:sendError", function () { show(loadedAt); });
  // Any answer from the server (a live-points poll included) proves the connection is back.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status > 0) back();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
