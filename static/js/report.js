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
    // The answer lies below the form on a phone: bring it into view.
    status.focus({preventScroll: true});
    status.scrollIntoView({block: "nearest"});
  }

  function proof() {
    var field = form.querySelector('input[name="altcha"]');
    return field ? field.value : "";
  }

  var mb = Math.floor(cfg.photoMaxBytes / 1048576);

  /* The server's refusals in the page's language; its own message otherwise. */
  function refusal(status, j) {
    if (status === 413) return t.photo_too_big.replace("{mb}", mb);
    if (j && j.field === "photo") return t.photo_bad;
    if (j && j.code === "challenge_failed") return t.challenge_failed;
    return t.failed.replace("{message}", (j && j.message) || status);
  }

  /* JSON, or a multipart form when a photo goes with the report. */
  function payload(body, photo) {
    if (!photo) return {headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    var fd = new FormData();
    Object.keys(body).forEach(function (k) { fd.append(k, body[k]); });
    fd.append("photo", photo);
    return {headers: {}, body: fd};
  }

  function send(url, body, done, photo) {
    body.website = form.website.value;
    body.altcha = proof();
    if (cfg.challenge && !body.altcha) { say(t.human); return; }
    if (photo && photo.size > cfg.photoMaxBytes) { say(t.photo_too_big.replace("{mb}", mb)); return; }
    say(t.sending);
    var p = payload(body, photo);
    fetch(url, {method: "POST", headers: p.headers, body: p.body})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 201) { done(res[1]); } else { say(refusal(res[0], res[1])); }
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
    var photo = form.photo.files && form.photo.files[0];
    send(cfg.reportUrl, {reason: picked.value, text: form.text.value}, function (j) {
      say(t.sent.replace("{code}", j.code), j.page);
    }, photo || null);
  });
  document.getElementById("confirm").addEventListener("click", function () {
    send(cfg.confirmUrl, {}, function () { say(t.confirmed); });
  });
}());
