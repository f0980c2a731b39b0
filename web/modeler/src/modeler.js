// The designer's editor: filled in by issue 16's modeler work.
import Modeler from "bpmn-js/lib/Modeler";

window.LianbanModeler = { Modeler };
