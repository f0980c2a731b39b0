/* The public 办事指南 (templates/public/guide.html): once the flow chart is drawn, a copy of it as
 * one picture of the whole diagram (bpmn-js saveSVG) for printing, scaled to the page's width by
 * static/css/guide.css; the interactive viewer is fitted to the screen, not to the paper.
 */
(function () {
  "use strict";
  var container = document.getElementById("guide-diagram");
  var figure = document.getElementById("guide-diagram-print");
  if (!container || !figure) { return; }

  function copy() {
    var diagram = container.lianbanDiagram;
    if (!diagram || !diagram.viewer || figure.dataset.ready) { return; }
    figure.dataset.ready = "pending";
    diagram.viewer.saveSVG().then(function (result) {
      var img = document.createElement("img");
      img.alt = "办理流程图";
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(result.svg);
      figure.appendChild(img);
      figure.dataset.ready = "true";
    }).catch(function () { figure.dataset.ready = "failed"; });
  }

  if (container.dataset.diagramStatus === "ready") { copy(); return; }
  var watch = new MutationObserver(function () {
    if (container.dataset.diagramStatus === "ready") { watch.disconnect(); copy(); }
    else if (container.dataset.diagramStatus) { watch.disconnect(); }
  });
  watch.observe(container, { attributes: true, attributeFilter: ["data-diagram-status"] });
})();
