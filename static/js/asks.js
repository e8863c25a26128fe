// Asks: at most N people can be picked; the others are disabled once N are
// checked, and the help line says how many are left. The server checks too.
// On a form sent back with an error, the first field in error gets the focus.
(function () {
  "use strict";
  document.querySelectorAll("form.pick-form[data-max]").forEach(function (form) {
    var max = parseInt(form.getAttribute("data-max"), 10) || 3;
    var boxes = Array.prototype.slice.call(
      form.querySelectorAll('input[type="checkbox"][name="people"]')
    );
    var help = form.querySelector("#pick-help");
    // The page's words for each number picked (a JSON catalogue, asks/show.html).
    var t = {};
    try { t = JSON.parse(form.getAttribute("data-messages") || "{}"); } catch (e) { t = {}; }
    var original = help ? help.textContent.trim() : "";
    var isError = help && help.classList.contains("field-error");

    function update() {
      var picked = boxes.filter(function (b) { return b.checked; }).length;
      boxes.forEach(function (b) { b.disabled = !b.checked && picked >= max; });
      if (!help || isError) { return; }
      if (picked === 0) {
        help.textContent = original;
      } else if (t[String(picked)]) {
        help.textContent = t[String(picked)];
      } else if (picked >= max) {
        help.textContent = "You picked " + picked + ", the most at once.";
      } else {
        var left = max - picked;
        help.textContent = "You picked " + picked + "; you can pick " + left +
          " more.";
      }
    }

    boxes.forEach(function (b) {
      b.addEventListener("change", function () { isError = false; update(); });
    });
    update();
  });

  // A form sent back with an error: bring the first field in error into view
  // and focus it (the page reloads at its top, the error may be a screen below).
  var invalid = document.querySelector('main form [aria-invalid="true"]');
  if (invalid) {
    invalid.scrollIntoView({ block: "center" });
    invalid.focus({ preventScroll: true });
  }
})();
