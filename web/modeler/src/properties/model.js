// Reading and writing what our bundles use on the BPMN model: camunda:candidateGroups,
// camunda:formKey, camunda:properties/camunda:property (clock, time_limit, certificate_action),
// conditions, default flows and timers. Every write goes through the command stack (one undoable
// step per change): modeling.updateProperties / element.updateModdleProperties, combined with
// the properties panel's multi-command executor.
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export const CLOCK_PAUSE = "pause";
export const CERTIFICATE_ACTIONS = ["issue", "revoke"];
export const MAX_WORKDAYS = 3650; // engine/domain/timelimits.py
export const MAX_WORK_HOURS = 2000; // the same, `time_limit: 4h`
export const TIMER_TYPES = ["timeDuration", "timeDate", "timeCycle"];

function create(bpmnFactory, type, attrs, parent) {
  const element = bpmnFactory.create(type, attrs);
  if (parent) element.$parent = parent;
  return element;
}

function extensionValues(bo) {
  const extensions = bo.get("extensionElements");
  return (extensions && extensions.get("values")) || [];
}

function propertyLists(bo) {
  return extensionValues(bo).filter((v) => is(v, "camunda:Properties"));
}

/** The value of a camunda:property (a later one of the same name wins, as the engine reads). */
export function getProperty(element, name) {
  let found;
  for (const list of propertyLists(getBusinessObject(element))) {
    for (const prop of list.get("values") || []) {
      if (prop.get("name") === name) found = prop.get("value") || "";
    }
  }
  return found;
}

/** Set (or, with an empty value, remove) a camunda:property of the element: one command. */
export function setProperty(injector, element, name, value) {
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const bo = getBusinessObject(element);
  const commands = [];
  const lists = propertyLists(bo);
  const empty = value === undefined || value === null || value === "";
  if (empty) {
    for (const list of lists) {
      const values = list.get("values") || [];
      const kept = values.filter((p) => p.get("name") !== name);
      if (kept.length !== values.length) {
        commands.push({
          cmd: "element.updateModdleProperties",
          context: { element, moddleElement: list, properties: { values: kept } },
        });
      }
    }
  } else {
    let extensions = bo.get("extensionElements");
    if (!extensions) {
      extensions = create(bpmnFactory, "bpmn:ExtensionElements", { values: [] }, bo);
      commands.push({
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: bo, properties: { extensionElements: extensions } },
      });
    }
    let existing;
    for (const list of lists) {
      for (const prop of list.get("values") || []) {
        if (prop.get("name") === name) existing = prop;
      }
    }
    if (existing) {
      commands.push({
        cmd: "element.updateModdleProperties",
        context: { element, moddleElement: existing, properties: { value: String(value) } },
      });
    } else {
      let list = lists[lists.length - 1];
      if (!list) {
        list = create(bpmnFactory, "camunda:Properties", { values: [] }, extensions);
        commands.push({
          cmd: "element.updateModdleProperties",
          context: {
            element,
            moddleElement: extensions,
            properties: { values: [...(extensions.get("values") || []), list] },
          },
        });
      }
      const prop = create(bpmnFactory, "camunda:Property", { name, value: String(value) }, list);
      commands.push({
        cmd: "element.updateModdleProperties",
        context: {
          element,
          moddleElement: list,
          properties: { values: [...(list.get("values") || []), prop] },
        },
      });
    }
  }
  if (commands.length) commandStack.execute("properties-panel.multi-command-executor", commands);
}

export function splitGroups(text) {
  return (text || "")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
}

export function getGroups(element) {
  const bo = getBusinessObject(element);
  return splitGroups(bo.get("camunda:candidateGroups") || getProperty(element, "candidateGroups"));
}

export function setGroups(injector, element, groups) {
  const text = groups.join(",");
  injector.get("modeling").updateProperties(element, { "camunda:candidateGroups": text || undefined });
}

export function getFormKey(element) {
  return getBusinessObject(element).get("camunda:formKey") || getProperty(element, "formKey") || "";
}

