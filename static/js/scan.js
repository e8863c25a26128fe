/* The organizer's scan page: camera → QR code → check-in, with an offline queue.
 *
 * Decoding uses the browser's BarcodeDetector where it reads QR codes, jsQR
 * (static/vendor/jsqr) otherwise. Every scan carries a random nonce; scans made
 * while offline wait in localStorage and are sent when the connection returns.
 * The server remembers nonces, so a scan sent twice never checks anyone in twice.
 * A 503 (the database is briefly away) is retried with the same nonce after its
 * Retry-After, a few times, before the scan joins the offline queue.
 */
(function () {
  "use strict";
  var app = document.getElementById("scan-app");
  if (!app) return;
  var d = app.dataset;
  var QUEUE_KEY = "mixer-scan-queue-" + d.eventId;
  var REPEAT_MS = 4000; // the same code seen again within this time is ignored
  var RETRIES = 5; // a 503 is tried again this many times before the offline queue
  var result = document.getElementById("scan-result");
  var video = document.getElementById("scan-video");
  var canvas = document.getElementById("scan-canvas");
  var startBtn = document.getElementById("scan-start");
  var stopBtn = document.getElementById("scan-stop");
  var note = document.getElementById("scan-camera-note");
  var recent = document.getElementById("scan-recent");
  var search = document.getElementById("scan-search");
  var found = document.getElementById("scan-search-results");
  var queueNote = document.getElementById("scan-queue");
  var stream = null, detector = null, scanning = false, busy = false;
  var lastText = "", lastAt = 0, audio = null;

  function nonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function timeText(iso) {
    try {
      return new Date(iso).toLocaleTimeString([], {
        hour: "2-digit", minute: "2-digit", timeZone: d.timezone
      });
    } catch (e) {
      return new Date(iso).toLocaleTimeString();
    }
  }

  function beep(kind) {
    if (navigator.vibrate) navigator.vibrate(kind === "ok" ? 120 : [90, 60, 90, 60, 90]);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = kind === "ok" ? 880 : kind === "warn" ? 520 : 220;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.15);
    } catch (e) { /* no sound: vibration and colour still tell */ }
  }

  function show(kind, text) {
    result.className = "scan-result scan-" + kind;
    result.textContent = text;
    if (kind !== "idle") beep(kind);
  }

  function setCounts(data) {
    if (typeof data.checked_in === "number") {
      document.getElementById("scan-checked-in").textContent = data.checked_in;
      document.getElementById("scan-registered").textContent = data.registered;
    }
  }

  function addRecent(data) {
    var old = recent.querySelector('[data-registration-id="' + data.registration_id + '"]');
    if (old) old.remove();
    var li = document.createElement("li");
    li.dataset.registrationId = data.registration_id;
    var span = document.createElement("span");
    span.textContent = data.name + " · " + timeText(data.checked_in_at);
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "small outline secondary";
    undo.dataset.undo = data.registration_id;
    undo.textContent = "Undo";
    li.appendChild(span); li.appendChild(undo);
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 10) recent.lastChild.remove();
  }

  function request(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf,
                 "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data, retryAfter: r.headers.get("Retry-After") };
      });
    });
  }

  function answer(res, retried) {
    var data = res.data || {};
    if (res.status === 200) {
      // A retry's replay of "checked_in" is this scan's own check-in.
      if (data.status === "checked_in" && (!data.replayed || retried)) {
        show("ok", "Checked in: " + data.name);
      } else {
        show("warn", data.name + ": already checked in at " + timeText(data.checked_in_at));
      }
      addRecent(data);
      setCounts(data);
    } else {
      var msg = (data.error && data.error.message) || "Not registered for this event";
      show("bad", msg);
    }
  }

  /* --- offline queue ---------------------------------------------------- */
  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); }
    catch (e) { return []; }
  }
  function saveQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    queueNote.hidden = items.length === 0;
    queueNote.textContent = items.length + " scan" + (items.length === 1 ? "" : "s") +
      " waiting for the connection";
  }
  function enqueue(body) {
    var items = queue();
    items.push(body);
    saveQueue(items);
    show("warn", "Offline: scan saved, it will be sent when the connection returns");
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return;
    var items = queue();
    if (!items.length) return;
    flushing = true;
    request("POST", d.checkinUrl, items[0]).then(function (res) {
      if (res.status >= 500) throw new Error("server");
      saveQueue(queue().filter(function (b) { return b.nonce !== items[0].nonce; }));
      answer(res);
      flushing = false;
      flush();
    }).catch(function () { flushing = false; });
  }

  /* POST a scan; on 503 wait Retry-After (1–30 s) and send it again, same nonce. */
  function send(body, attempt) {
    return request("POST", d.checkinUrl, body).then(function (res) {
      if (res.status !== 503 || attempt >= RETRIES) {
        res.retried = attempt > 0;
        return res;
      }
      var seconds = parseInt(res.retryAfter, 10);
      seconds = Math.min(Math.max(isNaN(seconds) ? 2 : seconds, 1), 30);
      show("idle", "Busy, retrying…");
      return new Promise(function (resolve) {
        setTimeout(resolve, seconds * 1000);
      }).then(function () { return send(body, attempt + 1); });
    });
  }

  function checkIn(body) {
    body.nonce = nonce();
    if (!navigator.onLine) { enqueue(body); return; }
    send(body, 0).then(function (res) {
      if (res.status >= 500) { enqueue(body); return; }
      answer(res, res.retried);
    }).catch(function () { enqueue(body); });
  }

  /* --- camera and decoding ---------------------------------------------- */
  function decodeFrame() {
    if (detector) {
      return detector.detect(video).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }).catch(function () { detector = null; return decodeFrame(); });
    }
    if (!window.jsQR || !video.videoWidth) return Promise.resolve(null);
    var scale = Math.min(1, 640 / video.videoWidth);
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    var code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h,
                           { inversionAttempts: "dontInvert" });
    return Promise.resolve(code ? code.data : null);
  }

  function onCode(text) {
    var now = Date.now();
    if (text === lastText && now - lastAt < REPEAT_MS) return;
    lastText = text; lastAt = now;
    checkIn({ url: text });
  }

  function tick() {
    if (!scanning) return;
    if (busy || video.readyState < 2) { setTimeout(tick, 120); return; }
    busy = true;
    decodeFrame().then(function (text) {
      if (text) onCode(text);
    }).catch(function () {}).then(function () {
      busy = false;
      setTimeout(tick, 120);
    });
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.hidden = false;
      note.textContent = "This browser cannot open the camera here (it needs HTTPS). Use the search below.";
      return;
    }
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" } }, audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () {
      scanning = true;
      startBtn.hidden = true; stopBtn.hidden = false; note.hidden = true;
      tick();
    }).catch(function (err) {
      note.hidden = false;
      note.textContent = "The camera could not be opened (" + (err && err.name || "error") +
        "). Allow camera access, or use the search below.";
    });
  }

  function stop() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    startBtn.hidden = false; stopBtn.hidden = true;
  }

  if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") !== -1) {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    }).catch(function () {});
  }

  /* --- undo and manual search ------------------------------------------- */
  app.addEventListener("click", function (event) {
    var undo = event.target.closest("[data-undo]");
    if (undo) {
      var url = d.undoUrl.replace(/0$/, undo.dataset.undo);
      request("DELETE", url).then(function (res) {
        if (res.status !== 200) { show("bad", (res.data.error || {}).message || "Undo failed"); return; }
        var li = recent.querySelector('[data-registration-id="' + res.data.registration_id + '"]');
        if (li) li.remove();
        show("idle", "Check-in undone: " + res.data.name);
        setCounts(res.data);
      });
      return;
    }
    var pick = event.target.closest("[data-checkin]");
    if (pick) checkIn({ registration_id: Number(pick.dataset.checkin) });
  });

  var searchTimer = null;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var q = search.value.trim();
      if (q.length < 2) { found.textContent = ""; return; }
      fetch(d.searchUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          found.textContent = "";
          data.results.forEach(function (p) {
            var li = document.createElement("li");
            var span = document.createElement("span");
            span.textContent = p.name + (p.department ? " · " + p.department : "");
            var btn = document.createElement("button");
            btn.type = "button";
            btn.className = "small";
            btn.dataset.checkin = p.registration_id;
            btn.textContent = p.checked_in_at ? "In at " + timeText(p.checked_in_at) : "Check in";
            btn.setAttribute("aria-label", "Check in " + p.name);
            li.appendChild(span); li.appendChild(btn);
            found.appendChild(li);
          });
          if (!data.results.length) {
            var none = document.createElement("li");
            none.textContent = "Nobody registered matches “" + q + "”.";
            found.appendChild(none);
          }
        });
    }, 250);
  });

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  saveQueue(queue());
  flush();
  start();
})();
