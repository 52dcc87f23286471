/* Keyboard and phone behaviour of the page's controls (issue 14, accessibility).

   1. A closed <select> changes its value, and fires "change", at every arrow key (also Home, End, Page Up/Down
      and type-ahead letters), so stepping through the months sent one page update per step. A change made from
      the keyboard is held back here and handed to Dash once the choice settles: no key for SETTLE_MS, or Enter,
      or focus leaving the box. A change by mouse, touch or the opened list applies at once.
   2. The buttons with class vrp-toggle fold the element after them (navigation, filters) on a phone; the CSS
      shows or hides it from the button's aria-expanded.
   3. A table too wide for the screen scrolls sideways in its .table-responsive box: that box takes keyboard
      focus (so the arrow keys scroll it) and is named after its table (axe-core: scrollable-region-focusable). */
(function () {
  "use strict";
  var SETTLE_MS = 700;
  var KEY_WINDOW_MS = 150; // a change this soon after a key press on the same box came from that key
  var lastKey = { el: null, at: 0 };
  var held = new Map(); // select -> timer
  var replaying = null;

  function apply(select) {
    clearTimeout(held.get(select));
    held.delete(select);
    replaying = select;
    try {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } finally {
      replaying = null;
    }
  }

  window.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!el || el.tagName !== "SELECT") return;
    lastKey = { el: el, at: Date.now() };
    if (e.key === "Enter" && held.has(el)) apply(el);
  }, true);

  // Capture phase on window: runs before React's listener on the app's root, which would send the change.
  window.addEventListener("change", function (e) {
    var el = e.target;
    if (!el || el.tagName !== "SELECT" || el === replaying) return;
    if (lastKey.el !== el || Date.now() - lastKey.at > KEY_WINDOW_MS) return;
    e.stopImmediatePropagation();
    clearTimeout(held.get(el));
    held.set(el, setTimeout(function () { apply(el); }, SETTLE_MS));
  }, true);

  window.addEventListener("focusout", function (e) {
    if (held.has(e.target)) apply(e.target);
  }, true);

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest(".vrp-toggle");
    if (!button) return;
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
  });

  function focusableScrollers() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var table = box.querySelector("table");
        var caption = table && table.caption ? table.caption.textContent : "";
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (caption || "Table") + " (scrolls sideways)");
      } else if (!scrolls && box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  var pending = null;
  function soon() {
    if (pending === null) pending = window.setTimeout(function () { pending = null; focusableScrollers(); }, 200);
  }
  new MutationObserver(soon).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("resize", soon);
})();
