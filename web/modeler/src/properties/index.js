// The properties panel for what our bundles use (lianban), a bpmn-js module:
//
//   import LianbanPropertiesModule from "lianban-properties";   // this file
//   new Modeler({
//     additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
//                         LianbanPropertiesModule],
//     moddleExtensions: { camunda: camundaModdle },             // camunda:* attributes
//     propertiesPanel: { parent: "#modeler-properties" },
//     lianbanPanel: { groupsUrl, fieldsUrl, checkUrl, csrf },   // all optional
//   });
//
// Config `lianban: { draft }` (the draft store; default window.LianbanDraft) and
// `lianbanPanel` (each key optional): groupsUrl (GET, default /designer/panel/groups),
// fieldsUrl and checkUrl (POST JSON, defaults /designer/panel/fields and /designer/panel/check,
// web/pages/designer_panel.py), csrf (the X-CSRFToken; default window.LianbanDraft.csrf()).
// Form choices come from window.LianbanDraft.formKeys(), the certificates shown for 发证 from
// window.LianbanDraft.bundle().items, the files sent to fieldsUrl from
// window.LianbanDraft.snapshot() (without LianbanDraft: the diagram alone).
//
// Groups it adds (Chinese labels), right after 常规 (General):
//   user tasks:        办理设置 — 经办分组 (camunda:candidateGroups, multi-select of the groups that
//                      exist with member counts, new groups allowed), 表单 (camunda:formKey),
//                      办理时限 / 计时方式 / 证照 (camunda:property time_limit, clock,
//                      certificate_action); start events of a process: 表单
//   flows out of exclusive/inclusive gateways: 条件 — 默认路径 (the gateway's default) and the
//                      condition, fields available there offered, checked as you type
//   timer events:      定时 — 定时类型 (时长/日期/周期) and its value, with ISO 8601 hints
//   flow nodes of the main process, with a draft store: 办件设置 — 受理: 从这里开始计时
//                      (bundle.json time_limits.starts_at) and, for user tasks, 受理环节
//                      (intake.element / intake.correction_element); written with
//                      LianbanDraft.setBundle (the 办件设置 tab reloads; not on the undo stack)
// Its provider runs after the BPMN and Camunda providers (a lower eventBus priority than their
// 1000 and 500) so that its groups take precedence: it removes their groups for the same
// properties (user assignment, form, condition, timer) and puts its own in their place.
// Every change goes through the command stack: undo and redo work as for the diagram.
import { Group } from "@bpmn-io/properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { PanelApi } from "./api";
import {
  CertificateEntry,
  ClockEntry,
  SendBackEntry,
  ConditionEntry,
  DefaultFlowEntry,
  EDITED,
  FormEntry,
  GroupsEntry,
  IntakeRoleEntry,
  StartsAtEntry,
  TimeLimitEntry,
  TimerTypeEntry,
  TimerValueEntry,
} from "./entries";
import { getTimer, isDecidingFlow } from "./model";
import { signGroup } from "./multi_sign";
import { installStyles } from "./styles";

const PRIORITY = 100;

// The groups of the other providers that edit what ours edit.
const REPLACED = new Set([
  "CamundaPlatform__UserAssignment",
  "CamundaPlatform__Form",
  "CamundaPlatform__FormData",
  "CamundaPlatform__Condition",
  "timer",
]);

function taskGroup(element) {
  return {
    id: "lianban-task",
    label: "办理设置",
    component: Group,
    entries: [
      { id: "lianban-groups", component: GroupsEntry, isEdited: () => true },
      { id: "lianban-form", component: FormEntry, isEdited: EDITED.select },
      { id: "lianban-time-limit", component: TimeLimitEntry, isEdited: EDITED.text },
      { id: "lianban-clock", component: ClockEntry, isEdited: EDITED.select },
      { id: "lianban-certificate", component: CertificateEntry, isEdited: EDITED.select },
      { id: "lianban-send-back", component: SendBackEntry, isEdited: EDITED.text },
    ],
    element,
    shouldOpen: true,
  };
}

