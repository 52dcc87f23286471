/* Printing: redraw every chart at the width it has on paper, and back at the screen's width afterwards (a plotly
   chart keeps the pixel width it was drawn at, so on A4 it would be cut off at the right). */
(function () {
  "use strict";
  // px: A4 less the margins of assets/print.css (186 mm, about 700 px at 96 to the inch) less a card's padding
  var PAPER_WIDTH = 660;
  function graphs() {
    return Array.prototype.slice.call(document.querySelectorAll(".js-plotly-plot"));
  }
  function toPaper() {
    if (!window.Plotly) return;
    graphs().forEach(function (g) {
      try { window.Plotly.relayout(g, { width: PAPER_WIDTH, autosize: false }); } catch (e) { /* not drawn yet */ }
    });
  }
  function toScreen() {
    if (!window.Plotly) return;
    graphs().forEach(function (g) {
      try {
        window.Plotly.relayout(g, { width: null, autosize: true });
        window.Plotly.Plots.resize(g);
      } catch (e) { /* not drawn yet */ }
    });
  }
  window.addEventListener("beforeprint", toPaper);
  window.addEventListener("afterprint", toScreen);
  if (window.matchMedia) {
    var query = window.matchMedia("print");
    var follow = function (e) { if (e.matches) { toPaper(); } };
    if (query.addEventListener) { query.addEventListener("change", follow); } else if (query.addListener) { query.addListener(follow); }
  }
  window.vrpPrintLayout = toPaper; // for a headless print (tests) that fires no print events
})();
