// 会签 / 或签 on a user task (issue 18 · 4; docs/bundles.md "会签 / 或签"): the group of entries
// that writes the task's bpmn:multiInstanceLoopCharacteristics — the kind (its completion
// condition), one after another or all at once, the case data field holding the signers (declared
// as a bpmn:dataObject of the process, so that the loopDataInputRef resolves and survives a
// save), whether each signer is a group or a user (camunda:candidateGroups / camunda:assignee
// "${<task>_signer}"), and signers fixed in the diagram (the `signers` property).
// Every change is one command on the command stack (undo and redo work).
import { CheckboxEntry, Group, SelectEntry, TextFieldEntry } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { getProperty, setProperty } from "./model";

export const SIGN_KINDS = {
  all: { label: "会签: 全部同意才通过", condition: "" },
  veto: { label: "会签: 一人不同意即结束 (一票否决)", condition: "nr_of_rejections > 0" },
  any: { label: "或签: 第一人决定", condition: "nr_of_completed_instances >= 1" },
  half: { label: "投票: 半数同意即通过", condition: "nr_of_approvals / nr_of_instances >= 0.5" },
};
const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;

export function getMulti(element) {
  const mi = getBusinessObject(element).get("loopCharacteristics");
  return mi && is(mi, "bpmn:MultiInstanceLoopCharacteristics") ? mi : null;
}

function conditionOf(mi) {
  const found = mi && mi.get("completionCondition");
  return found ? (found.get("body") || "").trim() : "";
}

export function signKind(element) {
  const mi = getMulti(element);
  if (!mi) return "";
  const text = conditionOf(mi);
  const kind = Object.keys(SIGN_KINDS).find((k) => SIGN_KINDS[k].condition === text);
  return kind || "custom";
}

export function signCollection(element) {
  const mi = getMulti(element);
  const ref = mi && mi.get("loopDataInputRef");
  return (ref && ref.id) || "";
}

function itemName(element) {
  return `${getBusinessObject(element).id}_signer`;
}

export function signAssign(element) {
  const bo = getBusinessObject(element);
  return (bo.get("camunda:assignee") || "").includes(`{${itemName(element)}}`) ? "user" : "group";
}

function usedElsewhere(process, bo, id) {
  return (process.get("flowElements") || []).some((e) => {
    const loop = e !== bo && e.get && e.get("loopCharacteristics");
    const ref = loop && loop.get("loopDataInputRef");
    return !!ref && ref.id === id;
  });
}

/** The data object `keep` of the process (made if missing), and the one the task used before
 * (`drop`) removed when no other task's loop reads it: at most one command. */
function dataObject(bpmnFactory, element, keep, drop, commands) {
  const bo = getBusinessObject(element);
  const process = bo.$parent;
  const elements = process.get("flowElements") || [];
  const isObject = (e, id) => is(e, "bpmn:DataObject") && e.id === id;
  let kept = elements;
  if (drop && drop !== keep && !usedElsewhere(process, bo, drop)) {
    kept = kept.filter((e) => !isObject(e, drop));
  }
  let found = keep ? kept.find((e) => isObject(e, keep)) : null;
  if (keep && !found) {
    found = bpmnFactory.create("bpmn:DataObject", { id: keep, name: "会签人" });
    found.$parent = process;
    kept = [...kept, found];
  }
  if (kept !== elements) {
    commands.push({
      cmd: "element.updateModdleProperties",
      context: { element, moddleElement: process, properties: { flowElements: kept } },
    });
  }
  return found;
}

/** Write the task's 会签 anew from its current settings and `change` (kind, sequential,
 * collection, assign): one command. Kind "" removes it. */
