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

  window.LocatorDom = { el: el, query: query, navLinks: navLinks };
})();
