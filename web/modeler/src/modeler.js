// The designer's editor: a bpmn-js Modeler on the draft's main .bpmn file (window.LianbanDraft,
// static/js/draft_store.js), with the camunda: attributes we accept (camunda-bpmn-moddle), the
// properties panel (the library's panel plus lianban's own groups from ./properties, H2), Chinese
// labels (./i18n/zh.js), lint while drawing (bpmn-js-bpmnlint with ./lint), and the problems of
// the server's checks marked on the diagram. Bundled by ../build.mjs into static/build/modeler.js.
import Modeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import { Linter } from "bpmnlint";
// src/properties/index.js when it exists (H2's module), else null: see build.mjs
import LianbanPropertiesModule from "lianban-properties";

import translateModule, { translate } from "./i18n/zh.js";
import { hasDiagram, layout } from "./layout.js";
import { lintConfig } from "./lint/index.js";

const PROBLEM_MARKER = "lianban-problem";

function escapeHtml(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

export function createModeler(draft, canvasSelector, propertiesSelector) {
  const additionalModules = [
    translateModule,
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaBehaviorsModule,
    lintModule,
  ];
  if (LianbanPropertiesModule) additionalModules.push(LianbanPropertiesModule);
  const modeler = new Modeler({
    container: canvasSelector,
    keyboard: { bindTo: document },
    propertiesPanel: { parent: propertiesSelector },
    additionalModules,
    moddleExtensions: { camunda: camundaModdle },
    linting: { active: true, bpmnlint: lintConfig },
    // what H2's module reads (web/modeler/src/properties/index.js)
    lianban: { draft },
  });
  return modeler;
}

function markProblems(modeler, problems) {
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const registry = modeler.get("elementRegistry");
  overlays.remove({ type: PROBLEM_MARKER });
  registry.forEach((element) => canvas.removeMarker(element, PROBLEM_MARKER));
  const byElement = new Map();
  (problems || []).forEach((problem) => {
    if (!problem || !problem.element || !registry.get(problem.element)) return;
    const file = problem.file || "";
    if (file && !file.toLowerCase().endsWith(".bpmn") && !file.toLowerCase().endsWith(".xml")) {
      return; // a problem in a form or bundle.json that happens to share an id
    }
    const list = byElement.get(problem.element) || [];
    list.push(problem);
    byElement.set(problem.element, list);
  });
  byElement.forEach((list, id) => {
    const element = registry.get(id);
    canvas.addMarker(element, PROBLEM_MARKER);
    const severity = list.some((p) => p.severity !== "warning") ? "error" : "warning";
    const text = list.map((p) => escapeHtml(p.message)).join("<br>");
    overlays.add(element, PROBLEM_MARKER, {
      position: element.waypoints ? { top: -10, left: 0 } : { top: -4, left: 22 },
      html: `<div class="lianban-problem-note ${severity}" data-element="${escapeHtml(id)}"
        title="${escapeHtml(list.map((p) => p.message).join("\n"))}">${text}</div>`,
    });
  });
  return byElement.size;
}

// The whole diagram in view, right of the palette and above the lint button, at most 100 %.
function fitBesidePalette(canvas) {
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height || !outer.width || !outer.height) return;
  const left = 150; // px: the palette and a margin
  const margin = 30;
  const bottom = 60; // px: the lint button
  const scale = Math.min(
    1,
    (outer.width - left - margin) / inner.width,
    (outer.height - margin - bottom) / inner.height,
  );
  const height = outer.height / scale;
  canvas.viewbox({
    x: inner.x - left / scale,
    y: inner.y - (height - inner.height - (bottom - margin) / scale) / 2,
    width: outer.width / scale,
    height,
  });
}

