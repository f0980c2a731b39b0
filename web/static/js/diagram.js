/*
 * The BPMN diagram on a page (bpmn-js NavigatedViewer, served from /vendor/bpmn-js).
 *
 * Any element with `data-diagram-url` is opened when the page loads; an element with
 * `data-diagram-xml="<id>"` instead shows the BPMN text held (as a JSON string) in the
 * <script type="application/json" id="<id>"> of the page (a refused upload, which is not stored).
 * Its state comes from a JSON
 * object in `data-diagram-state`:
 *   { "completed": [ids], "active": [ids], "errors": [ids], "warnings": [ids], "changed": [ids],
 *     "taken": [flow ids] }
 * Flows between two reached elements count as taken unless "taken" is given. When the diagram has
 * loaded the element gets data-diagram-status="ready" (or "error" with the reason shown in it), and
 * `element.lianbanDiagram` offers:
 *   highlight(state)  redraw the marks (the auditor's step slider calls this),
 *   focus(id)         scroll to an element and mark it selected.
 * Clicking an element dispatches a "diagram:select" event on the container (detail: {id, name}).
 */
(function () {
  "use strict";
  var CLASSES = { completed: "hl-done", active: "hl-active", errors: "hl-error", changed: "hl-changed",
    warnings: "hl-warning" };

  function asSet(list) {
    var set = {};
    (list || []).forEach(function (id) { set[id] = true; });
    return set;
  }

  function Diagram(container, viewer) {
    this.container = container;
    this.viewer = viewer;
    this.marked = [];
  }

  Diagram.prototype.highlight = function (state) {
    var canvas = this.viewer.get("canvas");
    var registry = this.viewer.get("elementRegistry");
    this.marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    this.marked = [];
    var self = this;
    function mark(id, cls) {
      if (registry.get(id)) { canvas.addMarker(id, cls); self.marked.push([id, cls]); }
    }
    state = state || {};
    Object.keys(CLASSES).forEach(function (key) {
      (state[key] || []).forEach(function (id) { mark(id, CLASSES[key]); });
    });
    var taken = state.taken;
    if (!taken) {
      var reached = asSet((state.completed || []).concat(state.active || []));
      var done = asSet(state.completed);
      taken = registry.filter(function (el) {
        return el.type === "bpmn:SequenceFlow" && el.source && el.target &&
          done[el.source.id] && reached[el.target.id];
      }).map(function (el) { return el.id; });
    }
    taken.forEach(function (id) { mark(id, "hl-taken"); });
    this.container.dataset.marked = String(this.marked.length);
  };

  Diagram.prototype.focus = function (id) {
    var registry = this.viewer.get("elementRegistry");
    var canvas = this.viewer.get("canvas");
    var element = registry.get(id);
    if (!element) { return false; }
    this.container.querySelectorAll(".hl-selected").forEach(function (node) {
      canvas.removeMarker(node.getAttribute("data-element-id"), "hl-selected");
    });
    canvas.addMarker(id, "hl-selected");
    if (canvas.scrollToElement) { canvas.scrollToElement(element); }
    return true;
  };

  function fail(container, reason) {
    container.dataset.diagramStatus = "error";
    var message = document.createElement("div");
    message.className = "diagram-message";
    message.textContent = reason;
    container.appendChild(message);
  }

  function source(container) {
    var holder = container.dataset.diagramXml;
    if (holder) {
      return new Promise(function (resolve) {
        var element = document.getElementById(holder);
        resolve(JSON.parse(element ? element.textContent : '""'));
      });
    }
    return fetch(container.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("流程图文件读取失败 (" + response.status + ")"); }
        return response.text();
      });
  }

  function open(container) {
    if (typeof window.BpmnJS !== "function") {
      fail(container, "流程图组件未加载 (bpmn-js 未安装: 请运行 make install)");
      return;
    }
    var state = {};
    try { state = JSON.parse(container.dataset.diagramState || "{}"); } catch (e) { state = {}; }
    var viewer = new window.BpmnJS({ container: container });
    source(container)
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function (result) {
        var diagram = new Diagram(container, viewer);
        container.lianbanDiagram = diagram;
        viewer.get("canvas").zoom("fit-viewport", "auto");
        diagram.highlight(state);
        viewer.get("eventBus").on("element.click", function (event) {
          var bo = event.element.businessObject || {};
          container.dispatchEvent(new CustomEvent("diagram:select", {
            bubbles: true, detail: { id: event.element.id, name: bo.name || "" }
          }));
        });
        container.dataset.warnings = String((result && result.warnings || []).length);
        container.dataset.diagramStatus = "ready";
        container.dispatchEvent(new CustomEvent("diagram:ready", { bubbles: true }));
      })
      .catch(function (error) { fail(container, "流程图无法显示: " + error.message); });
  }

  // Printing: every diagram re-fits to the printed width, and back to the screen afterwards.
  function refitAll() {
    document.querySelectorAll("[data-diagram-status=ready]").forEach(function (container) {
      var diagram = container.lianbanDiagram;
      if (!diagram) { return; }
      var canvas = diagram.viewer.get("canvas");
      if (canvas.resized) { canvas.resized(); }
      canvas.zoom("fit-viewport", "auto");
    });
  }

  function start() {
    document.querySelectorAll("[data-diagram-url], [data-diagram-xml]").forEach(open);
    window.addEventListener("beforeprint", refitAll);
    window.addEventListener("afterprint", refitAll);
    if (window.matchMedia) {
      var query = window.matchMedia("print");
      if (query.addEventListener) { query.addEventListener("change", refitAll); }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
