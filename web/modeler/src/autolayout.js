// bpmn-auto-layout for the diagram viewer (static/js/diagram.js): a file without a diagram is laid
// out in the browser before bpmn-js draws it (./layout.js). Built by modeler/build.mjs as
// static/build/autolayout.js.
//   window.LianbanAutoLayout.layoutProcess(xml) -> Promise of the XML with a diagram added
import { layout } from "./layout.js";

window.LianbanAutoLayout = { layoutProcess: layout };
