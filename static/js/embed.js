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

  function popup(p) {
    var box = el("div", "embed-pop");
    box.appendChild(el("strong", null, p.name));
    box.appendChild(el("div", null, cfg.kinds[p.kind] || p.kind));
    if (p.address) box.appendChild(el("div", null, p.address));
    if (p.opening_hours) box.appendChild(el("div", null, T.hours + ": " + p.opening_hours));
    return box;
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
    fetch(cfg.api + "stations?" + query(p), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(body.message); return body; }); })
      .then(function (fc) {
        if (pending !== token) return;
        markers.clearLayers();
        clusters.clearLayers();
        byId = {};
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
            var m = L.marker([c[1], c[0]], { title: f.properties.name, alt: f.properties.name });
            m.stationId = f.id;
            m.bindPopup(popup(f.properties));
            markers.addLayer(m);
            byId[f.id] = m;
            points.push(f);
          }
        });
        if (statusEl) {
          statusEl.textContent = fc.clustered ? (cfg.lang === "zh" ? "共 " + fc.numberMatched + " 个站点，放大地图查看" : fc.numberMatched + " stations: zoom in to list them")
            : (points.length ? "" : T.no_results);
        }
        renderList(points);
      })
      .catch(function (err) { if (statusEl) statusEl.textContent = T.error + " (" + err.message + ")"; });
  }

  // Without animation the view is final before the first load, so no request is wasted.
  if (cfg.bounds) map.fitBounds(cfg.bounds, { animate: false });
  map.on("moveend", load);
  load();
  window.locatorEmbed = { map: map, markers: markers, clusters: clusters, config: cfg };
})();
