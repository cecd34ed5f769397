/* "Report a problem" and "still here, all fine" on a station, for the map card
 * and the embed's popup. The report itself is the report page (fixed reasons,
 * honeypot, proof of work, photo); the confirmation is sent from here, after
 * the same self-hosted proof-of-work widget has solved a challenge. The widget's
 * script is loaded on the first tap only: a worker who never confirms never
 * downloads or runs it. Text reaches the page through textContent only. */
(function () {
  "use strict";
  var loading = null;

  function widgetReady(src) {
    if (window.customElements && window.customElements.get("altcha-widget")) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (ok, fail) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = ok;
        s.onerror = function () { loading = null; fail(new Error("widget")); };
        document.head.appendChild(s);
      }).then(function () { return window.customElements.whenDefined("altcha-widget"); });
    }
    return loading;
  }

  /* One solved challenge; the widget shows its progress in `box` meanwhile. */
  function proof(fb, box) {
    if (!fb.challenge) return Promise.resolve("");
    return widgetReady(fb.widgetUrl).then(function () {
      return new Promise(function (ok, fail) {
        var w = document.createElement("altcha-widget");
        w.setAttribute("challengeurl", fb.challengeUrl);
        w.setAttribute("auto", "onload");
        w.setAttribute("hidelogo", "");
        w.setAttribute("hidefooter", "");
        w.setAttribute("strings", JSON.stringify(fb.altchaStrings));
        w.addEventListener("statechange", function (ev) {
          var d = ev.detail || {};
          if (d.state === "verified" && d.payload) ok(d.payload);
          else if (d.state === "error" || d.state === "expired") fail(new Error(d.state));
        });
        box.replaceChildren(w);
      });
    });
  }

  function stationUrl(template, id) { return template.replace("ID0000", encodeURIComponent(id)); }

  /* Send "still here, all fine" for one station; `done` runs after each change of
   * the status line (the embed's popup resizes to it). */
  function confirm(fb, T, id, parts, done) {
    var after = done || function () {};
    parts.button.disabled = true;
    parts.status.textContent = T.checking_human;
    after();
    proof(fb, parts.box).then(function (payload) {
      return fetch(stationUrl(fb.confirmUrl, id), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ altcha: payload, website: "" })
      });
    }).then(function (r) {
      parts.box.replaceChildren();
      parts.status.textContent = r.status === 201 ? T.confirm_sent : T.confirm_failed;
      if (r.status !== 201) parts.button.disabled = false;
      after();
    }).catch(function () {
      parts.box.replaceChildren();
      parts.status.textContent = T.confirm_failed;
      parts.button.disabled = false;
      after();
    });
  }

  window.LocatorFeedback = {
    confirm: confirm,
    reportHref: function (fb, id) { return stationUrl(fb.reportUrl, id); }
  };
}());
