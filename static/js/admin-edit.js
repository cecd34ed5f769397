/* Editing one station from the work queue. Values from the server are set as
 * properties (value, textContent), never parsed as HTML. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("admin-config").textContent);
  var e = cfg.edit;
  var form = document.getElementById("edit-form");
  var fields = document.getElementById("edit-fields");
  var line = document.getElementById("edit-status-line");
  var current = { id: null, etag: null };

  function url(id) { return cfg.stationUrl.replace("ID0000", encodeURIComponent(id)); }

  function say(text, bad) {
    line.textContent = text;
    line.classList.toggle("status-error", !!bad);
  }

  function explain(status, body) {
    var msg = (body && body.message) || String(status);
    if (status === 409 && body && body.code === "edit_conflict") return e.stale;
    if (status === 403) return e.forbidden;
    if (status === 409) return e.conflict.replace("{message}", (body && e["code_" + body.code]) || msg);
    if (status === 400) {
      var label = (body && body.field && e[body.field]) || (body && body.field) || "";
      return e.invalid.replace("{field}", label).replace("{message}", msg);
    }
    return e.failed.replace("{message}", msg);
  }

  var conflictBox = document.getElementById("edit-conflict");
  var latest = null;

  /* A value of either version in words: status and amenity labels, not codes. */
  function shown(key, v) {
    if (v === null || v === undefined || v === "") return e.empty;
    if (key === "status") return cfg.statusLabels[v] || String(v);
    if (key === "amenities") {
      var list = Array.isArray(v) ? v : String(v).split(";");
      return list.length ? list.map(function (a) { return cfg.amenityLabels[a] || String(a); }).join("、") : e.empty;
    }
    return String(v);
  }

  function cell(tag, text) {
    var c = document.createElement(tag);
    c.textContent = text;
    return c;
  }

  /* The 409 of a stale edit: the version saved meanwhile beside the one sent.
   * The form keeps what the officer typed until they choose to reload. */
  function showConflict(j) {
    var rows = document.getElementById("edit-conflict-rows");
    rows.replaceChildren();
    Object.keys(j.submitted || {}).forEach(function (key) {
      var tr = document.createElement("tr");
      var now = shown(key, j.current[key]), mine = shown(key, j.submitted[key]);
      tr.className = now === mine ? "same" : "differs";
      tr.dataset.field = key;
      tr.appendChild(cell("th", e[key] || key));
      tr.appendChild(cell("td", now));
      tr.appendChild(cell("td", mine));
      rows.appendChild(tr);
    });
    // The 409 carries the live record and its ETag, read under the writer lock: a
    // fresh GET could still be answered from this process's older copy.
    latest = { station: j.current, etag: j.etag };
    conflictBox.hidden = false;
    say(e.stale, true);
  }

  function fill(st, etag) {
    conflictBox.hidden = true;
    current = { id: st.id, etag: etag, lon: String(st.lon), lat: String(st.lat) };
    document.getElementById("edit-id").value = st.id;
    document.getElementById("edit-name").textContent = e.loaded.replace("{name}", st.name || st.id);
    document.getElementById("edit-status").value = st.status || "open";
    document.getElementById("edit-reopens").value = st.reopens_on || "";
    document.getElementById("edit-reason").value = st.closed_reason || "";
    document.getElementById("edit-hours").value = st.opening_hours || "";
    document.getElementById("edit-phone").value = st.phone || "";
    document.getElementById("edit-lon").value = st.lon;
    document.getElementById("edit-lat").value = st.lat;
    document.getElementById("edit-merge").value = "";
    var have = {};
    (st.amenities || []).forEach(function (a) { have[a] = true; });
    form.querySelectorAll("input[name=amenities]").forEach(function (box) { box.checked = !!have[box.value]; });
    fields.disabled = false;
  }

  function load(id, note) {
    return fetch(url(id), { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { fields.disabled = true; say(explain(r.status, j), true); return; }
        fill(j.station, j.etag);
        if (note) say(note, true); else say("");
      });
    });
  }

  function send(body) {
    return fetch(url(current.id), {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cfg.csrf, "If-Match": current.etag },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.ok) { fill(j.station, j.etag); say(e.saved); return; }
        if (r.status === 409 && j.code === "edit_conflict" && j.current) { showConflict(j); return; }
        say(explain(r.status, j), true);
      });
    }).catch(function (err) { say(e.failed.replace("{message}", err.message), true); });
  }

  function edited() {
    var body = {
      status: document.getElementById("edit-status").value,
      opening_hours: document.getElementById("edit-hours").value,
      phone: document.getElementById("edit-phone").value,
      amenities: Array.prototype.map.call(form.querySelectorAll("input[name=amenities]:checked"),
        function (b) { return b.value; })
    };
    if (body.status === "temporarily_closed") body.reopens_on = document.getElementById("edit-reopens").value;
    if (body.status === "closed") body.closed_reason = document.getElementById("edit-reason").value;
    var lon = document.getElementById("edit-lon").value, lat = document.getElementById("edit-lat").value;
    // Only a moved point is sent: the county is recomputed from it on the server.
    if (lon !== current.lon || lat !== current.lat) { body.lon = Number(lon); body.lat = Number(lat); }
    return body;
  }

  document.getElementById("edit-reload").addEventListener("click", function () {
    if (!latest) return;
    fill(latest.station, latest.etag);
    latest = null;
    say("");
    document.getElementById("edit-status").focus();
  });
  document.getElementById("edit-load").addEventListener("click", function () {
    var id = document.getElementById("edit-id").value.trim();
    if (id) load(id);
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); if (current.id) send(edited()); });
  document.getElementById("edit-merge-go").addEventListener("click", function () {
    var into = document.getElementById("edit-merge").value.trim();
    if (current.id && into) send({ merge_into: into });
  });
  /* Rows of the queue name their station: an Edit button there opens it here. */
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-edit-station]");
    if (!b) return;
    load(b.getAttribute("data-edit-station")).then(function () {
      document.getElementById("edit-heading").scrollIntoView();
    });
  });
  window.locatorEdit = { load: load };
}());
