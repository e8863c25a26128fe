// Follow-up prompt: when a one-tap link from the e-mail preselected a choice,
// bring that person into view and mark the choice, so the last step is one
// tap on "Save my answers" (which stays at the bottom of the screen). When the
// form came back with errors, start from the summary of them instead. The page
// works the same without this script.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  var pick = new URLSearchParams(window.location.search).get("pick");
  if (summary) {
    // A screen reader announces the summary; a keyboard user starts from its links.
    summary.focus();
  } else if (pick) {
    var id = pick.split(":")[0];
    var box = /^\d+$/.test(id) ? document.getElementById("person-" + id) : null;
    if (box) {
      box.classList.add("fu-picked");
      box.scrollIntoView({ block: "center" });
      var checked = box.querySelector("input:checked");
      if (checked) checked.focus({ preventScroll: true });
    }
  }
  // A choice made on the page marks its person as answered (a visual cue only).
  document.querySelectorAll(".fu-person").forEach(function (box) {
    box.addEventListener("change", function (event) {
      if (event.target && event.target.value) {
        box.setAttribute("data-chosen", event.target.value);
      }
    });
  });
})();
