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
 * loaded the element gets data-diagram-status="ready" (or "error" with the reason shown in it),
 * data-diagram-layout ("file", or "auto" when laid out here: see importDrawn) and
 * data-diagram-missing (how many of the process's elements its diagram leaves out), and
 * `element.lianbanDiagram` offers:
 *   highlight(state)  redraw the marks (the auditor's step slider calls this),
 *   focus(id)         scroll to an element and mark it selected,
 *   zoomBy(factor), fit(), readable()   the zoom buttons' actions (issue 17 · C).
 * The diagram opens at a readable zoom (never below MIN_SCALE): the whole diagram when it fits
 * so, else centred on what is active now (or the start); a margin keeps the end events clear of
 * the bpmn.io mark in the bottom right corner and of the zoom buttons in the top right.
 * Clicking an element dispatches a "diagram:select" event on the container (detail: {id, name}).
 */
(function () {
  "use strict";
  var CLASSES = { completed: "hl-done", active: "hl-active", errors: "hl-error", changed: "hl-changed",
    warnings: "hl-warning", event: "hl-event" };

  var MIN_SCALE = 0.75;
  var MAX_SCALE = 1.6;
  var MARGIN = { left: 24, right: 96, top: 52, bottom: 56 };  // px: zoom buttons, bpmn.io mark

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
    this.drawSentBack(state.sent_back);
    this.container.dataset.marked = String(this.marked.length);
  };

  // 退回 / 撤回 (the auditor's step): the task opened again is marked, and for 退回 a dashed
  // arrow runs back from the task it was sent back from, unlike any flow of the diagram.
  var SVG = "http://www.w3.org/2000/svg";
  Diagram.prototype.drawSentBack = function (back) {
    var canvas = this.viewer.get("canvas");
    var registry = this.viewer.get("elementRegistry");
    var layer = canvas.getLayer("lianban-sent-back", 1000);
    while (layer.firstChild) { layer.removeChild(layer.firstChild); }
    delete this.container.dataset.sentBack;
    if (!back || !back.to || !registry.get(back.to)) { return; }
    canvas.addMarker(back.to, "hl-reopened");
    this.marked.push([back.to, "hl-reopened"]);
    var source = back.from && registry.get(back.from);
    this.container.dataset.sentBack = (back.from || "") + ">" + back.to;
    if (!source) { return; }
    canvas.addMarker(back.from, "hl-sent-back");
    this.marked.push([back.from, "hl-sent-back"]);
    var target = registry.get(back.to);
    var x1 = source.x + source.width / 2, y1 = source.y;
    var x2 = target.x + target.width / 2, y2 = target.y;
    var lift = Math.min(y1, y2) - 40 - Math.abs(x1 - x2) / 8;
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", "M " + x1 + " " + y1 + " C " + x1 + " " + lift + " " + x2 + " " +
      lift + " " + x2 + " " + y2);
    path.setAttribute("class", "sent-back-arrow");
    layer.appendChild(path);
    var head = document.createElementNS(SVG, "path");
    head.setAttribute("d", "M " + (x2 - 7) + " " + (y2 - 12) + " L " + x2 + " " + y2 + " L " +
      (x2 + 7) + " " + (y2 - 12));
    head.setAttribute("class", "sent-back-arrow head");
    layer.appendChild(head);
    var label = document.createElementNS(SVG, "text");
    label.setAttribute("x", String((x1 + x2) / 2));
    label.setAttribute("y", String(lift + 8));
    label.setAttribute("class", "sent-back-label");
    label.textContent = "退回";
    layer.appendChild(label);
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

  // The view showing the box `inner` (diagram units) at `scale`, centred on (cx, cy) within the
  // container less its margins.
  function viewAt(outer, scale, cx, cy) {
    var width = outer.width / scale;
    var height = outer.height / scale;
    var shiftX = (MARGIN.right - MARGIN.left) / 2 / scale;
    var shiftY = (MARGIN.bottom - MARGIN.top) / 2 / scale;
    return { x: cx - width / 2 + shiftX, y: cy - height / 2 + shiftY, width: width, height: height };
  }

  function fitScale(outer, inner) {
    var w = Math.max(outer.width - MARGIN.left - MARGIN.right, 60);
    var h = Math.max(outer.height - MARGIN.top - MARGIN.bottom, 60);
    return Math.min(w / Math.max(inner.width, 1), h / Math.max(inner.height, 1), MAX_SCALE);
  }

  // every element's box, in diagram units
  function contentBox(canvas) {
    var inner = canvas.viewbox().inner;
    return { x: inner.x, y: inner.y, width: inner.width, height: inner.height };
  }

  // The whole diagram, inside the margins.
  Diagram.prototype.fit = function () {
    var canvas = this.viewer.get("canvas");
    var outer = canvas.viewbox().outer;
    var inner = contentBox(canvas);
    var scale = fitScale(outer, inner);
    canvas.viewbox(viewAt(outer, scale, inner.x + inner.width / 2, inner.y + inner.height / 2));
    this.update();
  };

  // The default view: the whole diagram when it is readable so, else MIN_SCALE centred on the
  // active elements (or the start event).
  Diagram.prototype.readable = function () {
    var canvas = this.viewer.get("canvas");
    var registry = this.viewer.get("elementRegistry");
    var outer = canvas.viewbox().outer;
    var inner = contentBox(canvas);
    var scale = fitScale(outer, inner);
    if (scale >= MIN_SCALE) { this.fit(); return; }
    var focus = registry.filter(function (el) {
      return !el.waypoints && canvas.hasMarker(el, "hl-active");
    });
    // the tasks waiting for someone, rather than a join waiting for them
    var tasks = focus.filter(function (el) { return /Task$/.test(el.type); });
    if (tasks.length) { focus = tasks; }
    if (!focus.length) {
      focus = registry.filter(function (el) { return el.type === "bpmn:StartEvent"; }).slice(0, 1);
    }
    var cx = inner.x + inner.width / 2;
    var cy = inner.y + inner.height / 2;
    if (focus.length) {
      var xs = focus.map(function (el) { return el.x + el.width / 2; });
      var ys = focus.map(function (el) { return el.y + el.height / 2; });
      cx = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
      cy = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2;
      // keep the diagram's edge at the container's edge rather than empty space beyond it
      var halfW = (outer.width - MARGIN.left - MARGIN.right) / 2 / MIN_SCALE;
      var halfH = (outer.height - MARGIN.top - MARGIN.bottom) / 2 / MIN_SCALE;
      cx = Math.max(inner.x + halfW, Math.min(cx, inner.x + inner.width - halfW));
      if (inner.height > 2 * halfH) {
        cy = Math.max(inner.y + halfH, Math.min(cy, inner.y + inner.height - halfH));
      } else {
        cy = inner.y + inner.height / 2;
      }
    }
    canvas.viewbox(viewAt(outer, MIN_SCALE, cx, cy));
    this.update();
  };

  Diagram.prototype.zoomBy = function (factor) {
    var canvas = this.viewer.get("canvas");
    var scale = Math.max(0.1, Math.min(canvas.zoom() * factor, 4));
    var outer = canvas.viewbox().outer;
    canvas.zoom(scale, { x: outer.width / 2, y: outer.height / 2 });
    this.update();
  };

  Diagram.prototype.update = function () {
    var zoom = this.viewer.get("canvas").zoom();
    this.container.dataset.zoom = zoom.toFixed(3);
    if (this.level) { this.level.textContent = Math.round(zoom * 100) + "%"; }
  };

  function toolbar(diagram) {
    var bar = document.createElement("div");
    bar.className = "diagram-zoom no-print";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "流程图缩放");
    [["zoom-in", "+", "放大", function () { diagram.zoomBy(1.25); }],
     ["zoom-out", "−", "缩小", function () { diagram.zoomBy(0.8); }],
     ["fit", "全图", "显示整张流程图", function () { diagram.fit(); }]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "diagram-" + spec[0];
      button.dataset.zoom = spec[0];
      button.textContent = spec[1];
      button.title = spec[2];
      button.setAttribute("aria-label", spec[2]);
      button.addEventListener("click", function (event) { event.preventDefault(); spec[3](); });
      bar.appendChild(button);
    });
    var level = document.createElement("span");
    level.className = "diagram-zoom-level";
    level.setAttribute("aria-live", "polite");
    bar.appendChild(level);
    diagram.level = level;
    diagram.container.appendChild(bar);
  }

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

  // Files without a diagram (no bpmndi:BPMNDiagram: engine tests of Camunda and Flowable, files
  // written by hand) are laid out here, in the browser, by bpmn-auto-layout
  // (static/build/autolayout.js, built from web/modeler/src/autolayout.js), and the page says so.
  // A diagram that draws none of the process's elements (it names ids the process does not have)
  // is laid out the same way; one that leaves some out says which.
  var BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI";
  var AUTO_NOTE = "此图由系统自动排版";

  function hasLayout(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return true; }  // bpmn-js says why
    return doc.getElementsByTagNameNS(BPMNDI, "BPMNShape").length > 0;
  }

  function autoLayout(xml) {
    var layout = window.LianbanAutoLayout;
    if (!layout || typeof layout.layoutProcess !== "function") {
      return Promise.reject(new Error("文件中没有图形布局 (BPMNDiagram), 而自动排版组件未加载 " +
        "(请运行 make install)"));
    }
    return layout.layoutProcess(xml).catch(function (error) {
      throw new Error("文件中没有可用的图形布局 (BPMNDiagram), 自动排版也失败了: " + error.message);
    });
  }

  // The flow nodes (tasks, events, gateways, subprocesses) directly in the file's processes, each
  // with whether bpmn-js drew it.
  function flowNodes(viewer) {
    var registry = viewer.get("elementRegistry");
    var definitions = viewer.getDefinitions ? viewer.getDefinitions() : null;
    var found = [];
    ((definitions && definitions.rootElements) || []).forEach(function (root) {
      if (!root.$instanceOf || !root.$instanceOf("bpmn:Process")) { return; }
      (root.flowElements || []).forEach(function (element) {
        if (element.$instanceOf("bpmn:FlowNode")) {
          found.push({ id: element.id, name: element.name || "", drawn: !!registry.get(element.id) });
        }
      });
    });
    return found;
  }

  function notice(container, text, kind) {
    var note = document.createElement("div");
    note.className = "diagram-notice " + kind;
    note.setAttribute("role", "status");
    note.textContent = text;
    container.appendChild(note);
    return note;
  }

  // Import `xml`, laying it out first when it has no diagram, or when its diagram draws none of
  // its elements; resolves to what the page should say about it.
  function importDrawn(viewer, xml) {
    var said = { layout: "file", notes: [], warnings: [] };
    var prepared = Promise.resolve(xml);
    if (!hasLayout(xml)) {
      said.layout = "auto";
      said.notes.push(AUTO_NOTE + " (文件中没有图形布局 BPMNDiagram)");
      prepared = autoLayout(xml);
    }
    return prepared
      .then(function (text) { return viewer.importXML(text); })
      .then(function (result) {
        said.warnings = (result && result.warnings) || [];
        var nodes = flowNodes(viewer);
        var missing = nodes.filter(function (node) { return !node.drawn; });
        if (nodes.length && missing.length === nodes.length && said.layout === "file") {
          said.layout = "auto";
          said.notes.push(AUTO_NOTE + ": 文件中的图形布局 (BPMNDiagram) 画不出流程中的任何元素 " +
            "(它引用的元素 id 在流程中不存在), 请用建模工具重新保存");
          return autoLayout(xml)
            .then(function (text) { return viewer.importXML(text); })
            .then(function (again) {
              said.warnings = (again && again.warnings) || [];
              said.missing = flowNodes(viewer).filter(function (node) { return !node.drawn; });
              return said;
            });
        }
        said.missing = missing;
        return said;
      });
  }

  function open(container) {
    if (typeof window.BpmnJS !== "function") {
      fail(container, "流程图组件未加载 (bpmn-js 未安装: 请运行 make install)");
      return;
    }
    var state = {};
    try { state = JSON.parse(container.dataset.diagramState || "{}"); } catch (e) { state = {}; }
    // labels in a CJK face, larger than bpmn-js's 12 px (laid out by bpmn-js at this size)
    var viewer = new window.BpmnJS({
      container: container,
      textRenderer: {
        defaultStyle: { fontFamily: '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif', fontSize: 13 },
        externalStyle: { fontSize: 13 }
      }
    });
    source(container)
      .then(function (xml) { return importDrawn(viewer, xml); })
      .then(function (said) {
        var missing = said.missing || [];
        if (missing.length && missing.length === flowNodes(viewer).length) {
          throw new Error("图形布局 (BPMNDiagram) 没有画出流程中的任何元素");
        }
        container.dataset.diagramLayout = said.layout;
        said.notes.forEach(function (text) { notice(container, text, "auto"); });
        if (missing.length) {
          var listed = missing.slice(0, 8).map(function (node) {
            return node.name ? node.name + " (" + node.id + ")" : node.id;
          }).join("、");
          notice(container, "流程图不完整: 文件的图形布局 (BPMNDiagram) 缺少 " + missing.length +
            " 个元素, 图中没有画出: " + listed + (missing.length > 8 ? " 等" : "") +
            "; 请用建模工具打开并重新保存", "broken");
        }
        container.dataset.diagramMissing = String(missing.length);
        var result = { warnings: said.warnings };
        var diagram = new Diagram(container, viewer);
        container.lianbanDiagram = diagram;
        diagram.highlight(state);
        toolbar(diagram);
        diagram.readable();
        viewer.get("eventBus").on("canvas.viewbox.changed", function () { diagram.update(); });
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
      diagram.fit();
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