export function setFormKey(injector, element, key) {
  injector.get("modeling").updateProperties(element, { "camunda:formKey": key || undefined });
}

/** A sequence flow that leaves an exclusive or inclusive gateway with more than one way out
 * (its condition decides; the one way out of a merging gateway needs none), or that has a
 * condition already. */
export function isDecidingFlow(element) {
  if (!is(element, "bpmn:SequenceFlow")) return false;
  const bo = getBusinessObject(element);
  const source = bo.get("sourceRef");
  if (!source || !(is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway"))) {
    return false;
  }
  // the diagram's connections (a file may leave the business object's <outgoing> out)
  const ways = element.source ? element.source.outgoing || [] : source.get("outgoing") || [];
  return ways.length > 1 || !!bo.get("conditionExpression");
}

export function getCondition(element) {
  const expression = getBusinessObject(element).get("conditionExpression");
  return (expression && expression.get("body")) || "";
}

export function setCondition(injector, element, text) {
  const bo = getBusinessObject(element);
  const value = (text || "").trim() ? text : undefined;
  let expression;
  if (value !== undefined) {
    expression = create(injector.get("bpmnFactory"), "bpmn:FormalExpression", { body: value }, bo);
  }
  injector.get("modeling").updateProperties(element, { conditionExpression: expression });
}

export function isDefaultFlow(element) {
  const bo = getBusinessObject(element);
  const source = bo.get("sourceRef");
  return !!source && source.get("default") === bo;
}

/** Make the flow its gateway's default path (its condition removed: a default path has none),
 * or no longer the default. One undoable step. */
export function setDefaultFlow(injector, element, on) {
  const bo = getBusinessObject(element);
  const source = injector.get("elementRegistry").get(bo.get("sourceRef").id);
  const commands = [
    {
      cmd: "element.updateProperties",
      context: { element: source, properties: { default: on ? bo : undefined } },
    },
  ];
  if (on && bo.get("conditionExpression")) {
    commands.push({
      cmd: "element.updateProperties",
      context: { element, properties: { conditionExpression: undefined } },
    });
  }
  injector.get("commandStack").execute("properties-panel.multi-command-executor", commands);
}

export function getTimer(element) {
  const bo = getBusinessObject(element);
  const definitions = bo.get("eventDefinitions") || [];
  return definitions.find((d) => is(d, "bpmn:TimerEventDefinition"));
}

export function timerType(timer) {
  if (!timer) return undefined;
  return TIMER_TYPES.find((t) => timer.get(t) !== undefined);
}

// A constant timer is a quoted ISO 8601 text in our expression language ("P10D"); the panel
// shows it without its quotes and adds them back to what looks like ISO 8601.
const LOOKS_LIKE_ISO = /^(R\d*\/)?P[0-9YMWDTHS.,]+$|^\d{4}-\d{2}-\d{2}/i;
const QUOTED = /^\s*(["'])([^"'\\]*)\1\s*$/;

export function timerText(timer) {
  const type = timerType(timer);
  const expression = type && timer.get(type);
  const body = (expression && expression.get("body")) || "";
  const quoted = QUOTED.exec(body);
  return quoted ? quoted[2] : body;
}

export function timerBody(text) {
  const value = (text || "").trim();
  if (!value) return "";
  return LOOKS_LIKE_ISO.test(value) ? `"${value}"` : value;
}

/** Change the timer's kind and/or value in one step. */
export function setTimer(injector, element, type, text) {
  const timer = getTimer(element);
  if (!timer) return;
  const properties = {};
  for (const t of TIMER_TYPES) properties[t] = undefined;
  const body = timerBody(text);
  properties[type] = create(injector.get("bpmnFactory"), "bpmn:FormalExpression", { body }, timer);
  injector.get("commandStack").execute("element.updateModdleProperties", {
    element,
    moddleElement: timer,
    properties,
  });
}

export function isHumanTask(element) {
  return is(element, "bpmn:UserTask");
}

export function isStartWithForm(element) {
  return is(element, "bpmn:StartEvent") && !getTimer(element);
}
