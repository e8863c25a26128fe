// Pairs: on the "did you meet?" page, show the new-date fields only for "moved".
// Without JavaScript they simply stay visible.
// On any pairs page sent back with an error (a rhythm out of range, a missing
// answer), bring the first field in error into view and focus it: the pair
// page is long on a phone and the page reloads at its top.
(function () {
  "use strict";
  function init(form) {
    var moved = form.querySelector("[data-moved-fields]");
    if (!moved) return;
    function update() {
      var chosen = form.querySelector('input[name="answer"]:checked');
      moved.hidden = !(chosen && chosen.value === "moved");
    }
    form.addEventListener("change", update);
    update();
  }
  function focusFirstError() {
    var field = document.querySelector('main form [aria-invalid="true"]');
    if (!field) {
      var message = document.querySelector("main form .field-error");
      field = message && message.closest("fieldset")
        ? message.closest("fieldset").querySelector("input")
        : null;
    }
    if (field) {
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-answer-form]").forEach(init);
    focusFirstError();
  });
})();
