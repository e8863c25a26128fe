/* The progress page of a PDF drawn by the job worker (templates/printouts/progress.html):
   polls the job and goes to the download when it is done. */
(function () {
  "use strict";
  var box = document.querySelector("[data-printout-status]");
  if (!box) return;
  var bar = document.getElementById("printout-progress");
  var message = document.getElementById("printout-message");
  var working = box.dataset.working || "Drawing…";
  var t = {}; // the page's words (docs/i18n.md), English when missing
  try { t = JSON.parse(box.dataset.messages || "{}"); } catch (e) { t = {}; }
  var done = false;
  function poll() {
    if (done) return;
    fetch(box.dataset.printoutStatus, { credentials: "same-origin",
                                        headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        if (data.status === "done") {
          done = true;
          bar.value = 100;
          message.textContent = t.ready || "Ready: the download starts now.";
          window.location.href = data.download_url;
        } else if (data.status === "failed") {
          done = true;
          message.textContent = data.error;
        } else {
          message.textContent = (data.status === "pending" ? (t.waiting || "Waiting for the worker…") + " " :
                                 working + " ") + data.progress + " %";
          setTimeout(poll, 1500);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
