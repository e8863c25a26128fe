/* Drop zone with a progress bar per file for the material upload form.
 * Each file is sent in its own XMLHttpRequest (so each has its own progress and
 * its own refusal message). Without this script the form posts all files at once. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-drop-zone]");
  var list = form.querySelector("[data-upload-list]");
  var hint = form.querySelector("[data-drop-hint]");
  // The words, in the page's language: a JSON catalogue the template renders
  // (docs/i18n.md); English only for a missing key.
  var t = {};
  try { t = JSON.parse(form.dataset.messages || "{}"); } catch (err) { t = {}; }
  function say(key, fallback, values) {
    var text = t[key] || fallback;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(values[name]);
    });
    return text;
  }
  if (hint) hint.hidden = false;

  function row(file) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " ";
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", say("uploading", "Uploading %(name)s", { name: file.name }));
    var status = document.createElement("small");
    li.appendChild(label);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { li: li, bar: bar, status: status };
  }

  function send(file) {
    var ui = row(file);
    return new Promise(function (resolve) {
      var data = new FormData(form);
      data.delete("files");
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) ui.bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201) {
          ui.bar.value = 100;
          ui.status.textContent = " " + say("uploaded", "Uploaded.");
          ui.li.className = "upload-done";
          resolve(true);
        } else {
          ui.status.textContent = " " + ((body.error && body.error.message) || say("failed", "Upload failed (%(status)s).", { status: xhr.status }));
          ui.li.className = "upload-failed field-error";
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        ui.status.textContent = " " + say("offline", "The connection failed; try again.");
        ui.li.className = "upload-failed field-error";
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function offerRefresh() {
    var done = document.createElement("li");
    var link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = say("refresh", "Refresh the list of your material");
    done.appendChild(link);
    list.appendChild(done);
  }

  // The page's own material list ([data-material-list]) is replaced by the
  // same list from a fresh copy of this page, so new rows come with their
  // delete buttons; if that fails, a link to reload is offered instead.
  function refreshMaterial() {
    var current = document.querySelector("[data-material-list]");
    if (!current || !window.fetch || !window.DOMParser) return offerRefresh();
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-material-list]");
        if (!fresh) throw new Error("no material list");
        current.replaceChildren.apply(current, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(offerRefresh);
  }

  function sendAll(files) {
    if (!files.length) return;
    var jobs = Array.prototype.map.call(files, send);
    Promise.all(jobs).then(function (results) {
      if (results.indexOf(true) !== -1) refreshMaterial();
      input.value = "";
    });
  }

  form.addEventListener("submit", function (e) {
    if (!input.files.length) return; // let the server say what is missing
    e.preventDefault();
    sendAll(input.files);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("drag-over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("drag-over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) sendAll(e.dataTransfer.files);
  });
})();
