/* Offline support for the worker map, feature-detected by the page (iOS
 * WeChat has no service worker and the page works without one).
 *
 * - The shell (the page and its scripts and styles) is stored when the page
 *   asks, and answered from the store first: on a weak link every round trip
 *   the shell saves is 400 ms before the list. The page and Leaflet are
 *   fetched again in the background (stale-while-revalidate), so the next
 *   visit has the current ones; our own scripts and styles carry a content
 *   hash in their URL (?v=), so a stored copy of that URL is never stale.
 * - API answers go to the network first; each good one is kept, and the
 *   last nearest-stations answer is kept under a fixed key as well, so that
 *   an offline visit still lists the stations found last time. Answers from
 *   the store carry "X-Locator-Offline: 1" so the page can mark them as
 *   possibly out of date. */
"use strict";
var CACHE = "locator-v1";
var LAST_NEAREST = "/__last/nearest";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (e) {
  var urls = (e.data && e.data.shell) || [];
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(urls.map(function (u) {
      return fetch(u, { credentials: "same-origin" }).then(function (r) { if (r.ok) return c.put(u, r); }).catch(function () {});
    }));
  }));
});

function offline(resp) {
  if (!resp) return resp;
  var h = new Headers(resp.headers);
  h.set("X-Locator-Offline", "1");
  return resp.blob().then(function (body) {
    return new Response(body, { status: resp.status, statusText: resp.statusText, headers: h });
  });
}

function networkFirst(req, extraKey, revalidate) {
  /* API answers are revalidated (a cheap 304 with the ETag), so that an answer
   * the browser merely remembers is never passed off as a fresh one. */
  return fetch(req, revalidate ? { cache: "no-cache" } : undefined).then(function (resp) {
    if (resp.ok) {
      var copy = resp.clone();
      var copy2 = extraKey ? resp.clone() : null;
      caches.open(CACHE).then(function (c) {
        c.put(req, copy);
        if (copy2) c.put(extraKey, copy2);
      });
    }
    return resp;
  }).catch(function (err) {
    return caches.open(CACHE).then(function (c) {
      return c.match(req, { ignoreVary: true }).then(function (hit) {
        if (hit || !extraKey) return hit;
        return c.match(extraKey);
      });
    }).then(function (hit) {
      if (!hit) throw err;
      return offline(hit);
    });
  });
}

function shellFirst(e, req, revalidate) {
  var net = function () {
    return fetch(req).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        e.waitUntil(caches.open(CACHE).then(function (c) { return c.put(req, copy); }));
      }
      return resp;
    });
  };
  return caches.open(CACHE).then(function (c) { return c.match(req, { ignoreVary: true }); }).then(function (hit) {
    if (!hit) return net();
    if (revalidate) e.waitUntil(net().catch(function () {}));
    return hit;
  });
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;  // map tiles are not ours to keep
  if (url.pathname.indexOf("/api/") === 0) {
    var last = url.pathname === "/api/v1/nearest" ? LAST_NEAREST : null;
    e.respondWith(networkFirst(req, last, true));
  } else if (req.mode === "navigate" && url.pathname === "/") {
    e.respondWith(shellFirst(e, req, true));
  } else if (url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v")) {
    e.respondWith(shellFirst(e, req, false));
  } else if (url.pathname.indexOf("/vendor/") === 0) {
    e.respondWith(shellFirst(e, req, true));
  } else if (url.pathname.indexOf("/static/") === 0) {
    e.respondWith(networkFirst(req, null));
  }
});
