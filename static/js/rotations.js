// Rotations: countdowns, the phone view following the rounds, and the projector
// following other organizers. Progressive enhancement: the pages work without it.
(function () {
  "use strict";

  const POLL_MS = 3000;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (el.dataset.ticking) return;
      el.dataset.ticking = "1";
      const ends = Date.parse(el.dataset.endsAt);
      if (Number.isNaN(ends)) return;
      function tick() {
        const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
        el.textContent = left > 0 ? Math.floor(left / 60) + ":" + pad(left % 60) : "Time's up";
        el.classList.toggle("is-over", left === 0);
        if (left > 0 && el.isConnected) window.setTimeout(tick, 250);
      }
      tick();
    });
  }

  function poll(url, handle) {
    let busy = false;
    window.setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (data) { if (data) handle(data); })
        .catch(function () { /* offline for a moment: try again next time */ })
        .finally(function () { busy = false; });
    }, POLL_MS);
  }

  function followPhone(live) {
    poll(live.dataset.url, function (data) {
      if (data.key === live.dataset.key) return;
      // Do not throw away a note being typed: redraw once it is left.
      const typing = live.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA";
      if (typing && data.key.split(":")[1] === live.dataset.key.split(":")[1]) return;
      live.dataset.key = data.key;
      live.innerHTML = data.html;
      startCountdowns(live);
    });
  }

  function followProjector(el) {
    poll(el.dataset.stateUrl, function (data) {
      if (String(data.current_round) !== el.dataset.round) window.location.reload();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    const live = document.querySelector("[data-live]");
    if (live) followPhone(live);
    const projector = document.querySelector("[data-projector]");
    if (projector) followProjector(projector);
  });
})();
