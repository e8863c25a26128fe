// Pairs: on the "did you meet?" page, show the new-date fields only for "moved".
// Without JavaScript they simply stay visible.
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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-answer-form]").forEach(init);
  });
})();
