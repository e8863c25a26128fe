/* The scan page: camera → QR code → check-in; manual check-in, walk-ins; offline.
 *
 * One badge held in view is one scan: a code is ignored while it was seen less
 * than HOLD_MS ago (a sliding window: it stays ignored while it stays in view),
 * and a badge this page already checked in, shown again later, gets a quiet
 * note, not a second sound. A different badge is read at once.
 *
 * Every check-in carries a random nonce; the server remembers nonces, and a
 * replayed nonce answers the scan's original result, so a scan sent twice never
 * checks anyone in twice and its answer is always the first one. A 503 is
 * retried with the same nonce after its Retry-After, a few times.
 *
 * Offline: scans wait in localStorage, one item per badge, and are sent in order
 * when the connection returns. The event's door roster (sha256 of each badge
 * token → name, status; badges of the organization's other events → title) is
 * kept in IndexedDB until its keep_until, so offline scans show the person's
 * name and refusals (waitlisted, cancelled, another event). The service worker
 * (scan-sw.js) keeps the page and its files. Signing out forgets the roster and
 * the kept page.
 *
 * Decoding goes through decode(): window.MixerQR.detect when qr-decoder.js is
 * loaded, else the browser's BarcodeDetector, else jsQR.
 */
(function () {
  "use strict";
  var app = document.getElementById("scan-app");
  if (!app) return;
  var d = app.dataset;
  var EVENT_ID = Number(d.eventId);
  var QUEUE_KEY = "mixer-scan-queue-" + d.eventId;
  var HOLD_MS = 3000; // a code seen again within this time of its last sighting is the same scan
  var REMEMBER_MS = 10 * 60 * 1000; // a badge checked in here, shown again: a quiet note
  var RETRIES = 5; // a 503 is tried again this many times before the offline queue
  var CACHE = "mixer-scan-v1"; // the service worker's cache (scan-sw.js)
  var DB_NAME = "mixer-scan", STORE = "rosters";
  var TOKEN_RE = /^[A-Za-z0-9_-]{16,32}$/; // as mixer.checkin.services.TOKEN_RE
  var BADGE_PATH_RE = /\/c\/([^\/?#]+)\/?$/;
  var $ = function (id) { return document.getElementById(id); };
  var result = $("scan-result"), note = $("scan-note");
  var video = $("scan-video"), canvas = $("scan-canvas"), cameraBox = $("scan-camera");
  var startBtn = $("scan-start"), stopBtn = $("scan-stop"), cameraNote = $("scan-camera-note");
  var recent = $("scan-recent"), search = $("scan-search"), found = $("scan-search-results");
  var deskResult = $("scan-desk-result"), queueNote = $("scan-queue"), offlineNote = $("scan-offline");
  var walkinForm = $("walkin-form"), walkinResult = $("walkin-result");
  var stream = null, detector = null, scanning = false, busy = false, audio = null;
  var seen = {}; // code text → {first, last, busy, done, name, time, regId}
  var roster = null; // {keep_until, byHash: Map, elsewhere: Map, raw}
  function noop() {}

  /* The page's words (docs/i18n.md): data-messages holds them in the page's
   * language, with {name} for what the script fills in; a plural is an object
   * of CLDR categories. English is the fallback for a missing key. */
  var MESSAGES = {};
  try { MESSAGES = JSON.parse(d.messages || "{}"); } catch (e) { MESSAGES = {}; }
  var PLURALS = new Intl.PluralRules(document.documentElement.lang || "en");
  function fill(text, values) {
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function t(key, english, values) {
    var text = typeof MESSAGES[key] === "string" ? MESSAGES[key] : english;
    return fill(text, values);
  }
  function tn(key, one, other, n) {
    var forms = MESSAGES[key];
    var text = forms && typeof forms === "object" ? (forms[PLURALS.select(n)] || forms.other) : (n === 1 ? one : other);
    return fill(text, { num: n });
  }

  function nonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* --- times: "22:31 CEST", exactly as the server's localtime filter ------ */
  function zoneFormat(options, locale) {
    try {
      return new Intl.DateTimeFormat(locale || "en-GB", Object.assign({ timeZone: d.timezone }, options));
    } catch (e) { // an unknown zone: the phone's own
      return new Intl.DateTimeFormat(locale || "en-GB", options);
    }
  }
  // English: "22:31", the house style; another language: its own short time with
  // Western digits, as the server's Babel writes it ("22:31", Arabic "10:31 م").
  var LANG = document.documentElement.lang || "en";
  var clockFormat = LANG === "en"
    ? zoneFormat({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    : zoneFormat({ timeStyle: "short" }, LANG + "-u-nu-latn");
  var offsetFormat = zoneFormat({ timeZoneName: "longOffset" });
  var shortFormat = zoneFormat({ timeZoneName: "short" });
  var ABBR = {}; // "+0200" → "CEST": the server's names for the zone's offsets
  (d.tzAbbr || "").split("|").forEach(function (pair) {
    var parts = pair.trim().split(" ");
    if (parts.length === 2) ABBR[parts[0]] = parts[1];
  });
  function zonePart(format, date) {
    var part = format.formatToParts(date).filter(function (p) {
      return p.type === "timeZoneName";
    })[0];
    return part ? part.value : "";
  }
  function timeText(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) return "";
    var m = /GMT([+-])(\d\d):?(\d\d)?/.exec(zonePart(offsetFormat, date));
    var offset = m ? m[1] + m[2] + (m[3] || "00") : "+0000";
    return clockFormat.format(date) + " " + (ABBR[offset] || zonePart(shortFormat, date));
  }

  /* --- feedback ------------------------------------------------------------ */
  function beep(kind) {
    if (navigator.vibrate) navigator.vibrate(kind === "bad" ? [90, 60, 90, 60, 90] : 120);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = kind === "ok" || kind === "queued" ? 880 : kind === "warn" ? 520 : 220;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.15);
    } catch (e) { /* no sound: vibration and colour still tell */ }
  }

  /* The big result; ``quietly`` skips the sound (results of syncing a queue). */
  function show(kind, text, quietly) {
    result.className = "scan-result scan-" + kind;
    result.textContent = text;
    note.textContent = "";
    if (kind !== "idle" && !quietly) beep(kind);
  }

  function setCounts(data) {
    if (typeof data.checked_in === "number") {
      $("scan-checked-in").textContent = data.checked_in;
      $("scan-registered").textContent = data.registered;
    }
  }

  /* --- the recent list (rows as the server renders them) ------------------ */
  function recentRow(row) {
    var li = document.createElement("li");
    li.className = "recent-" + row.kind;
    if (row.registrationId) li.dataset.registrationId = row.registrationId;
    if (row.nonce) li.dataset.nonce = row.nonce;
    var what = document.createElement("span");
    what.className = "recent-what";
    var name = document.createElement("span");
    name.className = "recent-name";
    name.textContent = row.name || t("badge", "Badge");
    var time = document.createElement("time");
    if (row.at) time.dateTime = row.at;
    time.textContent = timeText(row.at);
    var state = document.createElement("span");
    state.className = "recent-state";
    state.textContent = row.state;
    what.append(name, " · ", time, " · ", state);
    li.appendChild(what);
    if (row.registrationId && (row.kind === "ok" || row.kind === "warn")) {
      li.append(" ");
      li.appendChild(undoButton(row.registrationId, row.name, t("undo", "Undo"), "small outline secondary"));
    }
    return li;
  }

  function undoButton(id, name, text, className) {
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = className;
    undo.dataset.undo = id;
    undo.textContent = text;
    undo.setAttribute("aria-label", t("undoOf", "Undo the check-in of {name}", { name: name }));
    return undo;
  }

  function addRecent(row) {
    var old = [];
    if (row.nonce) old = old.concat([].slice.call(recent.querySelectorAll('[data-nonce="' + row.nonce + '"]')));
    if (row.registrationId) {
      old = old.concat([].slice.call(recent.querySelectorAll('[data-registration-id="' + row.registrationId + '"]')));
    }
    var li = recentRow(row);
    if (old.length && old[0].parentNode) {
      if (!row.name) li.querySelector(".recent-name").textContent = old[0].querySelector(".recent-name").textContent;
      recent.replaceChild(li, old[0]);
      old.slice(1).forEach(function (o) { if (o.parentNode) o.remove(); });
    } else {
      recent.insertBefore(li, recent.firstChild);
    }
    while (recent.children.length > 12) recent.lastChild.remove();
  }

  /* --- talking to the server ---------------------------------------------- */
  function request(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf,
                 "Accept": "application/json" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data, retryAfter: r.headers.get("Retry-After"),
                 signedOut: signedOut(r) };
      });
    });
  }

  /* The session is gone: refused, or sent to the sign-in page. */
  function signedOut(r) {
    if (r.status === 401 || r.status === 403) return true;
    return r.redirected && /\/login/.test(new URL(r.url).pathname);
  }

  /* POST a check-in; on 503 wait Retry-After (1–30 s) and send it again, same
   * nonce. ``say`` tells the wait where the person is looking (the big result
   * unless told otherwise). */
  function send(url, body, attempt, say) {
    return request("POST", url, body).then(function (res) {
      if (res.status !== 503 || attempt >= RETRIES) return res;
      var seconds = parseInt(res.retryAfter, 10);
      seconds = Math.min(Math.max(isNaN(seconds) ? 2 : seconds, 1), 30);
      (say || function (text) { show("idle", text); })(t("busy", "Busy, retrying…"));
      return new Promise(function (resolve) {
        setTimeout(resolve, seconds * 1000);
      }).then(function () { return send(url, body, attempt + 1, say); });
    });
  }

  function unreachable(res) { return res.status >= 500 || res.status === 0; }

  /* What a check-in answer means. The status of a replayed nonce is the scan's
   * own first result, so "checked_in" is this scan's check-in either way. */
  function outcome(res) {
    var data = res.data || {};
    if (res.status === 200 || res.status === 201) {
      setCounts(data);
      if (data.status === "checked_in") {
        return { kind: "ok", text: t("checkedInName", "Checked in: {name}", { name: data.name }), state: t("checkedIn", "Checked in"), data: data };
      }
      return { kind: "warn", data: data, state: t("alreadyIn", "Already checked in"),
               text: t("alreadyInAt", "{name}: already checked in at {time}", { name: data.name, time: timeText(data.checked_in_at) }) };
    }
    var message = (data.error && data.error.message) ||
      (res.signedOut ? t("signedOut", "You are signed out: sign in again to check people in.") : t("notRegistered", "Not registered for this event."));
    return { kind: "bad", text: message, state: t("notCheckedIn", "Not checked in: {message}", { message: message }), data: data };
  }

  /* --- the offline queue: one item per badge, sent in order ----------------- */
  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); }
    catch (e) { return []; }
  }
  function saveQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    showQueue(items.length);
  }
  function showQueue(count) {
    queueNote.hidden = count === 0;
    queueNote.textContent = flushing
      ? tn("sending", "Sending {num} saved scan…", "Sending {num} saved scans…", count)
      : tn("waiting", "{num} scan waiting for the connection", "{num} scans waiting for the connection", count);
  }
  /* Add a scan to the queue; false when this badge is already waiting. */
  function enqueue(item) {
    var items = queue();
    if (items.some(function (b) { return b.key === item.key; })) return false;
    items.push(item);
    saveQueue(items);
    return true;
  }
  function bodyOf(item) {
    var body = { nonce: item.nonce };
    if (item.url) body.url = item.url; else body.registration_id = item.registration_id;
    return body;
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return;
    var items = queue();
    if (!items.length) return;
    flushing = true;
    showQueue(items.length);
    var item = items[0];
    send(d.checkinUrl, bodyOf(item), 0).then(function (res) {
      if (unreachable(res)) throw new Error("unreachable");
      if (res.signedOut) {
        show("bad", t("signedOutQueue", "You are signed out: sign in again to send the saved scans."));
        throw new Error("signed out");
      }
      saveQueue(queue().filter(function (b) { return b.nonce !== item.nonce; }));
      synced(item, res);
      flushing = false;
      flush();
    }).catch(function () { flushing = false; showQueue(queue().length); });
  }

  /* A saved scan's answer: on screen and in its row of the recent list. */
  function synced(item, res) {
    var out = outcome(res);
    var data = out.data;
    show(out.kind, out.text, out.kind !== "bad"); // a conflict is worth a sound
    addRecent({ kind: out.kind, nonce: item.nonce, registrationId: data.registration_id,
                name: data.name, at: data.checked_in_at || item.at, state: out.state });
    if (data.registration_id) remember(item.url, data);
    if (item.url && seen[item.url]) seen[item.url].regId = data.registration_id;
  }

  /* --- the roster, for offline scans ---------------------------------------- */
  function idb(mode, work) {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore(STORE, { keyPath: "event_id" });
      };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        var db = open.result, tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      };
    });
  }

  function useRoster(data) {
    if (!data || Date.parse(data.keep_until) <= Date.now()) {
      roster = null;
      idb("readwrite", function (s) { return s.delete(EVENT_ID); }).catch(noop);
      return;
    }
    roster = { keep_until: data.keep_until, raw: data, byHash: new Map(), elsewhere: new Map() };
    (data.entries || []).forEach(function (e) { roster.byHash.set(e.h, e); });
    (data.elsewhere || []).forEach(function (e) { roster.elsewhere.set(e.h, e); });
    offlineNote.hidden = false;
    offlineNote.textContent = tn("offlineReady", "Ready to scan offline: {num} person on this device.",
      "Ready to scan offline: {num} people on this device.", roster.byHash.size);
  }

  function fetchRoster() {
    if (!navigator.onLine) return Promise.resolve();
    return fetch(d.scanUrl + "/roster", {
      credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (signedOut(r)) return forget();
      if (!r.ok) return;
      return r.json().then(function (data) {
        data.event_id = EVENT_ID;
        useRoster(data);
        return idb("readwrite", function (s) { return s.put(data); });
      });
    }).catch(noop);
  }

  var saveTimer = null;
  function saveRoster() { // after online check-ins: the kept roster knows who is in
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      if (roster) idb("readwrite", function (s) { return s.put(roster.raw); }).catch(noop);
    }, 1500);
  }

  /* Forget what this device keeps about people: the roster and the kept page.
   * The queue stays: it holds badge links only, and must not lose check-ins. */
  function forget() {
    roster = null;
    offlineNote.hidden = true;
    return Promise.all([
      idb("readwrite", function (s) { return s.clear(); }).catch(noop),
      window.caches ? caches.delete(CACHE).catch(noop) : null
    ]);
  }

  function tokenFrom(text) {
    var value = (text || "").trim();
    if (value.indexOf("/") !== -1) {
      var path;
      try { path = new URL(value, location.href).pathname; } catch (e) { return null; }
      var m = BADGE_PATH_RE.exec(path);
      if (!m) return null;
      value = m[1];
    }
    return TOKEN_RE.test(value) ? value : null;
  }

  function sha256(text) {
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null); // not HTTPS
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    });
  }

  function lookUp(token) {
    if (!roster) return Promise.resolve(null);
    return sha256(token).then(function (h) {
      if (!h || !roster) return null;
      return { entry: roster.byHash.get(h), elsewhere: roster.elsewhere.get(h) };
    });
  }

  /* Why the roster says someone cannot come in now, or null. */
  function refusal(entry) {
    var name = entry.name;
    switch (entry.status) {
      case "registered": case "confirmed": return null;
      case "waitlisted": return { kind: "warn", text: t("onWaitlist", "{name} is on the waitlist, without a seat: not checked in.", { name: name }) };
      case "pending": case "unconfirmed":
        return { kind: "warn", text: t("unconfirmed", "{name} has not confirmed their e-mail address: not checked in.", { name: name }) };
      case "cancelled": return { kind: "bad", text: t("cancelled", "{name}'s registration was cancelled: not checked in.", { name: name }) };
      default: return { kind: "warn", text: t("otherStatus", "{name}: {status}, not checked in.", { name: name, status: entry.status }) };
    }
  }

  /* After an online answer: the roster and the repeat memory know who is in. */
  function remember(url, data) {
    var token = tokenFrom(url);
    if (token) {
      lookUp(token).then(function (hit) {
        if (hit && hit.entry && data.checked_in_at) {
          hit.entry.checked_in_at = data.checked_in_at;
          saveRoster();
        }
      }).catch(noop);
    }
  }

  /* A scan with no connection: recognised from the roster, queued once. */
  function offlineScan(text, body, mark) {
    var token = tokenFrom(text);
    if (!token) {
      show("bad", t("notBadge", "That is not a Mixer badge code: expected a link ending in /c/<code>."));
      return Promise.resolve();
    }
    return lookUp(token).then(function (hit) {
      var entry = hit && hit.entry;
      if (hit && !entry && hit.elsewhere) {
        show("bad", t("otherEvent", "Not for this event: this badge is for “{title}”.", { title: hit.elsewhere.event_title }));
        return;
      }
      if (entry) {
        var refused = refusal(entry);
        if (refused) { show(refused.kind, refused.text); return; }
        if (entry.checked_in_at) {
          mark.done = true; mark.name = entry.name; mark.time = timeText(entry.checked_in_at);
          show("warn", t("alreadyInAt", "{name}: already checked in at {time}", { name: entry.name, time: mark.time }));
          return;
        }
      }
      var name = entry ? entry.name : "";
      var item = { nonce: body.nonce, url: text, key: "t:" + token, at: new Date().toISOString() };
      mark.done = true; mark.name = name || t("thisBadge", "This badge"); mark.time = timeText(item.at);
      if (!enqueue(item)) {
        note.textContent = t("alreadySaved", "{name} is already saved: it will sync when the connection returns.", { name: mark.name });
        return;
      }
      show("queued", name ? t("savedName", "{name} — saved, will sync", { name: name }) :
        t("savedBadge", "Badge saved — will sync (its name is not on this device's list)"));
      addRecent({ kind: "queued", nonce: item.nonce, name: name, at: item.at,
                  state: t("saved", "Saved — will sync") });
    });
  }

  /* --- scanning: one badge in view is one scan -------------------------------- */
  function onCode(text) {
    var now = Date.now(), mark = seen[text];
    if (mark && (mark.busy || now - mark.last < HOLD_MS)) { mark.last = now; return; }
    if (mark && mark.done && now - mark.first < REMEMBER_MS) {
      mark.last = now;
      note.textContent = mark.name + " was already scanned at " + mark.time + ". Nothing more to do.";
      return;
    }
    mark = seen[text] = { first: now, last: now, busy: true, done: false, name: "", time: "" };
    scanned(text, mark).catch(noop).then(function () {
      mark.busy = false;
      mark.last = Date.now();
    });
  }

  function scanned(text, mark) {
    var body = { url: text, nonce: nonce() };
    if (!navigator.onLine) return offlineScan(text, body, mark);
    return send(d.checkinUrl, body, 0).then(function (res) {
      if (unreachable(res)) return offlineScan(text, body, mark);
      var out = outcome(res), data = out.data;
      show(out.kind, out.text);
      if (out.kind === "bad") return;
      mark.done = true; mark.name = data.name; mark.regId = data.registration_id;
      mark.time = timeText(data.checked_in_at);
      addRecent({ kind: out.kind, registrationId: data.registration_id, name: data.name,
                  at: data.checked_in_at, state: out.state });
      remember(text, data);
    }, function () { return offlineScan(text, body, mark); });
  }

  /* Forget the repeat memory of a registration whose check-in was undone. */
  function forgetSeen(registrationId) {
    Object.keys(seen).forEach(function (text) {
      if (seen[text].regId === registrationId) delete seen[text];
    });
  }

  /* --- camera and decoding ----------------------------------------------------- */
  /* The one decoding call: the text of a QR code in ``source`` (video or canvas), or null. */
  function decode(source) {
    if (window.MixerQR && window.MixerQR.detect) return window.MixerQR.detect(source);
    if (detector) {
      return detector.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }).catch(function () { detector = null; return decode(source); });
    }
    var width = source.videoWidth || source.width, height = source.videoHeight || source.height;
    if (!window.jsQR || !width) return Promise.resolve(null);
    var scale = Math.min(1, 640 / width);
    var w = Math.round(width * scale), h = Math.round(height * scale);
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(source, 0, 0, w, h);
    var code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h,
                           { inversionAttempts: "dontInvert" });
    return Promise.resolve(code ? code.data : null);
  }

  function tick() {
    if (!scanning) return;
    if (busy || video.readyState < 2) { setTimeout(tick, 120); return; }
    busy = true;
    decode(video).then(function (text) {
      if (text) onCode(text);
    }).catch(noop).then(function () {
      busy = false;
      setTimeout(tick, 120);
    });
  }

  function cameraFailed(err) {
    stop();
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      cameraNote.textContent = t("cameraBlocked", "The camera is blocked for this page. Allow it in the browser's " +
        "site settings and tap “Start the camera”, or find people by name below.");
    } else if (name === "NotFoundError" || name === "OverconstrainedError") {
      cameraNote.textContent = t("noCamera", "No camera was found on this device. Find people by name below.");
    } else if (name === "NotReadableError") {
      cameraNote.textContent = t("cameraBusy", "Another app is using the camera. Close it and tap " +
        "“Start the camera”, or find people by name below.");
    } else if (name === "insecure") {
      cameraNote.textContent = t("insecure", "This browser cannot open the camera here (it needs HTTPS). " +
        "Find people by name below.");
    } else {
      cameraNote.textContent = t("cameraFailed", "The camera could not be opened ({error}). Find people by name below.",
        { error: name || "error" });
    }
    cameraNote.hidden = false;
    search.focus();
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraFailed({ name: "insecure" });
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
      startBtn.hidden = true; stopBtn.hidden = false; cameraNote.hidden = true;
      tick();
    }).catch(cameraFailed);
  }

  function stop() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    cameraBox.hidden = true;
    startBtn.hidden = false; stopBtn.hidden = true;
  }

  /* The camera starts by itself when the browser already allows it; otherwise
   * on a tap, when the browser asks (browsers prefer a prompt after a gesture). */
  function autoStart() {
    if (!navigator.permissions || !navigator.permissions.query) { start(); return; }
    navigator.permissions.query({ name: "camera" }).then(function (p) {
      if (p.state === "granted") start();
      else if (p.state === "denied") cameraFailed({ name: "NotAllowedError" });
    }, start); // Safari: no camera permission query
  }

  // No empty black box: the preview shows once frames play.
  video.addEventListener("playing", function () { cameraBox.hidden = !stream; });

  if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") !== -1) {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    }).catch(noop);
  }

  /* --- at the desk: search, check in, undo, give a seat ---------------------- */
  function deskSay(text) {
    deskResult.textContent = text;
    var box = deskResult.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      deskResult.scrollIntoView({ block: "nearest" });
    }
  }

  function personRow(p, viewerGivesSeats) {
    var li = document.createElement("li");
    li.dataset.registrationId = p.registration_id;
    var who = document.createElement("span");
    who.className = "who";
    who.id = "person-" + p.registration_id;
    who.textContent = p.name + (p.department ? " · " + p.department : "");
    if (p.status && p.status !== "registered" && p.status !== "confirmed") {
      var tag = document.createElement("span");
      tag.className = "tag tag-" + p.status;
      tag.textContent = p.status_label || p.status;
      who.append(" ", tag);
    }
    var said = document.createElement("span");
    said.className = "row-result";
    li.dataset.name = p.name;
    li.append(who, said);
    var seatable = (p.status === "waitlisted" || p.status === "pending" || p.status === "unconfirmed");
    if (p.checked_in_at) {
      said.textContent = t("inAt", "In at {time}", { time: timeText(p.checked_in_at) });
      setRowChecked(li, true);
    } else if (p.can_check_in !== false && !seatable && p.status !== "cancelled") {
      setRowChecked(li, false);
    } else if (seatable && viewerGivesSeats && p.can_give_seat !== false) {
      li.appendChild(rowButton(t("giveSeat", "Give a seat and check in"), "seat", p.registration_id, ""));
    }
    return li;
  }

  function rowButton(text, action, id, className) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "small " + className;
    btn.dataset[action] = id;
    btn.textContent = text;
    btn.setAttribute("aria-describedby", "person-" + id);
    return btn;
  }

  /* The row's one button: "Check in", or "Checked in · Undo" once in. */
  function setRowChecked(li, checked) {
    var id = li.dataset.registrationId;
    var old = li.querySelector("button");
    var btn = checked
      ? rowButton(t("checkedInUndo", "Checked in · Undo"), "undo", id, "outline secondary")
      : rowButton(t("checkIn", "Check in"), "checkin", id, "");
    var hadFocus = li.contains(document.activeElement);
    if (old) li.replaceChild(btn, old); else li.appendChild(btn);
    li.querySelectorAll(".row-confirm").forEach(function (c) { c.remove(); });
    if (hadFocus) btn.focus();
  }

  function searchRow(id) {
    return found.querySelector('li[data-registration-id="' + id + '"]');
  }

  function deskAnswer(li, out) {
    var data = out.data;
    var said = li.querySelector(".row-result");
    if (out.kind === "bad") {
      said.textContent = out.text;
      deskSay(out.text);
      beep("bad");
      return;
    }
    said.textContent = out.kind === "ok"
      ? t("checkedInAt", "Checked in at {time}", { time: timeText(data.checked_in_at) })
      : t("alreadyInAtTime", "Already checked in at {time}", { time: timeText(data.checked_in_at) });
    var tag = li.querySelector(".tag");
    if (tag) tag.remove();
    setRowChecked(li, true);
    deskSay(out.text);
    beep(out.kind);
    addRecent({ kind: out.kind, registrationId: data.registration_id, name: data.name,
                at: data.checked_in_at, state: out.state });
  }

  function deskCheckIn(li) {
    var id = Number(li.dataset.registrationId), name = li.dataset.name;
    var body = { registration_id: id, nonce: nonce() };
    function save() {
      var item = { nonce: body.nonce, registration_id: id, key: "r:" + id,
                   at: new Date().toISOString() };
      if (enqueue(item)) {
        addRecent({ kind: "queued", nonce: item.nonce, name: name, at: item.at,
                    state: t("saved", "Saved — will sync") });
      }
      li.querySelector(".row-result").textContent = t("saved", "Saved — will sync");
      deskSay(t("savedName", "{name} — saved, will sync", { name: name }));
    }
    if (!navigator.onLine) { save(); return; }
    send(d.checkinUrl, body, 0, deskSay).then(function (res) {
      if (unreachable(res)) { save(); return; }
      deskAnswer(li, outcome(res));
    }, save);
  }

  function deskUndo(id, li) {
    request("DELETE", d.undoUrl.replace(/0$/, id)).then(function (res) {
      if (res.status !== 200) {
        var message = (res.data.error || {}).message || t("undoFailed", "Undo failed.");
        if (li) deskSay(message); else show("bad", message);
        return;
      }
      var gone = recent.querySelector('[data-registration-id="' + id + '"]');
      if (gone) gone.remove();
      forgetSeen(res.data.registration_id);
      setCounts(res.data);
      var row = searchRow(id);
      if (row) {
        row.querySelector(".row-result").textContent = t("undone", "Check-in undone");
        setRowChecked(row, false);
      }
      if (li) deskSay(t("undoneName", "Check-in undone: {name}", { name: res.data.name }));
      else show("idle", t("undoneName", "Check-in undone: {name}", { name: res.data.name }));
    }, function () {
      var message = t("undoOffline", "Undo needs the connection.");
      if (li) deskSay(message); else show("bad", message);
    });
  }

  function giveSeat(li, overCapacity) {
    var id = li.dataset.registrationId;
    var url = d.scanUrl + "/registrations/" + id + "/seat";
    send(url, { nonce: nonce(), over_capacity: !!overCapacity }, 0, deskSay).then(function (res) {
      var error = (res.data && res.data.error) || {};
      if (res.status === 409 && error.code === "over_capacity") {
        confirmOverCapacity(li, error.message || t("full", "The event is full."));
        return;
      }
      deskAnswer(li, outcome(res));
    }, function () { deskSay(t("seatOffline", "Giving a seat needs the connection.")); });
  }

  /* An explicit second step before going over capacity, in the row itself. */
  function confirmOverCapacity(li, message) {
    li.querySelectorAll(".row-confirm").forEach(function (c) { c.remove(); });
    var box = document.createElement("span");
    box.className = "row-confirm";
    var text = document.createElement("span");
    text.textContent = message + " ";
    var yes = rowButton(t("seatOver", "Yes, give a seat over capacity"), "seatOver", li.dataset.registrationId, "contrast");
    var no = rowButton(t("cancel", "Cancel"), "seatCancel", li.dataset.registrationId, "outline secondary");
    box.append(text, yes, " ", no);
    li.appendChild(box);
    deskSay(t("confirmSeat", "{message} Confirm to give a seat over capacity.", { message: message }));
    yes.focus();
  }

  app.addEventListener("click", function (event) {
    var btn = event.target.closest("button");
    if (!btn || !app.contains(btn)) return;
    var li = btn.closest("li");
    var inSearch = li && found.contains(li);
    if (btn.dataset.undo) { deskUndo(Number(btn.dataset.undo), inSearch ? li : null); return; }
    if (!inSearch) return;
    if (btn.dataset.checkin) deskCheckIn(li);
    else if (btn.dataset.seat) giveSeat(li, false);
    else if (btn.dataset.seatOver) giveSeat(li, true);
    else if (btn.dataset.seatCancel) {
      btn.closest(".row-confirm").remove();
      deskSay(t("noSeat", "No seat given."));
      var seat = li.querySelector("[data-seat]");
      if (seat) seat.focus();
    }
  });

  var searchTimer = null, searchSeq = 0;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  function runSearch() {
    var q = search.value.trim(), seq = ++searchSeq;
    if (q.length < 2) { found.textContent = ""; return; }
    if (!navigator.onLine) { deskSay(t("searchOffline", "Searching needs the connection.")); return; }
    fetch(d.searchUrl + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (seq !== searchSeq) return; // a later search has answered
      found.textContent = "";
      (data.results || []).forEach(function (p) {
        found.appendChild(personRow(p, !!data.can_give_seat));
      });
      if (!(data.results || []).length) {
        var none = document.createElement("li");
        none.textContent = t("nobody", "Nobody matches “{query}”.", { query: q });
        found.appendChild(none);
      }
    }).catch(function () { deskSay(t("searchFailed", "The search did not answer. Try again.")); });
  }

  /* --- walk-ins --------------------------------------------------------------- */
  function fieldError(name, message) {
    var input = walkinForm.elements[name], slot = $("walkin-" + name + "-error");
    if (!input || !slot) return false;
    slot.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return true;
  }

  walkinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    ["name", "email", "department"].forEach(function (f) { fieldError(f, ""); });
    var name = walkinForm.elements.name.value.trim();
    if (!name) {
      fieldError("name", t("enterName", "Enter the person's name."));
      walkinForm.elements.name.focus();
      return;
    }
    sendWalkIn({ name: name, email: walkinForm.elements.email.value.trim(),
                 department: walkinForm.elements.department.value.trim() }, false);
  });

  function sendWalkIn(fields, overCapacity) {
    if (!navigator.onLine) { walkinResult.textContent = t("walkinOffline", "Adding a walk-in needs the connection."); return; }
    var button = walkinForm.querySelector("button[type=submit]");
    button.disabled = true;
    var body = Object.assign({ nonce: nonce() }, fields);
    if (overCapacity) body.over_capacity = true;
    send(d.scanUrl + "/walk-ins", body, 0, function (text) {
      walkinResult.textContent = text;
    }).then(function (res) {
      var error = (res.data && res.data.error) || null;
      if (error) { walkInRefused(fields, error); return; }
      if (res.status !== 200 && res.status !== 201) {
        walkinResult.textContent = t("walkinRetry", "The walk-in could not be added. Try again.");
        return;
      }
      var out = outcome(res), data = out.data;
      walkinResult.textContent = out.text + ". ";
      if (data.badge_url) {
        var link = document.createElement("a");
        link.href = data.badge_url;
        link.textContent = t("badgeFor", "Badge (PDF) for {name}", { name: data.name });
        walkinResult.appendChild(link);
      }
      addRecent({ kind: out.kind, registrationId: data.registration_id, name: data.name,
                  at: data.checked_in_at, state: out.state });
      beep(out.kind);
      walkinForm.reset();
      walkinForm.elements.name.focus();
    }, function () {
      walkinResult.textContent = t("walkinOffline", "Adding a walk-in needs the connection.");
    }).then(function () { button.disabled = false; });
  }

  /* A refused walk-in: errors on their fields; a full event, for organizers,
   * an explicit second step to add them over capacity. */
  function walkInRefused(fields, error) {
    var first = null;
    walkinResult.textContent = error.message || t("walkinFailed", "The walk-in could not be added.");
    if (error.code === "over_capacity") {
      if (d.canGiveSeat !== "1") return;
      var yes = document.createElement("button");
      yes.type = "button";
      yes.className = "small contrast";
      yes.textContent = t("addOver", "Yes, add {name} over capacity", { name: fields.name });
      yes.addEventListener("click", function () { sendWalkIn(fields, true); });
      walkinResult.append(" ", yes);
      yes.focus();
      return;
    }
    Object.keys(error.fields || {}).forEach(function (f) {
      var msg = [].concat(error.fields[f]).join(" ");
      if (fieldError(f, msg) && !first) first = walkinForm.elements[f];
    });
    if (first) first.focus();
  }

  /* --- offline copy, sign-out ---------------------------------------------------- */
  function keepOffline() {
    if (!("serviceWorker" in navigator)) return Promise.resolve();
    return navigator.serviceWorker.register(d.swUrl, { scope: d.scanUrl }).then(function () {
      // The first visit is not controlled yet: keep the page and its files now.
      if (navigator.serviceWorker.controller || !window.caches) return;
      var urls = [d.scanUrl];
      document.querySelectorAll("script[src], link[rel=stylesheet][href], link[rel=icon][href]")
        .forEach(function (el) { urls.push(el.src || el.href); });
      (d.offlineAssets || "").split(/\s+/).forEach(function (u) { if (u) urls.push(u); });
      return caches.open(CACHE).then(function (cache) {
        return Promise.all(urls.map(function (u) {
          var url = new URL(u, location.href);
          if (url.origin !== location.origin) return null;
          return cache.add(url.href).catch(noop);
        }));
      });
    }).catch(noop);
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (new URL(form.action, location.href).pathname !== d.logoutUrl) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var done = function () { form.submit(); };
      Promise.race([forget(), new Promise(function (r) { setTimeout(r, 1500); })]).then(done, done);
    });
  });

  /* --- start ----------------------------------------------------------------- */
  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  window.addEventListener("online", function () { flush(); fetchRoster(); });
  setInterval(flush, 10000);
  showQueue(queue().length);
  // Rows for scans still waiting (the page was reloaded): names from the roster.
  var ready = idb("readonly", function (s) { return s.get(EVENT_ID); })
    .then(useRoster, noop)
    .then(function () {
      return Promise.all(queue().map(function (item) {
        var token = tokenFrom(item.url);
        return (token ? lookUp(token) : Promise.resolve(null)).then(function (hit) {
          addRecent({ kind: "queued", nonce: item.nonce, at: item.at, state: t("saved", "Saved — will sync"),
                      name: hit && hit.entry ? hit.entry.name : "" });
        });
      }));
    })
    .catch(noop);
  Promise.all([ready.then(fetchRoster), keepOffline()]).then(function () {
    app.dataset.offline = roster ? "ready" : "no-roster";
    flush();
  });
  autoStart();
})();
