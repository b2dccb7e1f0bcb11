// Small helpers for every page: confirmation dialogs, copy buttons, budget checks and service worker registration.
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
  // Budget checks before submitting: the selected <option data-remaining data-over-budget> of a
  // [data-budget-source] select bounds the form's [data-budget-input]; the server checks again.
  function checkBudget(form) {
    var select = form.querySelector("[data-budget-source]");
    var input = form.querySelector("[data-budget-input]");
    var error = form.querySelector("[data-budget-error]");
    if (!select || !input) return;
    var option = select.options[select.selectedIndex];
    var remaining = option ? option.getAttribute("data-remaining") : null;
    var over = remaining !== null && remaining !== "" && parseInt(input.value, 10) > parseInt(remaining, 10);
    var message = over ? option.getAttribute("data-over-budget") : "";
    input.setCustomValidity(message);
    if (error) { error.textContent = message; error.hidden = !over; }
  }
  ["input", "change"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = event.target.form;
      if (form && form.querySelector("[data-budget-source]")) checkBudget(form);
    });
  });
  function checkAllBudgets() {
    document.querySelectorAll("form [data-budget-source]").forEach(function (select) { checkBudget(select.form); });
  }
  document.addEventListener("DOMContentLoaded", checkAllBudgets);
  document.addEventListener("htmx:load", checkAllBudgets);
  document.addEventListener("invalid", function (event) {
    var form = event.target.form;
    if (form && event.target.hasAttribute("data-budget-input")) checkBudget(form);
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.querySelector || !form.querySelector("[data-budget-source]")) return;
    checkBudget(form);
    if (!form.checkValidity()) {  // e.g. a browser that skipped validation: never send an over-budget form
      event.preventDefault();
      event.stopImmediatePropagation();
      form.reportValidity();
    }
  }, true);
  if ("serviceWorker" in navigator && document.querySelector('link[rel="manifest"]')) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
      // Tell the worker this page's language (zh-Hans → zh): its offline page speaks it.
      var lang = (document.documentElement.lang || "en").split("-")[0];
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.active) registration.active.postMessage({ language: lang });
      });
    });
  }
})();
