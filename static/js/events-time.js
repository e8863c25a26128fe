// Events: show an event's time in the viewer's own zone too, when it differs
// from the event's zone. The server writes the event's zone; this only adds.
(function () {
  "use strict";
  var viewerZone;
  try {
    viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!viewerZone) return;
  var lang = document.documentElement.lang || undefined; // the page's language

  function parts(date, zone) {
    return new Intl.DateTimeFormat(lang, {
      weekday: "short", day: "numeric", month: "short",
      hour: "2-digit", minute: "2-digit", timeZone: zone
    }).format(date);
  }
  function clock(date, zone) {
    return new Intl.DateTimeFormat(lang, {
      hour: "2-digit", minute: "2-digit", timeZone: zone
    }).format(date);
  }
  function day(date, zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(date);
  }

  document.querySelectorAll("time[data-starts][data-zone]").forEach(function (el) {
    var zone = el.getAttribute("data-zone");
    if (!zone || zone === viewerZone) return;
    var start = new Date(el.getAttribute("data-starts"));
    var end = new Date(el.getAttribute("data-ends"));
    if (isNaN(start) || isNaN(end)) return;
    // Same wall-clock time in both zones: nothing to add.
    if (parts(start, zone) === parts(start, viewerZone)) return;
    var text = parts(start, viewerZone) + "–" +
      (day(start, viewerZone) === day(end, viewerZone) ? clock(end, viewerZone) : parts(end, viewerZone));
    var span = document.createElement("span");
    span.className = "your-time";
    // The words around it in the page's language (data-your-time), else English.
    var words = el.getAttribute("data-your-time") || "({time} your time)";
    span.textContent = " " + words.split("{time}").join(text);
    el.insertAdjacentElement("afterend", span);
  });
})();
