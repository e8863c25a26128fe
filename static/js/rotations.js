// Rotations: countdowns, the phone view following the rounds, and the organizer's
// controls (following other organizers; opening the projector's window).
// Progressive enhancement: the pages work without it.
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
        el.textContent = left > 0 ? Math.floor(left / 60) + ":" + pad(left % 60) : (el.dataset.timeUp || "Time's up");
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

  // The organizer's controls: another organizer (or another window) may start a
  // round; the page reloads to show it, unless a form field is being used.
  function followControl(el) {
    poll(el.dataset.stateUrl, function (data) {
      if (data.key === el.dataset.key) return;
      const active = document.activeElement;
      if (active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return;
      window.location.reload();
    });
  }

  // "Open the projector": a window of its own, to move to the big screen. The
  // link's target does the same without script.
  function openProjector(link) {
    link.addEventListener("click", function (event) {
      const opened = window.open(link.href, link.target, "popup,width=1280,height=720");
      if (opened) {
        event.preventDefault();
        opened.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    const live = document.querySelector("[data-live]");
    if (live) followPhone(live);
    const control = document.querySelector("[data-control]");
    if (control) followControl(control);
    document.querySelectorAll("[data-open-projector]").forEach(openProjector);
  });
})();