function startGroup(element) {
  return {
    id: "lianban-start",
    label: "申请表单",
    component: Group,
    entries: [{ id: "lianban-form", component: FormEntry, isEdited: EDITED.select }],
    element,
    shouldOpen: true,
  };
}

function conditionGroup(element) {
  return {
    id: "lianban-condition",
    label: "条件",
    component: Group,
    entries: [
      { id: "lianban-default-flow", component: DefaultFlowEntry, isEdited: EDITED.checkbox },
      { id: "lianban-condition-expression", component: ConditionEntry, isEdited: () => true },
    ],
    element,
    shouldOpen: true,
  };
}

function timerGroup(element) {
  return {
    id: "lianban-timer",
    label: "定时",
    component: Group,
    entries: [
      { id: "lianban-timer-type", component: TimerTypeEntry, isEdited: EDITED.select },
      { id: "lianban-timer-value", component: TimerValueEntry, isEdited: EDITED.text },
    ],
    element,
    shouldOpen: true,
  };
}

function bundleGroup(element, api) {
  const store = api && api.store();
  if (!store || !store.setBundle || !inMainScope(element) || is(element, "bpmn:SequenceFlow")) {
    return null;
  }
  if (!is(element, "bpmn:FlowNode") || is(element, "bpmn:BoundaryEvent")) return null;
  const entries = [{ id: "lianban-starts-at", component: StartsAtEntry, isEdited: EDITED.checkbox }];
  if (is(element, "bpmn:UserTask")) {
    entries.push({ id: "lianban-intake-role", component: IntakeRoleEntry, isEdited: EDITED.select });
  }
  return { id: "lianban-bundle", label: "办件设置", component: Group, entries, element };
}

function inMainScope(element) {
  const parent = getBusinessObject(element).$parent;
  return !!parent && is(parent, "bpmn:Process");
}

function isProcessStart(element) {
  if (!is(element, "bpmn:StartEvent") || getTimer(element)) return false;
  const parent = getBusinessObject(element).$parent;
  return !!parent && is(parent, "bpmn:Process");
}

export function lianbanGroups(element, api) {
  const found = [];
  if (is(element, "bpmn:UserTask")) found.push(taskGroup(element), signGroup(element));
  if (isProcessStart(element)) found.push(startGroup(element));
  if (isDecidingFlow(element)) found.push(conditionGroup(element));
  if (is(element, "bpmn:Event") && getTimer(element)) {
    found.push(timerGroup(element));
  }
  const links = bundleGroup(element, api);
  if (links) found.push(links);
  return found;
}

class LianbanPropertiesProvider {
  constructor(propertiesPanel, lianbanPanelApi) {
    propertiesPanel.registerProvider(PRIORITY, this);
    this.api = lianbanPanelApi;
  }

  getGroups(element) {
    return (groups) => {
      const ours = lianbanGroups(element, this.api);
      if (!ours.length) return groups;
      const kept = groups.filter((g) => !REPLACED.has(g.id));
      const general = kept.findIndex((g) => g.id === "general");
      kept.splice(general + 1, 0, ...ours);
      return kept;
    };
  }
}

LianbanPropertiesProvider.$inject = ["propertiesPanel", "lianbanPanelApi"];

function panelApi(config, lianban, bpmnjs, eventBus) {
  const api = new PanelApi(config, lianban && lianban.draft, bpmnjs);
  eventBus.on("commandStack.changed", () => api.changed());
  const store = api.store();
  if (store && store.on) store.on("change", () => api.changed());
  installStyles();
  return api;
}

panelApi.$inject = ["config.lianbanPanel", "config.lianban", "bpmnjs", "eventBus"];

const LianbanPropertiesModule = {
  __init__: ["lianbanPropertiesProvider", "lianbanPanelApi"],
  lianbanPropertiesProvider: ["type", LianbanPropertiesProvider],
  lianbanPanelApi: ["factory", panelApi],
};

export default LianbanPropertiesModule;
