/*
 * The case page: the print button, and clicking a timeline row focuses its element on the diagram.
 */
(function () {
  "use strict";

  function start() {
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
