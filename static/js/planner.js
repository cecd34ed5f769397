// Planner page: poll a running job, then reload; sort tables by header click.
// Only DOM nodes move; no markup is built from data.
(function () {
  "use strict";
  var status = document.getElementById("plan-status");
  var url = status && (status.dataset.poll || status.dataset.refine);
  if (url) {
    var bar = document.getElementById("plan-progress");
    var poll = function () {
      fetch(url, {headers: {Accept: "application/json"}})
        .then(function (r) {
          if (r.status === 202) {
            r.json().then(function (j) {
              if (bar && typeof j.percent === "number") { bar.value = j.percent; bar.textContent = j.percent + "%"; }
            }).catch(function () {});
            setTimeout(poll, 1000);
            return;
          }
          window.location.reload();
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
  // Choosing a preset fills in its radius and kinds, which the form then sends.
  var preset = document.querySelector(".plan-form select[name=preset]");
  if (preset) {
    preset.addEventListener("change", function () {
      var opt = preset.options[preset.selectedIndex];
      if (!opt || !opt.dataset.radius) { return; }
      document.querySelector(".plan-form input[name=radius]").value = opt.dataset.radius;
      var kinds = opt.dataset.kinds.split(",");
      document.querySelectorAll(".plan-form input[name=kind]").forEach(function (box) {
        box.checked = kinds.indexOf(box.value) >= 0;
      });
    });
  }
  // Numbered sites close together would hide each other's numbers: each number, in
  // rank order, takes the first free place on rings around its point (the point
  // itself first), clear of the numbers already placed and of every other site's
  // point; a leader joins a moved number to its point. Redone at every zoom.
  var LABEL = 26, GAP = 3, STEP = LABEL + GAP, RINGS = 14;
  function hits(a, list) {
    for (var i = 0; i < list.length; i++) {
      var b = list[i];
      if (a.x < b.x + b.w + GAP && b.x < a.x + a.w + GAP && a.y < b.y + b.h + GAP && b.y < a.y + a.h + GAP) { return true; }
    }
    return false;
  }
  function declutter() {
    var icons = Array.prototype.slice.call(document.querySelectorAll(".leaflet-marker-pane .site-marker"))
      .filter(function (el) { return el.offsetParent !== null; });
    var centres = icons.map(function (el) {
      var r = el.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    });
    var placed = [];
    icons.forEach(function (el, i) {
      var cx = centres[i][0], cy = centres[i][1];
      var points = [];
      centres.forEach(function (c, j) { if (j !== i) { points.push({x: c[0] - 4, y: c[1] - 4, w: 8, h: 8}); } });
      var off = null;
      for (var ring = 0; ring < RINGS && !off; ring++) {
        var rad = ring * STEP, slots = ring ? Math.floor(2 * Math.PI * rad / STEP) : 1;
        for (var k = 0; k < slots; k++) {
          var a = -Math.PI / 2 + 2 * Math.PI * k / slots;
          var dx = Math.round(rad * Math.cos(a)), dy = Math.round(rad * Math.sin(a));
          var box = {x: cx + dx - LABEL / 2, y: cy + dy - LABEL / 2, w: LABEL, h: LABEL};
          if (!hits(box, placed) && !hits(box, points)) { off = [dx, dy, box]; break; }
        }
      }
      if (!off) { off = [0, 0, {x: cx - LABEL / 2, y: cy - LABEL / 2, w: LABEL, h: LABEL}]; }
      placed.push(off[2]);
      var num = el.querySelector(".site-num"), line = el.querySelector(".site-leader");
      num.style.transform = off[0] || off[1] ? "translate(" + off[0] + "px," + off[1] + "px)" : "";
      el.classList.toggle("moved", !!(off[0] || off[1]));
      if (line) {
        line.style.width = Math.hypot(off[0], off[1]) + "px";
        line.style.transform = "rotate(" + Math.atan2(off[1], off[0]) + "rad)";
      }
    });
  }
  if (window.L && document.querySelector(".site-marker")) {
    Object.keys(window).forEach(function (k) {
      var m = window[k];
      if (k.indexOf("map_") === 0 && m instanceof window.L.Map) {
        m.on("zoomend viewreset resize overlayadd", function () { setTimeout(declutter, 0); });
      }
    });
    declutter();
  }
  function key(cell, type) {
    if (type === "num") {
      var v = parseFloat(cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent);
      return isNaN(v) ? -Infinity : v;
    }
    return cell.textContent.trim();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.tabIndex = 0;
      if (!th.hasAttribute("aria-sort")) { th.setAttribute("aria-sort", "none"); }
      // The first click puts what matters on top: most people uncovered, lowest shares.
      var first = th.dataset.first || (th.dataset.type === "num" ? "desc" : "asc");
      var sort = function () {
        var cur = th.getAttribute("aria-sort");
        var asc = cur === "none" ? first === "asc" : cur === "descending";
        table.querySelectorAll("thead th").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var type = th.dataset.type;
        rows.sort(function (a, b) {
          var x = key(a.cells[col], type), y = key(b.cells[col], type);
          var c = type === "num" ? x - y : String(x).localeCompare(String(y), "zh");
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
  });
}());
