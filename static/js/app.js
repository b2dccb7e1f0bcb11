// Small helpers for every page: confirmation dialogs, copy buttons and service worker registration.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // Copy buttons: <button data-copy="#input-id" data-copied="Copied">; CSP forbids inline scripts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () { button.textContent = button.getAttribute("data-copied") || button.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();  // plain http on the branch network: select it and copy the old way
      if (document.execCommand && document.execCommand("copy")) done();
    }
  });
  // Live points: a toast goes away once its animation has played.
  document.addEventListener("animationend", function (event) {
    if (event.target.classList && event.target.classList.contains("toast")) event.target.remove();
  });
  if ("serviceWorker" in navigator && document.querySelector('link[rel="manifest"]')) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