export function writeSign(injector, element, change) {
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const bo = getBusinessObject(element);
  const mi = getMulti(element);
  const now = {
    kind: signKind(element),
    sequential: !!(mi && mi.get("isSequential")),
    collection: signCollection(element) || `${bo.id}_signers`,
    assign: signAssign(element),
    ...change,
  };
  const reference = `\${${itemName(element)}}`;
  const commands = [];
  const people = {};
  const before = signCollection(element);
  if (!now.kind) {
    dataObject(bpmnFactory, element, null, before, commands);
    people.loopCharacteristics = undefined;
    if (bo.get("camunda:assignee") === reference) people["camunda:assignee"] = undefined;
    if (bo.get("camunda:candidateGroups") === reference) people["camunda:candidateGroups"] = undefined;
  } else {
    const ref = dataObject(bpmnFactory, element, now.collection, before, commands);
    const loop = bpmnFactory.create("bpmn:MultiInstanceLoopCharacteristics", {
      isSequential: now.sequential || undefined,
    });
    loop.loopDataInputRef = ref;
    loop.inputDataItem = bpmnFactory.create("bpmn:DataInput", { id: itemName(element) });
    loop.inputDataItem.$parent = loop;
    const text = now.kind === "custom" ? conditionOf(mi) : SIGN_KINDS[now.kind].condition;
    if (text) {
      loop.completionCondition = bpmnFactory.create("bpmn:FormalExpression", { body: text });
      loop.completionCondition.$parent = loop;
    }
    loop.$parent = bo;
    people.loopCharacteristics = loop;
    if (now.assign === "user") {
      people["camunda:assignee"] = reference;
      if (bo.get("camunda:candidateGroups") === reference) people["camunda:candidateGroups"] = undefined;
    } else {
      people["camunda:candidateGroups"] = reference;
      if (bo.get("camunda:assignee") === reference) people["camunda:assignee"] = undefined;
    }
  }
  commands.push({ cmd: "element.updateProperties", context: { element, properties: people } });
  commandStack.execute("properties-panel.multi-command-executor", commands);
}

function KindEntry({ element, id }) {
  const injector = useService("injector");
  const getOptions = () => {
    const options = [{ value: "", label: "不会签 (一人办理)" }];
    for (const [value, kind] of Object.entries(SIGN_KINDS)) options.push({ value, label: kind.label });
    if (signKind(element) === "custom") {
      options.push({ value: "custom", label: `自定义完成条件: ${conditionOf(getMulti(element))}` });
    }
    return options;
  };
  return (
    <SelectEntry
      element={element}
      id={id}
      label="会签方式"
      getValue={() => signKind(element)}
      setValue={(value) => writeSign(injector, element, { kind: value })}
      getOptions={getOptions}
      description="每位会签人各得一份任务; 结果写入办件数据 <任务id>_result (approved / rejected)"
    />
  );
}

function SequentialEntry({ element, id }) {
  const injector = useService("injector");
  return (
    <CheckboxEntry
      element={element}
      id={id}
      label="依次办理 (按名单顺序, 一人签完再交下一人)"
      getValue={() => !!(getMulti(element) && getMulti(element).get("isSequential"))}
      setValue={(value) => writeSign(injector, element, { sequential: !!value })}
    />
  );
}

function CollectionEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label="会签名单字段"
      getValue={() => signCollection(element)}
      setValue={(value, error) => {
        if (!error && value) writeSign(injector, element, { collection: value });
      }}
      validate={(value) => (value && !FIELD.test(value) ? "请填写字段名 (字母开头, 字母数字下划线)" : null)}
      description="办件数据中存放会签名单 (列表) 的字段, 如申请表或前一环节表单的字段"
      debounce={debounce}
    />
  );
}

function AssignEntry({ element, id }) {
  const injector = useService("injector");
  return (
    <SelectEntry
      element={element}
      id={id}
      label="名单中是"
      getValue={() => signAssign(element)}
      setValue={(value) => writeSign(injector, element, { assign: value })}
      getOptions={() => [
        { value: "group", label: "分组 (每组一份, 组内任一人签)" },
        { value: "user", label: "人员 (每人一份, 只有本人能签)" },
      ]}
    />
  );
}

function FixedEntry({ element, id }) {
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return (
    <TextFieldEntry
      element={element}
      id={id}
      label="固定会签名单 (可选)"
      getValue={() => getProperty(element, "signers") || ""}
      setValue={(value) => setProperty(injector, element, "signers", (value || "").trim())}
      description="逗号分隔, 如 fire_dept, health_dept; 填写后每个新办件都用这份名单"
      debounce={debounce}
    />
  );
}

export function signGroup(element) {
  const entries = [{ id: "lianban-sign-kind", component: KindEntry, isEdited: () => !!getMulti(element) }];
  if (getMulti(element)) {
    entries.push(
      { id: "lianban-sign-sequential", component: SequentialEntry, isEdited: () => true },
      { id: "lianban-sign-collection", component: CollectionEntry, isEdited: () => true },
      { id: "lianban-sign-assign", component: AssignEntry, isEdited: () => true },
      { id: "lianban-sign-fixed", component: FixedEntry, isEdited: () => !!getProperty(element, "signers") },
    );
  }
  return { id: "lianban-sign", label: "会签 / 或签", component: Group, entries, element };
}
