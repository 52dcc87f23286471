/* Presentation mode (issue 13 point 5): ?present=1 in the address, or the "Present" button. The page loses its
   navigation, filters and footer (CSS, html.vrp-present), each card fills the screen, the left and right arrow
   keys step between cards and Esc leaves. Charts are scaled with a CSS transform so that their smallest text is
   at least MIN_TEXT_PX on screen, keeping every margin and note where the figure put them; plotly.js reads the
   transform back for hover and zoom. */
(function () {
  "use strict";
  var MIN_TEXT_PX = 20;
  var MAX_SCALE = 2.5;
  var CLASS = "vrp-present";

  function presenting() {
    return new URLSearchParams(window.location.search).get("present") === "1";
  }

  function setPresent(on) {
    var url = new URL(window.location.href);
    if (on) url.searchParams.set("present", "1");
    else url.searchParams.delete("present");
    window.history.replaceState(window.history.state, "", url.toString());
    // dcc.Location listens to popstate: it reads the new address, so the filter sync keeps (or drops) the flag.
    window.dispatchEvent(new PopStateEvent("popstate", { state: window.history.state }));
    refresh();
  }

  function slides() {
    return Array.prototype.filter.call(document.querySelectorAll("main .card"), function (card) {
      return card.offsetParent !== null && !card.parentElement.closest("main .card");
    });
  }

  function smallestText(gd) {
    var least = Infinity;
    gd.querySelectorAll("svg text").forEach(function (t) {
      if (!t.textContent.trim()) return;
      var size = parseFloat(window.getComputedStyle(t).fontSize);
      if (size >= 6 && size < least) least = size;
    });
    return least;
  }

  function scaleGraph(gd) {
    if (!window.Plotly || !gd.layout || !gd._fullLayout) return;
    var box = gd.parentElement; // dcc.Graph's outer div
    var card = gd.closest(".card-body") || box.parentElement;
    var fresh = gd._vrpLayout !== gd.layout; // a new figure from the server (or the first look)
    var least = fresh ? smallestText(gd) : gd._vrpLeast;
    if (!isFinite(least)) return;
    var scale = Math.min(MAX_SCALE, Math.max(1, MIN_TEXT_PX / least));
    var width = card.clientWidth - 32;
    var top = box.getBoundingClientRect().top - card.getBoundingClientRect().top;
    var height = Math.max(300, window.innerHeight - top - 90);
    var w = Math.floor(width / scale);
    var h = Math.floor(height / scale);
    if (!fresh && gd._vrpSize === w + "x" + h) return;
    if (fresh) {
      // A new figure from the server: remember how it was drawn, to restore it on leaving.
      gd._vrpOriginal = { width: gd.layout.width, height: gd.layout.height, titleY: (gd.layout.title || {}).y };
      gd._vrpLeast = least;
    }
    var update = { width: w, height: h };
    var title = gd.layout.title || {};
    var drawnHeight = gd._vrpOriginal.height || gd._fullLayout.height;
    if (title.yref === "container" && typeof gd._vrpOriginal.titleY === "number") {
      // The source note sits in a strip of fixed pixels at the foot (figures/theme.stamp): keep it there.
      update["title.y"] = (gd._vrpOriginal.titleY * drawnHeight) / h;
    }
    box.style.height = height + "px";
    gd.style.width = w + "px";
    gd.style.height = h + "px";
    gd.style.transformOrigin = "0 0";
    gd.style.transform = "scale(" + scale + ")";
    gd._vrpSize = w + "x" + h;
    gd._vrpLayout = gd.layout;
    window.Plotly.relayout(gd, update);
  }

  function unscaleGraph(gd) {
    if (!gd._vrpOriginal) return;
    var original = gd._vrpOriginal;
    gd.parentElement.style.height = "";
    gd.style.width = gd.style.height = gd.style.transform = gd.style.transformOrigin = "";
    gd._vrpOriginal = gd._vrpLayout = gd._vrpSize = gd._vrpLeast = undefined;
    if (window.Plotly) {
      var update = { width: original.width || null, height: original.height || null };
      if (typeof original.titleY === "number") update["title.y"] = original.titleY;
      window.Plotly.relayout(gd, update);
    }
  }

  function refresh() {
    var on = presenting();
    document.documentElement.classList.toggle(CLASS, on);
    document.querySelectorAll("main .js-plotly-plot").forEach(function (gd) {
      if (on) scaleGraph(gd);
      else unscaleGraph(gd);
    });
  }

  function current(list) {
    // The last card whose top has reached the top of the screen (-1 above the first): the reader may have
    // scrolled by hand.
    var index = -1;
    list.forEach(function (card, i) {
      if (card.getBoundingClientRect().top <= 2) index = i;
    });
    return index;
  }

  document.addEventListener("keydown", function (e) {
    if (!presenting() || e.altKey || e.ctrlKey || e.metaKey) return;
    var el = e.target;
    if (el && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName))) return;
    if (e.key === "Escape") {
      e.preventDefault();
      setPresent(false);
      return;
    }
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    var list = slides();
    if (!list.length) return;
    e.preventDefault();
    var i = current(list) + (e.key === "ArrowRight" ? 1 : -1);
    if (i < 0 && e.key === "ArrowLeft") { window.scrollTo(0, 0); return; }
    var card = list[Math.max(0, Math.min(list.length - 1, i))];
    card.scrollIntoView({ block: "start" });
    var heading = card.querySelector("h2, h3");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  });

  document.addEventListener("click", function (e) {
    var target = e.target.closest && e.target.closest("[data-vrp-present]");
    if (!target) return;
    e.preventDefault();
    setPresent(target.getAttribute("data-vrp-present") === "on");
  });

  window.addEventListener("popstate", refresh);
  window.addEventListener("resize", function () {
    document.querySelectorAll("main .js-plotly-plot").forEach(function (gd) { gd._vrpSize = undefined; });
    refresh();
  });
  // Dash writes the address itself (history.pushState, no event) and draws figures when they arrive: look again
  // a few times a second; each look is a class toggle and a comparison per chart.
  window.setInterval(refresh, 400);
})();
