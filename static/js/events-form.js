// Events: small enhancements of the events forms. Every page works without it.
(function () {
  "use strict";

  // The event form shows only the fieldset of the chosen kind.
  var form = document.querySelector("[data-event-form]");
  if (form) {
    var kind = form.querySelector("select[name=kind], input[name=kind]");
    var showKind = function () {
      form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
        set.hidden = set.getAttribute("data-kind") !== kind.value;
      });
    };
    if (kind) {
      showKind();
      kind.addEventListener("change", showKind);
    }
    // A new event starts in the organizer's own time zone.
    var zone = form.querySelector("select[name=timezone]");
    var fresh = !form.querySelector(".field-error") && !form.querySelector("input[name=kind][type=hidden]");
    if (zone && fresh && zone.value === "UTC") {
      try {
        var mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (mine && zone.querySelector('option[value="' + mine + '"]')) zone.value = mine;
      } catch (e) { /* keep UTC */ }
    }
  }

  // "Other" dietary need: the free-text box appears when chosen.
  document.querySelectorAll("select[name=dietary]").forEach(function (select) {
    var other = select.form && select.form.querySelector("[data-dietary-other]");
    if (!other) return;
    var toggle = function () { other.hidden = select.value !== "other"; };
    toggle();
    select.addEventListener("change", toggle);
  });

  // Copy buttons next to read-only links; "Copied" in the page's language
  // (data-copied), then the button's own label again.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  });

  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
