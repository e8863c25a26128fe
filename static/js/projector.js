// The projector: follows the room through state.json (the organizer drives it
// from the plan page), keeps the countdown, fits every table on the screen and
// offers full screen (the button, or the F key). The page is readable without it.
(function () {
  "use strict";

  const POLL_MS = 1500;
  const MIN_FONT = 8; // px: the search's floor (a fit is taken even if smaller)
  const MAX_FONT = 120;
  const MAX_COLUMNS = 16;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // --- The countdown: seconds left from the server, counted down here (the
  // projector's own clock may be wrong; only its rate matters).
  function Clock(root) {
    const el = root.querySelector("[data-countdown]");
    const flag = root.querySelector("[data-paused-flag]");
    let deadline = null; // performance.now() at which the round ends
    let timer = null;

    function show(left) {
      el.textContent = left > 0 ? Math.floor(left / 60) + ":" + pad(left % 60) : (el.dataset.timeUp || "Time's up");
      el.classList.toggle("is-over", left === 0);
    }
    function tick() {
      timer = null;
      if (deadline === null) return;
      const left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
      show(left);
      if (left > 0) timer = window.setTimeout(tick, 250);
    }
    function set(secondsLeft, paused, minutes) {
      flag.hidden = !paused;
      el.classList.toggle("is-waiting", secondsLeft === null);
      if (secondsLeft === null) {
        deadline = null;
        el.textContent = minutes + ":00";
        return;
      }
      if (paused) {
        deadline = null;
        show(secondsLeft);
        return;
      }
      const wanted = performance.now() + secondsLeft * 1000;
      // Keep a steady tick: only move the deadline when it is off by a second.
      if (deadline === null || Math.abs(deadline - wanted) > 1000) deadline = wanted;
      if (timer === null) tick();
    }
    return { set: set };
  }

  // --- Fitting: the column count and type size that show every table, largest
  // type first. Each try is one layout of the list; a few hundred at most.
  function fits(list) {
    if (list.scrollHeight > list.clientHeight + 1 || list.scrollWidth > list.clientWidth + 1) return false;
    // A name longer than its column would spill out of its box: smaller type.
    for (const item of list.children) {
      if (item.scrollWidth > item.clientWidth + 1) return false;
    }
    return true;
  }

  function fit(list) {
    const count = list.children.length;
    if (!count) return;
    list.classList.add("is-fitted");
    let best = { columns: 1, font: MIN_FONT };
    const most = Math.min(count, MAX_COLUMNS);
    for (let columns = 1; columns <= most; columns++) {
      if (columns > 1 && Math.ceil(count / columns) === Math.ceil(count / (columns - 1))) continue;
      list.style.setProperty("--columns", columns);
      let low = MIN_FONT;
      let high = MAX_FONT;
      list.style.setProperty("--table-font", low + "px");
      if (!fits(list)) continue;
      while (high - low > 0.5) {
        const mid = (low + high) / 2;
        list.style.setProperty("--table-font", mid + "px");
        if (fits(list)) low = mid;
        else high = mid;
      }
      if (low > best.font) best = { columns: columns, font: low };
    }
    list.style.setProperty("--columns", best.columns);
    list.style.setProperty("--table-font", Math.floor(best.font * 10) / 10 + "px");
    list.dataset.columns = best.columns;
    list.dataset.font = Math.floor(best.font * 10) / 10;
  }

  function fitAll(root) {
    const list = root.querySelector("[data-tables]");
    if (list) fit(list);
  }

  // --- Full screen: the button (shown only where the Fullscreen API works) and F.
  function fullScreen(root) {
    const button = root.querySelector("[data-fullscreen]");
    if (!button || !document.fullscreenEnabled) return;
    button.hidden = false;
    function toggle() {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(function () { /* refused */ });
    }
    button.addEventListener("click", toggle);
    document.addEventListener("keydown", function (event) {
      if (event.key !== "f" && event.key !== "F") return;
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      toggle();
    });
    document.addEventListener("fullscreenchange", function () {
      // The words in the page's language (data-leave / data-enter), English when missing.
      button.firstChild.textContent = (document.fullscreenElement
        ? (button.dataset.leave || "Leave full screen") : (button.dataset.enter || "Full screen")) + " ";
    });
  }

  // --- Following the room.
  function follow(root, clock) {
    const room = root.querySelector("[data-room]");
    const label = root.querySelector("[data-round-label]");
    let busy = false;
    window.setInterval(function () {
      if (busy) return;
      busy = true;
      fetch(root.dataset.stateUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      })
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (data) {
          if (!data) return;
          clock.set(data.seconds_left, data.paused, data.minutes);
          if (label.textContent !== data.label) {
            label.textContent = data.label;
            document.title = data.label + " · " + document.title.split(" · ").slice(1).join(" · ");
          }
          if (data.version === root.dataset.version) return;
          root.dataset.version = data.version;
          room.innerHTML = data.html;
          fitAll(root);
        })
        .catch(function () { /* the network blinked: next time */ })
        .finally(function () { busy = false; });
    }, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const root = document.querySelector("[data-projector]");
    if (!root) return;
    const clock = Clock(root);
    const left = root.dataset.secondsLeft;
    clock.set(left === "" ? null : Number(left), root.dataset.paused === "1", root.dataset.minutes);
    fitAll(root);
    let pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { fitAll(root); }, 100);
    });
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () { fitAll(root); });
    fullScreen(root);
    follow(root, clock);
  });
})();
