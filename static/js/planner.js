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
