/* The scan page's service worker: the page and its scripts and styles offline.
 *
 * Served as /events/<id>/scan/sw.js with the scope /events/<id>/scan (the view
 * sends Service-Worker-Allowed), so it controls that one scan page and nothing
 * else of the site. Network first: online, the page and files come from the
 * server as usual and a copy is kept; with no connection (or a server error
 * for the page) the kept copy answers. The JSON endpoints (check-ins, search,
 * the roster) are never kept: they pass straight through. The page fills the
 * cache on its first visit (scan.js, before this worker controls it) and
 * empties it on sign-out.
 */
"use strict";

var CACHE = "mixer-scan-v1";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function scopePath() {
  return new URL(self.registration.scope).pathname;
}

function keep(request, response, key) {
  if (!response.ok || response.redirected || response.type !== "basic") return;
  var copy = response.clone();
  caches.open(CACHE).then(function (cache) { return cache.put(key, copy); });
}

function fromCache(key) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(key);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" && url.pathname === scopePath();
  if (!page && url.pathname.indexOf("/static/") !== 0) return;
  // The page is kept under its path alone: ?query variants open the same copy.
  var key = page ? url.origin + url.pathname : request.url;
  event.respondWith(
    fetch(request).then(function (response) {
      if (page && response.status >= 500) {
        return fromCache(key).then(function (hit) { return hit || response; });
      }
      keep(request, response, key);
      return response;
    }, function (error) {
      return fromCache(key).then(function (hit) {
        if (hit) return hit;
        throw error;
      });
    })
  );
});
