// lianban's own bpmnlint rules: what the server's upload checks refuse (engine/bundles/checks.py,
// compiler.py, rules/soundness.py), said in Chinese while the designer draws. The server stays
// the authority: these only catch the common mistakes early.
import { is, isAny } from "bpmnlint-utils";

const label = (node) => (node.name ? `「${node.name}」` : `'${node.id}'`);

function rule(check) {
  return () => ({ check });
}

// Every element of a process or subprocess, lanes included (nested lane sets too).
function laneMembers(container) {
  const found = new Set();
  const walk = (laneSets) => {
    (laneSets || []).forEach((set) =>
      (set.lanes || []).forEach((lane) => {
        (lane.flowNodeRef || []).forEach((ref) => found.add(ref.id));
        if (lane.childLaneSet) walk([lane.childLaneSet]);
      }),
    );
  };
  walk(container.laneSets);
  return found;
}

// 人工任务 need someone to work them: camunda:candidateGroups, camunda:candidateUsers,
// camunda:assignee, a potentialOwner / humanPerformer, or a lane to stand in
// (engine/bundles/assignment.py).
export const userTaskGroups = rule((node, reporter) => {
  if (!isAny(node, ["bpmn:Process", "bpmn:SubProcess"])) return;
  const inLane = is(node, "bpmn:Process") ? laneMembers(node) : new Set();
  const given = (element, name) => (element.get(name) || "").trim();
  (node.flowElements || []).forEach((element) => {
    if (!is(element, "bpmn:UserTask")) return;
    const someone =
      given(element, "camunda:candidateGroups") ||
      given(element, "camunda:candidateUsers") ||
      given(element, "camunda:assignee") ||
      (element.resources || []).length > 0;
    if (!someone && !inLane.has(element.id)) {
      reporter.report(
        element.id,
        `人工任务${label(element)}没有办理组: 请设置办理组 (candidateGroups) 或把它放进泳道`,
      );
    }
  });
});

// Deciding gateways: each outgoing flow conditioned, or the gateway's default.
export const gatewayConditions = rule((node, reporter) => {
  if (!isAny(node, ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"])) return;
  const outgoing = node.outgoing || [];
  if (outgoing.length < 2) return;
  outgoing.forEach((flow) => {
    if (!flow.conditionExpression && node.default !== flow) {
      reporter.report(
        flow.id,
        `网关${label(node)}的出口连线${label(flow)}没有条件, 也不是默认连线`,
      );
    }
  });
});

// The gateway a branch leaves from, walking back over plain steps (one way in, one way out).
function branchOrigin(flow) {
  let current = flow.sourceRef;
  let via = flow;
  const seen = new Set();
  while (current && !is(current, "bpmn:Gateway") && !seen.has(current.id)) {
    seen.add(current.id);
    const incoming = current.incoming || [];
    if (incoming.length !== 1) return null;
    via = incoming[0];
    current = via.sourceRef;
  }
  return current && is(current, "bpmn:Gateway") ? { gateway: current, via } : null;
}

// A parallel join waits for every branch: branches from one exclusive split never all come.
export const exclusiveSplitParallelJoin = rule((node, reporter) => {
  if (!is(node, "bpmn:ParallelGateway")) return;
  const incoming = node.incoming || [];
  if (incoming.length < 2) return;
  const counts = new Map();
  incoming.forEach((flow) => {
    const origin = branchOrigin(flow);
    if (
      origin &&
      isAny(origin.gateway, ["bpmn:ExclusiveGateway", "bpmn:EventBasedGateway"]) &&
      (origin.gateway.outgoing || []).length > 1
    ) {
      const exits = counts.get(origin.gateway) || new Set();
      exits.add(origin.via.id);
      counts.set(origin.gateway, exits);
    }
  });
  counts.forEach((exits, gateway) => {
    if (exits.size > 1) {
      reporter.report(
        node.id,
        `并行网关${label(node)}在等待排他网关${label(gateway)}的多条分支, 但只会有一条到达, ` +
          "办件将一直停在这里: 请用排他网关汇合",
      );
    }
  });
});

// A parallel split merged by an exclusive join: what follows runs once per branch.
export const parallelSplitExclusiveJoin = rule((node, reporter) => {
  if (!is(node, "bpmn:ExclusiveGateway")) return;
  const incoming = node.incoming || [];
  if (incoming.length < 2) return;
  const exits = new Map();
  incoming.forEach((flow) => {
    const origin = branchOrigin(flow);
    if (origin && is(origin.gateway, "bpmn:ParallelGateway")) {
      const seen = exits.get(origin.gateway) || new Set();
      seen.add(origin.via.id);
      exits.set(origin.gateway, seen);
    }
  });
  exits.forEach((seen, gateway) => {
    if (seen.size > 1) {
      reporter.report(
        node.id,
        `排他网关${label(node)}汇合了并行网关${label(gateway)}分出的分支, 之后的步骤会执行多次: ` +
          "并行分支请用并行网关汇合",
      );
    }
  });
});

const REFUSED = {
  "bpmn:ScriptTask": "不允许脚本任务: 流程不能包含代码, 请改用人工任务和网关条件",
  "bpmn:ServiceTask": "不支持服务任务: 流程不能调用外部服务",
  "bpmn:SendTask": "暂不支持发送任务 (消息)",
  "bpmn:ReceiveTask": "暂不支持接收任务 (消息)",
};

// What the upload refuses outright (engine/bundles/checks.py FORBIDDEN).
export const refusedElements = rule((node, reporter) => {
  Object.keys(REFUSED).forEach((type) => {
    if (is(node, type)) reporter.report(node.id, REFUSED[type]);
  });
  if (is(node, "bpmn:Event")) {
    (node.eventDefinitions || []).forEach((definition) => {
      if (is(definition, "bpmn:MessageEventDefinition")) {
        reporter.report(node.id, "暂不支持消息事件");
      }
    });
  }
  const extensions = (node.extensionElements && node.extensionElements.values) || [];
  extensions.forEach((extension) => {
    if (isAny(extension, ["camunda:ExecutionListener", "camunda:TaskListener"])) {
      reporter.report(node.id, "不允许监听器: 流程不能包含代码");
    } else if (is(extension, "camunda:InputOutput")) {
      reporter.report(node.id, "不支持 camunda:inputOutput 映射");
    }
  });
});

// A timer needs its time: a date, a duration or a cycle, not empty.
export const timerDefinition = rule((node, reporter) => {
  if (!is(node, "bpmn:Event")) return;
  (node.eventDefinitions || []).forEach((definition) => {
    if (!is(definition, "bpmn:TimerEventDefinition")) return;
    const set = ["timeDate", "timeDuration", "timeCycle"].some((key) => {
      const value = definition[key];
      return value && (value.body || "").trim();
    });
    if (!set) {
      reporter.report(
        node.id,
        `定时器${label(node)}没有设置时间: 请填写日期、时长 (如 "P10D") 或周期`,
      );
    }
  });
});

export default {
  "user-task-groups": userTaskGroups,
  "gateway-conditions": gatewayConditions,
  "exclusive-split-parallel-join": exclusiveSplitParallelJoin,
  "parallel-split-exclusive-join": parallelSplitExclusiveJoin,
  "refused-elements": refusedElements,
  "timer-definition": timerDefinition,
};
