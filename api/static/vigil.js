// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var KEY = "vigil.hideDistressing";
  function apply(hide) {
    document.body.classList.toggle("hide-distressing", hide);
    var btn = document.getElementById("distress-toggle");
    if (btn) {
      btn.setAttribute("aria-pressed", hide ? "true" : "false");
      btn.querySelector("strong").textContent = hide ? "on" : "off";
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    // Default on: only an explicit "off" in this browser turns blurring off.
    apply(window.localStorage.getItem(KEY) !== "off");
    var btn = document.getElementById("distress-toggle");
    if (btn) {
      btn.addEventListener("click", function () {
        var hide = !document.body.classList.contains("hide-distressing");
        window.localStorage.setItem(KEY, hide ? "on" : "off");
        apply(hide);
      });
    }
    document.querySelectorAll(".sensitive").forEach(function (el) {
      el.addEventListener("click", function () { el.classList.toggle("revealed"); });
      el.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); el.classList.toggle("revealed"); }
      });
    });
    // Ask before irreversible workflow steps.
    document.querySelectorAll("form[action$='/close'], form[action$='/escalate']").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        var what = /close$/.test(form.getAttribute("action")) ? "Close this alert?" : "Escalate this alert to the head teacher?";
        if (!window.confirm(what)) { ev.preventDefault(); }
      });
    });
  });
})();
