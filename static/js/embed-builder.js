/* Embed builder: form -> embed URL -> /oembed (which writes the snippet) -> preview. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("builder-config").textContent);
  var T = cfg.t;
  var form = document.getElementById("builder");
  var out = document.getElementById("snippet");
  var errorEl = document.getElementById("builder-error");
  var preview = document.getElementById("preview");
  var lastSrc = null;

  function embedQuery() {
    var parts = [];
    function add(k, v) { if (v !== "" && v !== null && v !== undefined) parts.push([k, v]); }
    var kinds = [].slice.call(form.querySelectorAll("input[name=kind]:checked")).map(function (i) { return i.value; });
    var amen = [].slice.call(form.querySelectorAll("input[name=amenity]:checked")).map(function (i) { return i.value; });
    add("kind", kinds.join(","));
    add("amenity", amen.join(","));
    add("region", form.region.value);
    add("bbox", form.bbox.value.trim());
    add("center", form.center.value.trim());
    add("zoom", form.zoom.value.trim());
    add("lang", form.lang.value);
    if (!form.list.checked) add("list", "false");
    if (form.theme.value !== "light") add("theme", form.theme.value);
    var accent = form.accent.value.replace("#", "").toLowerCase();
    if (accent && accent !== cfg.defaultAccent) add("accent", accent);
    return parts.map(function (p) { return encodeURIComponent(p[0]) + "=" + encodeURIComponent(p[1]); }).join("&");
  }

  function numbers(text, n) {
    var parts = text.split(",");
    if (parts.length !== n) return null;
    var out = parts.map(function (p) { return p.trim() === "" ? NaN : Number(p); });
    return out.every(isFinite) ? out : null;
  }

  /* The form's mistakes, in the page's language. The server checks the same
   * rules; its messages are written for developers, in English, so a rule it
   * alone catches is reported with the page's own general sentence. */
  function formError() {
    var bad = ["zoom", "width", "height"].filter(function (n) { return !form[n].validity.valid; });
    if (bad.length) return T["err_" + bad[0]];
    var bbox = form.bbox.value.trim();
    if (bbox && !form.region.value) {
      var b = numbers(bbox, 4);
      if (!b || b[0] >= b[2] || b[1] >= b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90)
        return T.err_bbox;
    }
    var center = form.center.value.trim();
    if (center) {
      var c = numbers(center, 2);
      if (!c || Math.abs(c[0]) > 90 || Math.abs(c[1]) > 180) return T.err_center;
    }
    return "";
  }

  var latest = 0;
  function update() {
    // Answers can arrive out of order; only the newest request may touch the page.
    var mine = ++latest;
    var problem = formError();
    if (problem) { errorEl.textContent = problem; return; }
    var q = embedQuery();
    var url = cfg.base + "/embed" + (q ? "?" + q : "");
    var params = "url=" + encodeURIComponent(url) + "&maxwidth=" + encodeURIComponent(form.width.value) +
      "&maxheight=" + encodeURIComponent(form.height.value) + "&format=json";
    fetch(cfg.oembed + "?" + params, { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (b) { if (!r.ok) throw new Error(T.err_other); return b; },
                             function () { throw new Error(T.err_other); });
      }, function () { throw new Error(T.err_network); })
      .then(function (o) {
        if (mine !== latest) return;
        errorEl.textContent = "";
        out.value = o.html;
        // Build the preview from DOM calls; the snippet text is shown, not parsed.
        var src = new DOMParser().parseFromString(o.html, "text/html").querySelector("iframe").getAttribute("src");
        if (src !== lastSrc || preview.firstChild === null ||
            preview.firstChild.width !== String(o.width) || preview.firstChild.height !== String(o.height)) {
          var f = document.createElement("iframe");
          f.src = src; f.width = String(o.width); f.height = String(o.height);
          f.title = o.title; f.style.border = "0"; f.style.maxWidth = "100%";
          preview.replaceChildren(f);
          lastSrc = src;
        }
      })
      .catch(function (err) { if (mine === latest) errorEl.textContent = err.message; });
  }

  document.getElementById("copy").addEventListener("click", function () {
    var done = function () { document.getElementById("copied").textContent = T.copied; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(out.value).then(done, function () { out.select(); document.execCommand("copy"); done(); });
    } else {
      out.select(); document.execCommand("copy"); done();
    }
  });
  form.addEventListener("change", update);
  form.addEventListener("input", function (e) { if (e.target.type !== "text" && e.target.tagName !== "INPUT") update(); });
  update();
  window.locatorBuilder = { update: update, embedQuery: embedQuery };
})();