// What the editor page does once draft_store.js has the files.
export async function start(draft) {
  const canvasEl = document.getElementById("modeler-canvas");
  const propertiesEl = document.getElementById("modeler-properties");
  if (!canvasEl || !draft) return null;
  const modeler = createModeler(draft, canvasEl, propertiesEl);
  draft.modeler = modeler;
  window.LianbanModeler.instance = modeler;

  await draft.ready;
  const path = draft.bpmnPath();
  const xml = path ? draft.get(path) : null;
  if (!xml) {
    draft.showProblems([{ message: "没有流程图文件 (.bpmn)", element: null, severity: "error" }]);
    return modeler;
  }
  try {
    // a file without a diagram (engine tests, files written by hand) is laid out first; the
    // layout is written into the draft when it is next saved
    const laidOut = !hasDiagram(xml);
    const { warnings } = await modeler.importXML(laidOut ? await layout(xml) : xml);
    if (warnings && warnings.length) {
      console.warn("lianban modeler: import warnings", warnings);
    }
    fitBesidePalette(modeler.get("canvas"));
    if (laidOut) {
      canvasEl.dataset.modelerLayout = "auto";
      const note = document.createElement("div");
      note.className = "modeler-notice";
      note.setAttribute("role", "status");
      note.textContent =
        "此图由系统自动排版 (文件中没有图形布局 BPMNDiagram); 保存草稿时排版会写入文件";
      canvasEl.appendChild(note);
    }
  } catch (err) {
    const message = /no diagram to display/.test(err.message)
      ? "流程图没有图形布局 (BPMNDiagram), 编辑器无法显示: 请用建模工具保存一次, 或从模板开始"
      : `流程图无法打开: ${err.message}`;
    draft.showProblems([{ message, element: null, file: path, severity: "error" }]);
    canvasEl.dataset.modelerStatus = "failed";
    return modeler;
  }

  draft.registerFlusher(async () => {
    const { xml: saved } = await modeler.saveXML({ format: true });
    if (saved !== draft.get(path)) draft.set(path, saved);
  });
  modeler.on("commandStack.changed", () => draft.markDirty && draft.markDirty());
  draft.on("problems", (detail) => markProblems(modeler, detail.problems));
  // a changed element loses the server's marks (they told of what it was; 检查 tells again)
  modeler.on("elements.changed", ({ elements }) => {
    const overlays = modeler.get("overlays");
    const canvas = modeler.get("canvas");
    elements.forEach((element) => {
      if (!element || !element.id || !modeler.get("elementRegistry").get(element.id)) return;
      overlays.remove({ element, type: PROBLEM_MARKER });
      canvas.removeMarker(element, PROBLEM_MARKER);
    });
  });
  draft.on("tab", (detail) => {
    // the diagram's shortcuts (undo, delete ...) only while it is shown
    const keyboard = modeler.get("keyboard");
    if (detail.tab === "diagram") {
      keyboard.bind(document);
      modeler.get("canvas").resized();
    } else {
      keyboard.unbind();
    }
  });
  canvasEl.dataset.modelerStatus = "ready";
  draft.emit("modeler", { modeler });
  return modeler;
}

// The editor's lint on any BPMN text, diagram or not: [{category, id, message}], in Chinese.
export async function lintXML(modeler, xml) {
  const { rootElement } = await modeler.get("moddle").fromXML(xml, "bpmn:Definitions");
  const found = await new Linter(lintConfig).lint(rootElement);
  return Object.values(found)
    .flat()
    .map((issue) => ({ category: issue.category, id: issue.id, message: translate(issue.message) }));
}

window.LianbanModeler = {
  Modeler,
  createModeler,
  start,
  translate,
  markProblems,
  lintXML,
  hasDiagram, // ./layout.js: the 试运行 tab lays out a draft without a diagram too
  layout,
};

if (window.LianbanDraft) {
  start(window.LianbanDraft).catch((err) => {
    console.error(err);
    const canvasEl = document.getElementById("modeler-canvas");
    if (canvasEl) canvasEl.dataset.modelerStatus = "failed";
  });
}
