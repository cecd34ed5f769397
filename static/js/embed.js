/* Embedded map: stations of the current viewport as markers, and the ones
 * nearest the map centre as a short list. Station text only ever reaches the
 * page through textContent, never through HTML strings. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("embed-config").textContent);
  var T = cfg.t;
  var map = window[cfg.mapName];
  var markers = L.layerGroup().addTo(map);
  var clusters = L.layerGroup().addTo(map);
  var listEl = document.getElementById("embed-results");
  var statusEl = document.getElementById("embed-status");
  var byId = {};
  var MAX_LIST = 30;

  var el = window.LocatorDom.el;
  var query = window.LocatorDom.query;

  var here = null;  // the reader's position in WGS-84, once located

  function getJSON(path, params) {
    return fetch(cfg.api + path + "?" + query(params), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(body.message); return body; }); });
  }

  function formatDistance(m) {
    if (m < 1000) return T.metres.replace("{n}", Math.round(m));
    return T.kilometres.replace("{n}", (m / 1000).toFixed(1));
  }

  /* Great-circle distance in metres; within a few metres of the ellipsoid at town scale. */
  function metres(a, b) {
    var r = Math.PI / 180, dlat = (b[1] - a[1]) * r, dlon = (b[0] - a[0]) * r;
    var h = Math.pow(Math.sin(dlat / 2), 2) + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.pow(Math.sin(dlon / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  function popup(p, id, marker) {
    var box = el("div", "embed-pop");
    box.appendChild(el("strong", null, p.name));
    box.appendChild(el("div", null, cfg.kinds[p.kind] || p.kind));
    if (p.address) box.appendChild(el("div", null, p.address));
    if (p.opening_hours_text || p.opening_hours) box.appendChild(el("div", null, T.hours + ": " + (p.opening_hours_text || p.opening_hours)));
    box.appendChild(el("div", "state", "…"));
    box.appendChild(flagsOf(p));
    box.appendChild(feedbackRow(id, marker));
    return box;
  }

  /* The station card's chips (closed until, closed because, reported) and the
   * last check, from the marker's properties and again from the station's own. */
  function flagsOf(p) {
    var row = el("div", "embed-flags");
    window.LocatorDom.notices(p, T, cfg.reasons).forEach(function (b) { row.appendChild(b); });
    if (p.last_verified) row.appendChild(el("span", "embed-verified", T.verified + ": " + p.last_verified));
    return row;
  }

  /* Report (the full form, in a new tab: this page may sit in another site's
   * frame) and a one-tap "still here" sent from the popup itself. */
  function feedbackRow(id, marker) {
    var row = el("div", "embed-feedback");
    var report = el("a", "embed-report", T.report_problem);
    report.href = window.LocatorFeedback.reportHref(cfg.feedback, id);
    report.target = "_blank";
    report.rel = "noopener";
    report.setAttribute("data-testid", "embed-report");
    var ok = el("button", "embed-confirm", T.still_fine);
    ok.type = "button";
    ok.setAttribute("data-testid", "embed-confirm");
    var proofBox = el("div", "proof");
    var status = el("p", "embed-feedback-status");
    status.setAttribute("role", "status");
    status.setAttribute("data-testid", "embed-feedback-status");
    ok.addEventListener("click", function () {
      window.LocatorFeedback.confirm(cfg.feedback, T, id, { button: ok, box: proofBox, status: status },
        function () { marker.getPopup().update(); });
    });
    row.appendChild(report);
    row.appendChild(ok);
    row.appendChild(proofBox);
    row.appendChild(status);
    return row;
  }

  /* Today's state, distance and navigation come from the station itself,
   * fetched when its popup opens; the popup's node is filled in place. */
  function fillPopup(m) {
    var box = m.getPopup().getContent();
    var stateEl = box.querySelector(".state");
    getJSON("stations/" + encodeURIComponent(m.stationId), { lang: cfg.lang }).then(function (f) {
      var p = f.properties;
      var key = p.status === "temporarily_closed" ? "temporarily_closed" : p.open_state;
      var line = T[key] || T.unknown;
      if (here) line += " · " + formatDistance(metres(here, f.geometry.coordinates));
      stateEl.textContent = line;
      stateEl.dataset.state = key || "unknown";
      var flags = box.querySelector(".embed-flags");
      if (flags) flags.replaceWith(flagsOf(p));
      var old = box.querySelector(".nav");
      if (old) old.remove();
      var nav = el("div", "nav");
      nav.setAttribute("aria-label", T.navigate);
      window.LocatorDom.navLinks(nav, p.navigation, T, "");
      box.insertBefore(nav, box.querySelector(".embed-feedback"));
      m.getPopup().update();
    }).catch(function () { stateEl.textContent = T.error; });
  }

  function renderList(features) {
    if (!listEl) return;
    listEl.replaceChildren();
    var c = map.getCenter();
    var near = features.slice().sort(function (a, b) {
      return dist(a, c) - dist(b, c);
    }).slice(0, MAX_LIST);
    near.forEach(function (f) {
      var p = f.properties;
      var li = el("li");
      var b = el("button", "embed-item");
      b.type = "button";
      b.dataset.id = f.id;
      b.appendChild(el("span", "n", p.name));
      b.appendChild(el("span", "m", (cfg.kinds[p.kind] || p.kind) + (p.address ? " · " + p.address : "")));
      b.addEventListener("click", function () {
        var m = byId[f.id];
        map.setView(m.getLatLng(), Math.max(map.getZoom(), 15));
        m.openPopup();
      });
      li.appendChild(b);
      listEl.appendChild(li);
    });
  }

  function dist(f, c) {
    var g = f.geometry.coordinates;
    var dx = (g[0] - c.lng) * Math.cos(c.lat * Math.PI / 180);
    var dy = g[1] - c.lat;
    return dx * dx + dy * dy;
  }

  var pending = null;
  function load() {
    var b = map.getBounds();
    var size = map.getSize();
    var p = { kind: cfg.filter.kind, amenity: cfg.filter.amenity, crs: cfg.datum, limit: cfg.viewLimit, lang: cfg.lang,
              grid: Math.max(2, Math.min(32, Math.round(Math.min(size.x, size.y) / 70))) };
    p.bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    var token = {};
    pending = token;
    getJSON("stations", p)
      .then(function (fc) {
        if (pending !== token) return;
        /* Markers still in view are kept, not redrawn: an open popup pans
         * the map, and a redraw would close it before anyone could read it. */
        var seen = {};
        fc.features.forEach(function (f) { if (!f.properties.cluster) seen[f.id] = true; });
        Object.keys(byId).forEach(function (id) {
          if (!seen[id]) { markers.removeLayer(byId[id]); delete byId[id]; }
        });
        clusters.clearLayers();
        var points = [];
        fc.features.forEach(function (f) {
          var c = f.geometry.coordinates;
          if (f.properties.cluster) {
            var icon = L.divIcon({ className: "grid-cluster", html: "", iconSize: [40, 40] });
            var cm = L.marker([c[1], c[0]], { icon: icon, keyboard: false });
            cm.on("add", function () { if (cm._icon) cm._icon.textContent = String(f.properties.count); });
            cm.on("click", function () { map.setView([c[1], c[0]], map.getZoom() + 2); });
            clusters.addLayer(cm);
          } else {
            if (!byId[f.id]) {
              var m = L.marker([c[1], c[0]], { title: f.properties.name, alt: f.properties.name, keyboard: false });
              m.stationId = f.id;
              m.bindPopup(popup(f.properties, f.id, m), { autoPanPadding: [10, 10] });
              m.on("popupopen", function () { fillPopup(m); });
              markers.addLayer(m);
              byId[f.id] = m;
            }
            points.push(f);
          }
        });
        if (statusEl) {
          statusEl.textContent = fc.clustered ? T.zoom_in_count.replace("{n}", fc.numberMatched)
            : (points.length ? "" : T.no_results);
        }
        renderList(points);
      })
      .catch(function () { if (statusEl) statusEl.textContent = T.error; });
  }

  /* ---------- search and locate ---------- */
  var hits = document.getElementById("embed-hits");
  function goTo(lat, lon, zoom) {
    var show = function (c) { map.setView([c.lat, c.lon], zoom); };
    if (cfg.datum === "wgs84") { show({ lat: lat, lon: lon }); return; }
    getJSON("convert", { lat: lat, lon: lon, from: "wgs84", to: cfg.datum }).then(show, function () { show({ lat: lat, lon: lon }); });
  }
  function runSearch(text) {
    if (!text.trim()) { hits.replaceChildren(); return; }
    getJSON("search", { q: text, lang: cfg.lang, limit: 5 }).then(function (body) {
      hits.replaceChildren();
      if (!body.results.length) { hits.appendChild(el("li", null, T.search_none)); return; }
      body.results.forEach(function (h) {
        var b = el("button", "embed-hit", h.label);
        b.type = "button";
        b.addEventListener("click", function () { hits.replaceChildren(); goTo(h.lat, h.lon, 15); });
        var li = el("li");
        li.appendChild(b);
        hits.appendChild(li);
      });
    }).catch(function () { hits.replaceChildren(el("li", null, T.error)); });
  }
  document.getElementById("embed-search").addEventListener("submit", function (e) {
    e.preventDefault();
    runSearch(document.getElementById("embed-q").value);
  });
  document.getElementById("embed-locate").addEventListener("click", function () {
    if (!navigator.geolocation) { if (statusEl) statusEl.textContent = T.geo_denied; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      here = [pos.coords.longitude, pos.coords.latitude];
      goTo(here[1], here[0], 15);
    }, function () { if (statusEl) statusEl.textContent = T.geo_denied; }, { timeout: 10000, maximumAge: 60000 });
  });

  // Without animation the view is final before the first load, so no request is wasted.
  if (cfg.bounds) map.fitBounds(cfg.bounds, { animate: false });
  map.on("moveend", load);
  load();
  window.locatorEmbed = { map: map, markers: markers, clusters: clusters, config: cfg };
})();
