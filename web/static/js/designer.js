/*
 * Designer pages.
 *
 * - A refused upload: each `[data-upload-diagram]` container holds no URL; its BPMN text is in the
 *   <script type="application/json" id="...-xml"> next to it (nothing of a refused upload is
 *   stored). The viewer is built here with window.BpmnJS and importXML, the elements in error get
 *   the "hl-error" marker, and the container gets data-diagram-status="ready" and the same
 *   `lianbanDiagram` API (highlight, focus) as static/js/diagram.js gives.
 * - Buttons `[data-locate]` (a problem, a task, a change) focus that element in the diagram named
 *   by `data-diagram` (several ids separated by spaces: each of them).
 * - The "expand all" button opens every form preview.
 */
(function () {
  "use strict";

  function Viewer(container, viewer) {
    this.container = container;
    this.viewer = viewer;
    this.marked = [];
  }

  Viewer.prototype.highlight = function (state) {
    var canvas = this.viewer.get("canvas");
    var registry = this.viewer.get("elementRegistry");
    var self = this;
    this.marked.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    this.marked = [];
    var classes = { errors: "hl-error", changed: "hl-changed" };
    Object.keys(classes).forEach(function (key) {
      ((state || {})[key] || []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, classes[key]); self.marked.push([id, classes[key]]); }
      });
    });
    this.container.dataset.marked = String(this.marked.length);
  };

  Viewer.prototype.focus = function (id) {
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

  function openUploaded(container) {
    var holder = document.getElementById(container.id + "-xml");
    var xml = "";
    try { xml = JSON.parse(holder ? holder.textContent : '""'); } catch (e) { xml = ""; }
    if (typeof window.BpmnJS !== "function") {
      fail(container, "流程图组件未加载 (bpmn-js 未安装: 请运行 make install)");
      return;
    }
    var state = {};
    try { state = JSON.parse(container.dataset.diagramState || "{}"); } catch (e) { state = {}; }
    var viewer = new window.BpmnJS({ container: container });
    viewer.importXML(xml)
      .then(function (result) {
        var diagram = new Viewer(container, viewer);
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

  function locate(button) {
    var id = button.dataset.locate;
    var targets = (button.dataset.diagram || "").split(" ").filter(Boolean);
    var shown = false;
    targets.forEach(function (target) {
      var container = document.getElementById(target);
      if (container && container.lianbanDiagram && container.lianbanDiagram.focus(id)) {
        if (!shown) { container.scrollIntoView({ block: "center", behavior: "smooth" }); }
        shown = true;
      }
    });
    if (!shown) { button.classList.add("not-found"); button.title = "图中没有该元素"; }
  }

  // Selecting a diagram element marks the matching rows of the lists (data-element).
  function selectRows(event) {
    var id = event.detail && event.detail.id;
    document.querySelectorAll("[data-element].selected").forEach(function (row) {
      row.classList.remove("selected");
    });
    if (!id) { return; }
    document.querySelectorAll('[data-element="' + id.replace(/"/g, "") + '"]').forEach(function (row) {
      row.classList.add("selected");
    });
  }

  function start() {
    document.querySelectorAll("[data-upload-diagram]").forEach(openUploaded);
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-locate]") : null;
      if (button) { event.preventDefault(); locate(button); }
      var expand = event.target.closest ? event.target.closest("[data-expand-forms]") : null;
      if (expand) {
        var previews = document.querySelectorAll("details.form-preview");
        var open = expand.dataset.open !== "1";
        previews.forEach(function (d) { d.open = open; });
        expand.dataset.open = open ? "1" : "0";
        expand.textContent = open ? "全部收起" : "全部展开";
      }
    });
    document.addEventListener("diagram:select", selectRows);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
