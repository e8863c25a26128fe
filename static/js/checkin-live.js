/* The dashboard's live "checked in" number: polls the count every 5 seconds. */
(function () {
  "use strict";
  var source = document.querySelector("[data-live-count]");
  var stat = document.querySelector('[data-stat="checked-in"]');
  if (!source || !stat) return;
  function poll() {
    if (document.hidden) return;
    fetch(source.dataset.liveCount, { credentials: "same-origin",
                                      headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && String(data.checked_in) !== stat.textContent) {
          stat.textContent = data.checked_in;
        }
      })
      .catch(function () {});
  }
  setInterval(poll, 5000);
  document.addEventListener("visibilitychange", poll);
})();
