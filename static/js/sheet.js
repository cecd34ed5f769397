/* The station card as a modal dialog that is, on phones, a bottom sheet.
 *
 * Dialog: focus moves in on opening, Tab and Shift+Tab stay inside, Esc and
 * the close button close it, and focus goes back to what opened it.
 * Sheet (phones, by CSS): half the screen at first, so the map stays in view
 * above it; its handle expands it to the whole screen and back, by a tap, the
 * keyboard or a drag; dragged well down, it closes. */
(function () {
  "use strict";

  function attach(el, parts) {
    var opener = null;
    var grow = parts.grow;
    var drag = null;

    function setSheet(expanded) {
      el.classList.toggle("expanded", expanded);
      el.style.height = "";
      grow.setAttribute("aria-expanded", expanded ? "true" : "false");
      grow.querySelector(".grow-label").textContent = expanded ? grow.dataset.less : grow.dataset.more;
    }

    /* Shows the card (its content already filled in); a card already open
     * keeps its opener and its height. */
    function open() {
      if (el.hidden) {
        opener = document.activeElement;
        el.hidden = false;
        setSheet(false);
        el.scrollTop = 0;
      }
      parts.close.focus();
    }

    function close() {
      el.hidden = true;
      setSheet(false);
      if (opener && document.contains(opener)) opener.focus();
      else parts.fallbackFocus.focus();
      opener = null;
    }

    el.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); close(); return; }
      if (e.key !== "Tab") return;
      var items = Array.prototype.filter.call(el.querySelectorAll("a[href], button"),
        function (n) { return !n.hidden && n.offsetParent !== null; });
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    parts.close.addEventListener("click", close);

    grow.addEventListener("click", function () {
      if (drag && drag.moved) return;
      setSheet(!el.classList.contains("expanded"));
    });
    grow.addEventListener("pointerdown", function (e) {
      drag = { y: e.clientY, h: el.getBoundingClientRect().height, moved: false };
      grow.setPointerCapture(e.pointerId);
    });
    grow.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dy) < 8) return;
      drag.moved = true;
      el.classList.add("dragging");
      el.style.height = Math.max(80, Math.min(window.innerHeight - 40, drag.h - dy)) + "px";
    });
    function endDrag() {
      if (!drag) return;
      el.classList.remove("dragging");
      if (drag.moved) {
        var share = el.getBoundingClientRect().height / window.innerHeight;
        if (share < 0.3) close();
        else setSheet(share > 0.7);  // snap to the nearer of half and whole
      }
      // The click that follows a drag must not toggle the sheet again.
      setTimeout(function () { drag = null; }, 0);
    }
    grow.addEventListener("pointerup", endDrag);
    grow.addEventListener("pointercancel", endDrag);

    return { open: open, close: close };
  }

  window.LocatorSheet = { attach: attach };
})();
