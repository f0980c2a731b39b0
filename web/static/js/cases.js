/*
 * The case page: the print button, and clicking a timeline row focuses its element on the diagram.
 */
(function () {
  "use strict";

  // Printing: re-fit the diagram to the printed width (and back to the screen afterwards).
  function fitOnPrint(container) {
    function refit() {
      var diagram = container && container.lianbanDiagram;
      if (!diagram || !diagram.viewer) { return; }
      var canvas = diagram.viewer.get("canvas");
      if (canvas.resized) { canvas.resized(); }
      canvas.zoom("fit-viewport", "auto");
    }
    window.addEventListener("beforeprint", refit);
    window.addEventListener("afterprint", refit);
    if (window.matchMedia) {
      var query = window.matchMedia("print");
      if (query.addEventListener) { query.addEventListener("change", refit); }
    }
  }

  function start() {
    fitOnPrint(document.getElementById("case-diagram"));
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    var diagram = document.getElementById("case-diagram");
    document.querySelectorAll("[data-element]").forEach(function (row) {
      row.classList.add("focusable");
      row.addEventListener("click", function () {
        if (diagram && diagram.lianbanDiagram) {
          diagram.lianbanDiagram.focus(row.getAttribute("data-element"));
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
