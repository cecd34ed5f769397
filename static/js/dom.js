/* Small helpers shared by the map pages. Text goes in through textContent
 * only, so untrusted station names can never become markup. */
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var v = params[key];
      if (v === undefined || v === null || v === "") return;
      (Array.isArray(v) ? v : [v]).forEach(function (item) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(item));
      });
    });
    return parts.join("&");
  }

  /* One link per navigation service, named in the page's language. Web links
   * open the app where it is installed and still work inside WeChat. */
  function navLinks(box, navigation, T, cls) {
    Object.keys(navigation || {}).forEach(function (svc) {
      var a = el("a", (cls ? cls + " " : "") + "nav-" + svc, T["nav_" + svc] || svc);
      a.href = navigation[svc].web;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      box.appendChild(a);
    });
  }

  /* What the unions and workers said of a station, as badges: a temporary
   * closure with its date, a closure's reason, open reports. Text nodes only:
   * reasons come from staff. ``reasons`` names the report reasons. */
  function notices(props, T, reasons) {
    var out = [];
    if (props.status === "temporarily_closed" && props.reopens_on)
      out.push(el("span", "badge badge-closed-until", T.closed_until.replace("{date}", props.reopens_on)));
    if (props.status === "closed" && props.closed_reason)
      out.push(el("span", "badge badge-closed-reason", T.closed_because.replace("{reason}", props.closed_reason)));
    if (props.reported && props.reported.length) {
      var names = props.reported.map(function (r) { return (reasons || {})[r] || r; });
      out.push(el("span", "badge badge-reported", T.reported.replace("{reasons}", names.join("、"))));
    }
    return out;
  }

  window.LocatorDom = { el: el, query: query, navLinks: navLinks, notices: notices };
})();
