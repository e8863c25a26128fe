// Check-in lists: "Checked in" records the check-in without reloading the page
// (the form posts as usual without JavaScript). The row then reads "Checked in
// today", its note field empties and closes, and the result is announced.
(function () {
  "use strict";
  function init(root) {
    var t = {};
    try { t = JSON.parse(root.dataset.messages || "{}"); } catch (e) { t = {}; }
    var status = root.querySelector("[data-roster-status]");
    function say(text) { if (status) status.textContent = text; }
    root.querySelectorAll("form[data-roster-tap]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        // A disabled button drops the keyboard focus to the page's top: give it
        // back afterwards, so the next row is one Tab away.
        var hadFocus = document.activeElement === button;
        button.disabled = true;
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        }).then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error((body.error && body.error.message) || t.failed || "Not saved.");
            return body;
          });
        }).then(function (body) {
          var row = form.closest(".roster-entry");
          var state = row && row.querySelector("[data-state]");
          if (state) {
            state.textContent = form.dataset.todayLabel || t.today || "Checked in today";
            state.className = "roster-state roster-ok";
          }
          var note = form.querySelector("textarea");
          if (note) note.value = "";
          var details = form.querySelector("details");
          if (details) details.open = false;
          if (row) row.classList.add("roster-done");
          say(body.message || t.saved || "Checked in.");
        }).catch(function (error) {
          say(error.message || t.failed || "Not saved.");
        }).finally(function () {
          button.disabled = false;
          if (hadFocus) button.focus();
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("roster");
    if (root) init(root);
  });
})();
