/* Report a problem with a station, or confirm it is fine.
 * The server's answer is shown through textContent only. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("report-config").textContent);
  var form = document.getElementById("report-form");
  var status = document.getElementById("report-status");
  var t = cfg.t;

  function say(text, link) {
    status.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = " " + t.follow;
      a.setAttribute("data-testid", "report-ticket-link");
      status.appendChild(a);
    }
    status.focus();
  }

  function proof() {
    var field = form.querySelector('input[name="altcha"]');
    return field ? field.value : "";
  }

  function send(url, body, done) {
    body.website = form.website.value;
    body.altcha = proof();
    if (cfg.challenge && !body.altcha) { say(t.human); return; }
    say(t.sending);
    fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 201) { done(res[1]); } else { say(t.failed.replace("{message}", res[1].message || res[0])); }
        // A solution buys one submission: fetch a fresh challenge for the next one.
        var w = document.querySelector("altcha-widget");
        if (w && w.reset) { w.reset(); if (w.verify) { w.verify(); } }
      })
      .catch(function () { say(t.failed.replace("{message}", "network")); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var picked = form.querySelector('input[name="reason"]:checked');
    if (!picked) { say(t.pick_reason); return; }
    send(cfg.reportUrl, {reason: picked.value, text: form.text.value}, function (j) {
      say(t.sent.replace("{code}", j.code), j.page);
    });
  });
  document.getElementById("confirm").addEventListener("click", function () {
    send(cfg.confirmUrl, {}, function () { say(t.confirmed); });
  });
}());
