/* The station-list import: upload for a check, show the row-by-row report, then
 * publish. Every value from the file reaches the page through textContent only. */
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) return;
  var cfg = JSON.parse(document.getElementById("admin-config").textContent);
  var t = cfg["import"];
  var status = document.getElementById("import-status");
  var table = document.getElementById("import-report");
  var publishBtn = document.getElementById("import-publish");
  var token = null;

  function say(text, bad) {
    status.textContent = text;
    status.classList.toggle("status-error", !!bad);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? String(values[k]) : m; });
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    tr.appendChild(td);
  }

  function showReport(rows) {
    var body = table.tBodies[0];
    body.replaceChildren();
    (rows || []).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.severity = r.severity;
      cell(tr, r.row);
      cell(tr, r.column);
      cell(tr, r.value);
      cell(tr, cfg.lang === "en" ? r.reason_en : r.reason_zh);
      cell(tr, t[r.severity] || r.severity);
      body.appendChild(tr);
    });
    table.hidden = !(rows && rows.length);
  }

  function send(url, data) {
    return fetch(url, { method: "POST", body: data, credentials: "same-origin",
                        headers: { "X-CSRFToken": cfg.csrf, Accept: "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) { return { status: r.status, body: b }; });
      });
  }

  function failure(res) {
    var b = res.body || {};
    if (res.status === 422) {
      /* The report leads with the refusal itself (code file_refused), in both languages. */
      var rows = b.report || [];
      var why = rows.filter(function (r) { return r.code === "file_refused"; })[0];
      showReport(rows);
      return fill(t.refused, { message: why ? (cfg.lang === "en" ? why.reason_en : why.reason_zh) : b.message });
    }
    return fill(t.failed, { message: b.message || res.status });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = null;
    publishBtn.hidden = true;
    showReport([]);
    say(t.checking);
    send(cfg.importUrl, new FormData(form)).then(function (res) {
      if (res.status !== 200) { say(failure(res), true); return; }
      var b = res.body;
      showReport(b.report);
      var s = b.summary;
      say(fill(t.summary, { rows: b.rows_read, accepted: b.accepted, rejected: b.rejected,
                            added: s.added, updated: s.updated, removed: s.removed,
                            unchanged: s.unchanged, source: b.source })
          + (b.report.length ? "" : " " + t.no_problems));
      token = b.token;
      publishBtn.hidden = false;
    }).catch(function (err) { say(fill(t.failed, { message: err.message }), true); });
  });

  publishBtn.addEventListener("click", function () {
    if (!token) return;
    publishBtn.disabled = true;
    say(t.publishing);
    send(cfg.publishUrl.replace("TOKEN", encodeURIComponent(token)), new FormData())
      .then(function (res) {
        publishBtn.disabled = false;
        if (res.status !== 200) { say(failure(res), true); return; }
        token = null;
        publishBtn.hidden = true;
        say(res.body.version ? fill(t.published, { version: res.body.version }) : t.nothing);
      }).catch(function (err) { publishBtn.disabled = false; say(fill(t.failed, { message: err.message }), true); });
  });
})();
