// Laying out a BPMN file that has no diagram (no bpmndi:BPMNDiagram: engine tests of Camunda and
// Flowable, files written by hand) with bpmn-auto-layout; used by the diagram viewer
// (./autolayout.js) and the designer's editor (./modeler.js).
import { layoutProcess } from "bpmn-auto-layout";

const BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI";

// Whether bpmn-js has shapes to draw the file with (an unreadable file: yes, bpmn-js says why).
export function hasDiagram(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return true;
  return doc.getElementsByTagNameNS(BPMNDI, "BPMNShape").length > 0;
}

// bpmn-auto-layout follows a node's `bpmn:outgoing` / `bpmn:incoming` children; files written by
// hand give only each flow's sourceRef and targetRef. Those children are added here, in the copy
// laid out, so the flows are laid out and drawn too.
function withFlowReferences(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return xml;
  const byId = new Map();
  for (const node of Array.from(doc.getElementsByTagNameNS(BPMN, "*"))) {
    const id = node.getAttribute("id");
    if (id && !byId.has(id)) byId.set(id, node);
  }
  let changed = false;
  for (const flow of Array.from(doc.getElementsByTagNameNS(BPMN, "sequenceFlow"))) {
    const id = flow.getAttribute("id");
    for (const [attribute, kind] of [["sourceRef", "outgoing"], ["targetRef", "incoming"]]) {
      const node = byId.get(flow.getAttribute(attribute));
      if (!id || !node) continue;
      const listed = Array.from(node.children).some(
        (child) => child.namespaceURI === BPMN && child.localName === kind &&
          child.textContent.trim() === id,
      );
      if (listed) continue;
      const reference = doc.createElementNS(BPMN, node.prefix ? `${node.prefix}:${kind}` : kind);
      reference.textContent = id;
      node.appendChild(reference);
      changed = true;
    }
  }
  return changed ? new XMLSerializer().serializeToString(doc) : xml;
}

// The file with a diagram made for it (any diagram it had is replaced).
export function layout(xml) {
  return layoutProcess(withFlowReferences(xml));
}
