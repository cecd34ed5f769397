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

  window.LocatorDom = { el: el, query: query };
})();
