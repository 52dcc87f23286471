/* The modebar camera of a chart with export controls downloads the server's labelled PNG (title, measure, place,
   period, source, extract date and the synthetic label written into the image, and a file name that says what it
   is), the same image as its "Download image: PNG" button. Charts without controls keep plotly's own camera
   (components.graph_config gives it a 2x scale and a name of its own). */
(function () {
  "use strict";
  function exportButton(gd) {
    // The graph's dcc.Graph wrapper carries the id the card's PNG button names in data-vrp-graph.
    for (var el = gd; el && el !== document.body; el = el.parentElement) {
      if (el.id) {
        var buttons = document.querySelectorAll("button.vrp-export-png[data-vrp-graph]");
        for (var i = 0; i < buttons.length; i++) {
          if (buttons[i].getAttribute("data-vrp-graph") === el.id) {
            return buttons[i];
          }
        }
      }
    }
    return null;
  }
  document.addEventListener(
    "click",
    function (event) {
      var target = event.target instanceof Element ? event.target : null;
      var camera = target && target.closest('.modebar-btn[data-val="png"], .modebar-btn[data-title^="Download plot"]');
      if (!camera) {
        return;
      }
      var gd = camera.closest(".js-plotly-plot");
      var button = gd && exportButton(gd);
      if (!button) {
        return; // no labelled export for this chart: plotly's own download
      }
      event.preventDefault();
      event.stopPropagation(); // captured before the modebar's own handler runs
      button.click();
    },
    true
  );
})();
