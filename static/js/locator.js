/* Worker map: nearest list, filters, detail card and viewport markers.
 * Station text is untrusted: it only ever reaches the page through
 * textContent or DOM nodes, never through innerHTML or HTML strings. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("locator-config").textContent);
  var T = cfg.t;
  /* The list needs no map. On a weak link Leaflet (~50 KB) and the viewport
   * markers would share the wire with the first answer, so the map is
   * loaded after that answer is on screen; map work waits in whenMap. */
  var map = null;
  var mapWaiting = [];
  function whenMap(fn) { if (map) fn(); else mapWaiting.push(fn); }
  var init = cfg.initial || {};
  // Filters handed over by an embed's "open the full map" link.
  var state = { kind: (init.kind || [])[0] || "", amenities: (init.amenity || []).slice(),
                openNow: false, here: null, results: [] };
  var layer = null, clusterLayer = null, hereMarker = null;

  var el = window.LocatorDom.el;
  var query = window.LocatorDom.query;

  function getJSON(path, params) {
    return fetch(cfg.api + path + "?" + query(params), { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.message || r.statusText);
          // Answered by the offline worker from an earlier visit.
          if (r.headers.get("X-Locator-Offline") === "1") body.offline = true;
          return body;
        });
      });
  }

  /* Offline support where the browser has it (not in iOS WeChat): the
   * worker keeps this page's shell and the last answers. */
  if ("serviceWorker" in navigator && cfg.serviceWorker && window.isSecureContext) {
    navigator.serviceWorker.register(cfg.serviceWorker, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var shell = [location.pathname + location.search].concat(cfg.mapScripts || [], cfg.mapSheets || []);
      Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=manifest]"), function (n) {
        var u = new URL(n.src || n.href, location.href);
        if (u.origin === location.origin) shell.push(u.pathname + u.search);
      });
      if (reg.active) reg.active.postMessage({ shell: shell });
    }).catch(function () {});
  }

  function filters() {
    return { kind: state.kind, amenity: state.amenities, open_now: state.openNow ? "true" : "" };
  }

  function formatDistance(m) {
    if (m < 1000) return T.metres.replace("{n}", Math.round(m));
    var km = m < 100000 ? (m / 1000).toFixed(1) : Math.round(m / 1000).toLocaleString(cfg.lang === "zh" ? "zh-CN" : "en");
    return T.kilometres.replace("{n}", km);
  }

  function tripText(p) {
    if (p.trip_mode === "drive") return T.drive.replace("{n}", p.drive_min);
    // The API gives no walking minutes past a sensible walking distance.
    if (p.walk_min === null || p.walk_min === undefined) return T.too_far_to_walk;
    // Along the streets when the server has a walking graph; else an estimate.
    return (p.walk_basis === "network" ? T.walk_network : T.walk).replace("{n}", p.walk_min);
  }

  /* API messages are written for developers, in English: the Chinese page
   * shows its own sentence only. */
  function errorText(err) {
    return cfg.lang === "zh" ? T.error : T.error + " (" + err.message + ")";
  }

  function badge(props) {
    var key = props.status === "temporarily_closed" ? "temporarily_closed" : props.open_state;
    var b = el("span", "badge badge-" + (key || "unknown"), T[key] || T.unknown);
    return b;
  }

  function notices(props) { return window.LocatorDom.notices(props, T, cfg.reasons); }

  function chip(label, pressed, onToggle) {
    var b = el("button", "chip", label);
    b.type = "button";
    b.setAttribute("aria-pressed", pressed ? "true" : "false");
    b.addEventListener("click", function () { onToggle(b); });
    return b;
  }

  function buildFilters() {
    var kinds = document.getElementById("kind-filter");
    var all = [["", T.all_kinds]].concat(Object.keys(cfg.kinds).map(function (k) { return [k, cfg.kinds[k]]; }));
    all.forEach(function (pair) {
      var b = chip(pair[1], pair[0] === state.kind, function () {
        state.kind = pair[0];
        Array.prototype.forEach.call(kinds.children, function (c) { c.setAttribute("aria-pressed", "false"); });
        b.setAttribute("aria-pressed", "true");
        refresh();
      });
      b.dataset.kind = pair[0];
      kinds.appendChild(b);
    });
    var amen = document.getElementById("amenity-filter");
    cfg.quickAmenities.forEach(function (code) {
      var b = chip(cfg.amenities[code], state.amenities.indexOf(code) >= 0, function () {
        var i = state.amenities.indexOf(code);
        if (i >= 0) state.amenities.splice(i, 1); else state.amenities.push(code);
        b.setAttribute("aria-pressed", i >= 0 ? "false" : "true");
        refresh();
      });
      b.dataset.amenity = code;
      amen.appendChild(b);
    });
    document.getElementById("open-now").addEventListener("change", function (e) {
      state.openNow = e.target.checked;
      refresh();
    });
  }

  /* ---------- nearest list ---------- */
  /* The status line and the first results must be where the eye is: bring
   * them into view when they have been pushed below the fold. */
  function revealAnswer() {
    var st = document.getElementById("status");
    var r = st.getBoundingClientRect();
    if (r.top < 0 || r.bottom + 120 > window.innerHeight) {
      st.scrollIntoView({ block: "start", behavior: "instant" });
    }
  }

  function setStatus(text, reveal) {
    var st = document.getElementById("status");
    st.textContent = text || "";
    st.classList.toggle("status-error", reveal === "error");
    if (reveal) revealAnswer();
  }

  function renderResults(fc) {
    var list = document.getElementById("results");
    list.replaceChildren();
    state.results = fc.features;
    if (!fc.features.length) { setStatus(T.no_results, true); return; }
    var where = state.placeLabel ? T.from_place.replace("{p}", state.placeLabel) : T.nearest;
    if (fc.query && fc.query.in_service_area === false) where = T.outside_area;
    if (fc.offline) where = T.offline_stale + " " + where;
    setStatus(where);
    document.getElementById("status").classList.toggle("status-stale", !!fc.offline);
    document.getElementById("status").classList.toggle("status-outside", fc.query && fc.query.in_service_area === false);
    fc.features.forEach(function (f, i) {
      var p = f.properties;
      var li = el("li", "result");
      var btn = el("button", "result-btn");
      btn.type = "button";
      btn.dataset.id = p.id;
      var title = el("span", "result-name", p.name);
      var line = el("span", "result-line");
      line.appendChild(el("strong", "dist", formatDistance(p.distance_m)));
      line.appendChild(el("span", "walk", tripText(p)));
      line.appendChild(badge(p));
      notices(p).forEach(function (n) { line.appendChild(n); });
      if (p.demo) line.appendChild(el("span", "badge badge-demo", T.demo_badge));
      btn.appendChild(el("span", "rank", String(i + 1)));
      btn.appendChild(title);
      btn.appendChild(line);
      btn.addEventListener("click", function () { openCard(f); });
      li.appendChild(btn);
      list.appendChild(li);
    });
    revealAnswer();
  }

  function searchFrom(here) {
    state.here = here;
    setStatus(T.locating);
    var p = filters();
    p.lat = here.lat; p.lon = here.lon; p.crs = here.crs || "wgs84";
    p.out_crs = cfg.datum; p.k = cfg.k; p.lang = cfg.lang; p.links = "web";
    p.order = "open_first";
    var placed = state.herePending;
    return getJSON("nearest", p).then(function (fc) {
      renderResults(fc);
      Promise.resolve(placed).then(function () { whenMap(function () { drawAnswer(fc); }); });
    }).catch(function (err) { setStatus(errorText(err), "error"); });
  }

  function drawAnswer(fc) {
    var shown = toMapDatum(fc, fc.query);
    if (hereMarker) map.removeLayer(hereMarker);
    hereMarker = L.circleMarker([shown.lat, shown.lon], { radius: 9, color: "#0b5cff", fillOpacity: 0.9 }).addTo(map);
    if (fc.features.length) {
      var pts = fc.features.slice(0, 3).map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; });
      pts.push([shown.lat, shown.lon]);
      map.fitBounds(pts, { padding: [30, 30], maxZoom: 16 });
    } else {
      map.setView([shown.lat, shown.lon], 14);
    }
  }

  /* Where a WGS-84 position sits on GCJ-02 tiles, asked for alongside the
   * nearest list instead of before it (one round trip less). */
  function placeHere(lat, lon) {
    state.hereMap = null;
    state.herePending = cfg.datum === "wgs84" ? null :
      getJSON("convert", { lat: lat, lon: lon, from: "wgs84", to: cfg.datum }).then(function (c) {
        state.hereMap = { lat: c.lat, lon: c.lon };
      }, function () {});
  }

  function toMapDatum(fc, q) {
    /* The query point comes back in WGS-84; on GCJ-02 tiles place it by the
     * offset of the nearest station, which the server converted for us. */
    if (cfg.datum === "wgs84" || !state.hereMap) return { lat: q.lat, lon: q.lon };
    return state.hereMap;
  }

  /* WeChat's browser often withholds the position; its users need to know
   * the way out (the system browser) and get the search box at once. */
  function locationFailed() {
    var inWeChat = /MicroMessenger/i.test(navigator.userAgent);
    setStatus(inWeChat ? T.geo_denied_wechat : T.geo_denied, "error");
    if (inWeChat) {
      var q = document.getElementById("search-q");
      q.focus({ preventScroll: true });
      q.scrollIntoView({ block: "nearest" });
      revealAnswer();
    }
  }

  function locate() {
    if (!navigator.geolocation) { locationFailed(); return; }
    setStatus(T.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      state.placeLabel = null;
      placeHere(pos.coords.latitude, pos.coords.longitude);
      searchFrom({ lat: pos.coords.latitude, lon: pos.coords.longitude, crs: "wgs84" });
    }, locationFailed, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  /* ---------- detail card ---------- */
  function openCard(f) {
    var p = f.properties;
    document.getElementById("card-name").textContent = p.name;
    var meta = document.getElementById("card-meta");
    meta.replaceChildren(el("span", "kind", cfg.kinds[p.kind] || p.kind), badge(p));
    notices(p).forEach(function (n) { meta.appendChild(n); });
    if (p.access === "members") meta.appendChild(el("span", "badge", T.members));
    if (p.demo) meta.appendChild(el("span", "badge badge-demo", T.demo_badge));
    if (p.distance_m !== undefined) meta.appendChild(el("span", "dist", formatDistance(p.distance_m) + " · " + tripText(p)));
    document.getElementById("card-address").textContent = p.address || "";
    document.getElementById("card-hours").textContent = p.opening_hours_text || p.opening_hours || T.unknown_hours;
    var ul = document.getElementById("card-amenities");
    ul.replaceChildren();
    (p.amenities || []).forEach(function (code) { ul.appendChild(el("li", "amenity amenity-" + code, cfg.amenities[code] || code)); });
    document.getElementById("card-phone").textContent = p.phone
      ? String(p.phone) + (p.demo ? " " + T.demo_phone : "") : T.not_recorded;
    document.getElementById("card-operator").textContent = p.operator || T.not_recorded;
    document.getElementById("card-access").textContent =
      p.access === "members" ? T.members : T.access_public;
    document.getElementById("card-verified").textContent = p.last_verified || p.verified_at || T.not_recorded;
    var call = document.getElementById("card-call");
    // Demo numbers are synthetic: shown as text, never dialable.
    if (p.phone && !p.demo) {
      call.href = "tel:" + String(p.phone).replace(/[^0-9+]/g, ""); call.hidden = false;
    } else { call.hidden = true; }
    var nav = document.getElementById("card-nav");
    nav.replaceChildren();
    window.LocatorDom.navLinks(nav, p.navigation, T, "button");
    var share = document.getElementById("card-share");
    share.href = shareUrl(f.id || p.id);
    walkButton(f.id || p.id);
    cardStation = f.id || p.id;
    document.getElementById("card-report").href = window.LocatorFeedback.reportHref(cfg.feedback, cardStation);
    document.getElementById("card-confirm").disabled = false;
    document.getElementById("card-feedback-status").textContent = "";
    document.getElementById("card-proof").replaceChildren();
    card.open();
  }

  /* The station's 15-minute walk area, along the streets, drawn on the map
   * (server's street graph only). One area at a time; a new card clears it. */
  var walkLayer = null;
  var walkBtn = document.getElementById("card-walk");
  function clearWalk() {
    if (walkLayer) { map.removeLayer(walkLayer); walkLayer = null; }
    walkBtn.setAttribute("aria-pressed", "false");
    walkBtn.textContent = T.walk_area;
  }
  function walkButton(id) {
    walkBtn.hidden = !cfg.walkArea;
    walkBtn.dataset.station = id;
    clearWalk();
  }
  walkBtn.addEventListener("click", function () {
    if (walkLayer) { clearWalk(); return; }
    var id = walkBtn.dataset.station;
    getJSON("stations/" + encodeURIComponent(id) + "/isochrone", { minutes: 15, out_crs: cfg.datum }).then(function (f) {
      if (walkBtn.dataset.station !== id) return;  // another card opened meanwhile
      if (!f.properties.reachable || !f.geometry || !f.geometry.coordinates.length) { setStatus(T.walk_area_none); return; }
      walkLayer = L.geoJSON(f, { interactive: false, style: { color: "#0b7a3b", weight: 2, fillColor: "#2ecc71", fillOpacity: 0.25, className: "walk-area" } }).addTo(map);
      walkBtn.setAttribute("aria-pressed", "true");
      walkBtn.textContent = T.walk_area_hide;
    }).catch(function (err) { setStatus(errorText(err)); });
  });

  var cardStation = null;
  document.getElementById("card-confirm").addEventListener("click", function (e) {
    if (!cardStation) return;
    window.LocatorFeedback.confirm(cfg.feedback, T, cardStation, {
      button: e.currentTarget, box: document.getElementById("card-proof"),
      status: document.getElementById("card-feedback-status") });
  });

  /* A link that opens this page on the same card, in the same language. */
  function shareUrl(id) {
    return location.origin + location.pathname + "?" + query({ station: id, lang: cfg.lang });
  }

  document.getElementById("card-share").addEventListener("click", function (e) {
    var url = e.currentTarget.href;
    var title = document.getElementById("card-name").textContent;
    if (navigator.share) {
      e.preventDefault();
      navigator.share({ title: title, url: url }).catch(function () {});
    } else if (navigator.clipboard && window.isSecureContext) {
      e.preventDefault();
      navigator.clipboard.writeText(url).then(function () { setStatus(T.share_copied); }, function () { location.href = url; });
    }
  });

  function openStation(id, centre) {
    return getJSON("stations/" + encodeURIComponent(id), { out_crs: cfg.datum, lang: cfg.lang }).then(function (f) {
      if (centre) whenMap(function () { map.setView([f.geometry.coordinates[1], f.geometry.coordinates[0]], 16); });
      var known = state.results.filter(function (r) { return r.id === f.id; })[0];
      openCard(known || f);
    }).catch(function (err) { setStatus(errorText(err), "error"); });
  }

  /* ---------- place search ---------- */
  function searchFromWgs(lat, lon) {
    placeHere(lat, lon);
    return searchFrom({ lat: lat, lon: lon, crs: "wgs84" });
  }

  var searchTimer = null, searchToken = null;
  var hitsEl = document.getElementById("search-results");
  function runSearch(text) {
    var token = {};
    searchToken = token;
    if (!text.trim()) { hitsEl.replaceChildren(); return; }
    getJSON("search", { q: text, lang: cfg.lang, limit: 6 }).then(function (body) {
      if (searchToken !== token) return;
      hitsEl.replaceChildren();
      if (!body.results.length) { hitsEl.appendChild(el("li", "search-none", T.search_none)); return; }
      body.results.forEach(function (h) {
        var b = el("button", "search-hit", h.label);
        b.type = "button";
        b.appendChild(el("small", "", h.context));
        b.addEventListener("click", function () {
          hitsEl.replaceChildren();
          document.getElementById("search-q").value = h.label;
          state.placeLabel = h.label;
          searchFromWgs(h.lat, h.lon);
        });
        var li = el("li");
        li.appendChild(b);
        hitsEl.appendChild(li);
      });
    }).catch(function (err) { hitsEl.replaceChildren(el("li", "search-none", errorText(err))); });
  }
  document.getElementById("search-q").addEventListener("input", function (e) {
    clearTimeout(searchTimer);
    var v = e.target.value;
    searchTimer = setTimeout(function () { runSearch(v); }, 200);
  });
  document.getElementById("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(searchTimer);
    runSearch(document.getElementById("search-q").value);
  });

  /* ---------- fallback base map ---------- */
  /* When tiles are blocked or absent, draw our own county outlines so the map
   * still has shape and a tap still means a place. Loaded once, on demand. */
  var outlinesShown = false;
  function showOutlines() {
    if (outlinesShown) return;
    outlinesShown = true;
    getJSON("outlines", { crs: cfg.datum }).then(function (gj) {
      var base = L.geoJSON(gj, {
        interactive: false,
        style: { color: "#6b6b6b", weight: 1, fillColor: "#eef0e8", fillOpacity: 1 }
      });
      base.addTo(map);
      base.bringToBack();
      map.getContainer().classList.add("fallback-base");
      map.getContainer().setAttribute("data-fallback", "outlines");
    }).catch(function () { outlinesShown = false; });
  }

  /* ---------- viewport markers ---------- */
  var pending = null;
  function loadViewport() {
    var b = map.getBounds();
    var p = filters();
    p.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    p.crs = cfg.datum;
    p.lang = cfg.lang;
    // Grid clusters about 70 px apart, so that count bubbles never overlap.
    var size = map.getSize();
    p.grid = Math.max(2, Math.min(32, Math.round(Math.min(size.x, size.y) / 70)));
    var token = {};
    pending = token;
    getJSON("stations", p).then(function (fc) {
      if (pending !== token) return;
      layer.clearLayers();
      clusterLayer.clearLayers();
      fc.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        if (f.properties.cluster) {
          var icon = L.divIcon({ className: "grid-cluster", html: "", iconSize: [44, 44] });
          var m = L.marker([c[1], c[0]], { icon: icon, keyboard: false });
          m.on("add", function () { if (m._icon) m._icon.textContent = String(f.properties.count); });
          m.on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); });
          clusterLayer.addLayer(m);
        } else {
          // Markers stay out of the Tab order: the list is the keyboard path.
          var mk = L.marker([c[1], c[0]], { title: f.properties.name, alt: f.properties.name, keyboard: false });
          mk.stationId = f.id;
          mk.on("click", function () { openStation(f.id); });
          layer.addLayer(mk);
        }
      });
    }).catch(function () {});
  }

  function refresh() {
    if (map) loadViewport();
    if (state.here) searchFrom(state.here);
  }

  /* The card: a modal dialog, and on phones a bottom sheet (sheet.js). */
  var cardEl = document.getElementById("card");
  var card = window.LocatorSheet.attach(cardEl, {
    close: document.getElementById("card-close"),
    grow: document.getElementById("card-grow"),
    fallbackFocus: document.getElementById("panel")
  });
  document.getElementById("locate").addEventListener("click", locate);

  /* ---------- the map, once Leaflet is here ---------- */
  var app = window.locatorApp = { state: state, map: null, layer: null, searchFrom: searchFrom,
                                  locate: locate, openStation: openStation };
  function setupMap() {
    map = window.LocatorMapInit();
    window[cfg.mapName] = map;
    if (init.bounds) map.fitBounds(init.bounds, { animate: false });
    layer = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 50 }) : L.layerGroup();
    clusterLayer = L.layerGroup();
    layer.addTo(map);
    clusterLayer.addTo(map);
    var tileLayers = 0;
    map.eachLayer(function (l) {
      if (l instanceof L.TileLayer) {
        tileLayers += 1;
        l.on("tileerror", showOutlines);
      }
    });
    if (!tileLayers) showOutlines();
    map.on("click", function (e) {
      // A tapped point is in the map's datum; the API converts it.
      state.hereMap = { lat: e.latlng.lat, lon: e.latlng.lng };
      state.herePending = null;
      state.placeLabel = null;
      searchFrom({ lat: e.latlng.lat, lon: e.latlng.lng, crs: cfg.datum });
    });
    map.on("moveend", loadViewport);
    app.map = map;
    app.layer = layer;
    mapWaiting.splice(0).forEach(function (fn) { fn(); });
    loadViewport();
  }

  var mapLoading = false;
  function loadMap() {
    if (mapLoading) return;
    mapLoading = true;
    var urls = cfg.mapScripts || [], sheets = cfg.mapSheets || [];
    if (window.L || !urls.length) { setupMap(); return; }
    // Fetched side by side, scripts run in order; the map starts when all are in.
    var left = urls.length + sheets.length;
    function done() { left -= 1; if (!left) setupMap(); }
    sheets.forEach(function (u) {
      var l = document.createElement("link");
      l.rel = "stylesheet";
      l.href = u;
      l.onload = l.onerror = done;
      document.head.appendChild(l);
    });
    urls.forEach(function (u) {
      var s = document.createElement("script");
      s.src = u;
      s.async = false;
      s.onload = done;
      document.head.appendChild(s);
    });
  }

  buildFilters();
  var first = [];
  if (cfg.fixed) {
    state.hereMap = cfg.fixedMap;
    state.herePending = null;
    first.push(searchFrom({ lat: cfg.fixed.lat, lon: cfg.fixed.lon, crs: "wgs84" }));
  }
  if (cfg.station) first.push(openStation(cfg.station, true));
  if (first.length) Promise.all(first).then(loadMap, loadMap); else loadMap();
})();
