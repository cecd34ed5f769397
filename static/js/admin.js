/* The union's work queue. Case texts come from strangers: textContent only. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("admin-config").textContent);
  var t = cfg.t;
  var status = document.getElementById("admin-status");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    row.appendChild(td);
    return td;
  }

  function resolve(id, outcome, reply) {
    return fetch(cfg.resolveUrl.replace("0000", String(id)), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf},
      body: JSON.stringify({outcome: outcome, reply: reply})
    }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        status.textContent = res[0] === 200 ? t.done : t.failed.replace("{message}", res[1].message);
        load();
      });
  }

  function editButton(id) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = cfg.edit.edit;
    b.setAttribute("data-edit-station", id);
    return b;
  }

  function accept(id, reply) {
    return fetch(cfg.acceptUrl.replace("0000", String(id)), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf},
      body: JSON.stringify({reply: reply})
    }).then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        status.textContent = res[0] === 200 ? t.done : t.failed.replace("{message}", res[1].message);
        load();
      });
  }

  function caseRow(c) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-case", String(c.id));
    var name = cell(tr, c.station_name);
    if (c.escalated) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = " " + t.escalated;
      name.appendChild(tag);
    }
    var what = c.kind === "suggestion" ? t.suggestion : (cfg.reasons[c.reason] || c.reason);
    var reason = cell(tr, what);
    if (c.text) {
      var q = document.createElement("q");
      q.textContent = c.text;
      reason.appendChild(document.createElement("br"));
      reason.appendChild(q);
    }
    (c.photos || []).forEach(function (pid, i) {
      // Served only to officers of this case's area; the link opens it full size.
      var url = cfg.photoUrl.replace("0000", String(pid));
      var a = document.createElement("a");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener";
      a.className = "case-photo";
      var img = document.createElement("img");
      img.src = url;
      img.alt = t.photo.replace("{n}", i + 1);
      img.loading = "lazy";
      img.setAttribute("data-testid", "case-photo");
      a.appendChild(img);
      reason.appendChild(document.createElement("br"));
      reason.appendChild(a);
    });
    cell(tr, c.reports);
    cell(tr, t.days.replace("{n}", Math.floor(c.age_days)));
    var act = cell(tr, "");
    var label = document.createElement("label");
    label.textContent = t.reply;
    var input = document.createElement("input");
    input.maxLength = 500;
    input.setAttribute("data-testid", "reply");
    label.appendChild(input);
    act.appendChild(label);
    if (c.station_id) act.appendChild(editButton(c.station_id));
    if (c.kind === "suggestion") {
      var acc = document.createElement("button");
      acc.type = "button";
      acc.textContent = cfg.edit.accept;
      acc.setAttribute("data-testid", "accept");
      acc.addEventListener("click", function () { accept(c.id, input.value); });
      act.appendChild(acc);
    }
    [["resolved", t.resolve], ["rejected", t.reject]].forEach(function (pair) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = pair[1];
      b.setAttribute("data-testid", pair[0]);
      b.addEventListener("click", function () { resolve(c.id, pair[0], input.value); });
      act.appendChild(b);
    });
    return tr;
  }

  function load() {
    var all = document.getElementById("scope-all").checked;
    fetch(cfg.casesUrl + (all ? "?scope=all" : ""), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        var body = document.querySelector("table.cases tbody");
        body.textContent = "";
        if (!j.cases.length) {
          var tr = document.createElement("tr");
          cell(tr, t.none).colSpan = 5;
          body.appendChild(tr);
        }
        j.cases.forEach(function (c) { body.appendChild(caseRow(c)); });
        var stale = document.querySelector("table.stale tbody");
        stale.textContent = "";
        j.stale.forEach(function (s) {
          var tr = document.createElement("tr");
          cell(tr, s.station_name);
          cell(tr, s.verified_at || t.never);
          cell(tr, "").appendChild(editButton(s.station_id));
          stale.appendChild(tr);
        });
        document.getElementById("stale-count").textContent =
          t.stale_count.replace("{n}", j.stale_count);
      });
  }
  document.getElementById("scope-all").addEventListener("change", load);
  load();
}());
