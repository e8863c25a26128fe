/* The badge batch progress page: polls the job and downloads the PDF when done. */
(function () {
  "use strict";
  var box = document.querySelector("[data-batch-status]");
  if (!box) return;
  var bar = document.getElementById("batch-progress");
  var message = document.getElementById("batch-message");
  var done = false;
  function poll() {
    if (done) return;
    fetch(box.dataset.batchStatus, { credentials: "same-origin",
                                     headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        if (data.status === "done") {
          done = true;
          bar.value = 100;
          message.textContent = "Ready: the download starts now.";
          window.location.href = data.download_url;
        } else if (data.status === "failed") {
          done = true;
          message.textContent = data.error;
        } else {
          message.textContent = (data.status === "pending" ? "Waiting for the worker… " :
                                 "Drawing the badges… ") + data.progress + " %";
          setTimeout(poll, 1500);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
