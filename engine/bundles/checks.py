"""Checks of BPMN and DMN documents that SpiffWorkflow does not make: no code, safe expressions,
groups, decision tables the engine can run as written.

Each check returns problems rather than raising, so one upload reports everything at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn import dmn
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import BPMN, CAMUNDA, NSMAP, SPIFF, local_name, tag
from engine.domain.bundle_versions import HumanTaskInfo
from engine.domain.timelimits import MAX_WORKDAYS
from engine.expressions import check_expression, compile_expression

from . import hints
from .problems import Problem

# Elements that would run code or call out of the engine, with the reason given to the designer.
FORBIDDEN_ELEMENTS = {
    tag(BPMN, "scriptTask"): "不允许脚本任务: 上传的流程不能包含代码, 请改用用户任务和网关条件",
    tag(BPMN, "serviceTask"): "不支持服务任务: 流程不能调用外部服务",
    tag(BPMN, "sendTask"): "暂不支持发送任务 (消息)",
    tag(BPMN, "receiveTask"): "暂不支持接收任务 (消息)",
    tag(BPMN, "messageEventDefinition"): "暂不支持消息事件",
    tag(BPMN, "script"): "不允许脚本: 上传的流程不能包含代码",
    tag(SPIFF, "preScript"): "不允许前置脚本 (preScript): 上传的流程不能包含代码",
    tag(SPIFF, "postScript"): "不允许后置脚本 (postScript): 上传的流程不能包含代码",
    tag(SPIFF, "serviceTaskOperator"): "不支持服务任务: 流程不能调用外部服务",
    tag(CAMUNDA, "executionListener"): "不允许执行监听器: 上传的流程不能包含代码",
    tag(CAMUNDA, "taskListener"): "不允许任务监听器: 上传的流程不能包含代码",
    tag(CAMUNDA, "script"): "不允许脚本: 上传的流程不能包含代码",
    tag(CAMUNDA, "inputOutput"): "不支持 camunda:inputOutput 映射",
    tag(CAMUNDA, "connector"): "不支持 camunda 连接器",
}
FORBIDDEN_ATTRIBUTES = {
    tag(CAMUNDA, "class"): "不允许 camunda:class: 流程不能调用程序代码",
    tag(CAMUNDA, "delegateExpression"): "不允许 camunda:delegateExpression",
    tag(CAMUNDA, "expression"): "不允许 camunda:expression",
    tag(CAMUNDA, "type"): "不支持 camunda:type 外部任务",
    tag(CAMUNDA, "resultVariable"): "不支持 camunda:resultVariable",
}
_FORBIDDEN_ATTRIBUTE_NAMES = frozenset(FORBIDDEN_ATTRIBUTES)
# Where an expression sits, as (path relative to its owning element, what it is).
EXPRESSION_PLACES = (
    ("./bpmn:conditionExpression", "条件"),
    ("./bpmn:timeDate", "定时器日期"),
    ("./bpmn:timeDuration", "定时器时长"),
    ("./bpmn:timeCycle", "定时器周期"),
    ("./bpmn:loopCardinality", "多实例数量"),
    ("./bpmn:completionCondition", "多实例完成条件"),
    ("./bpmn:loopCondition", "循环条件"),
    ("./bpmn:condition", "条件事件条件"),
)


TIMER_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "./bpmn:timeDate": (
        'ISO 8601 日期时间, 如 "2026-12-01T09:00:00+08:00"',
        TimerEventDefinition.get_datetime,
    ),
    "./bpmn:timeDuration": ('ISO 8601 时长, 如 "P10D"', TimerEventDefinition.parse_iso_duration),
    "./bpmn:timeCycle": (
        'ISO 8601 重复间隔, 如 "R3/PT1H"',
        TimerEventDefinition.parse_iso_recurring_interval,
    ),
}
_LOOKS_LIKE_ISO = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$|^\d{4}-\d{2}-\d{2}", re.IGNORECASE)


def _timer_problem(path: str, text: str) -> str | None:
    """A constant timer must evaluate to text in ISO 8601; an unquoted literal gets a hint."""
    expected, parse = TIMER_PARSERS[path]
    expression = compile_expression(text, ENGINE_FUNCTIONS)
    if expression.names:
        if _LOOKS_LIKE_ISO.match(text.strip()):
            return f'需要加引号, 写作 "{text.strip()}"'
        return None  # depends on case data: checked when the timer starts
    try:
        value = expression.evaluate({})
        if not isinstance(value, str):
            return f"的值应为{expected}"
        parse(value)
    except Exception:  # EvaluationError, or SpiffWorkflow's parse errors (bare Exception)
        return f"的值应为{expected}"
    return None


def _owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor (or self) with an id: what an error should name."""
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return current
        current = current.getparent()
    return node


def _problem(message: str, node: etree._Element, file: str) -> Problem:
    owner = _owner(node)
    return Problem(message, owner.get("id"), node.sourceline, file)


# Text a modeler shows and a page may one day render: plain text only. Markup inside (an XHTML
# <script>, say) would be served to browsers one day; it is data no modeler writes.
_TEXT_ONLY = frozenset({tag(BPMN, "documentation"), tag(BPMN, "text")})


def forbidden_constructs(root: etree._Element, file: str) -> Iterator[Problem]:
    condition = tag(BPMN, "conditionExpression")
    for node in root.iter(tag=etree.Element):
        reason = FORBIDDEN_ELEMENTS.get(node.tag)
        if reason:
            yield _problem(f"{reason} ({local_name(node.tag)})", node, file)
        if node.tag in _TEXT_ONLY and len(node):
            inner = next(iter(node.iterchildren(tag=etree.Element)), None)
            if inner is not None:
                yield _problem(
                    f"说明文字 ({local_name(node.tag)}) 只能是纯文本, 不能包含标记 "
                    f"(<{local_name(inner.tag)}>)",
                    node,
                    file,
                )
        attributes = node.attrib
        if not attributes:
            continue
        if not _FORBIDDEN_ATTRIBUTE_NAMES.isdisjoint(attributes.keys()):
            for attr, why in FORBIDDEN_ATTRIBUTES.items():
                if attr in attributes:
                    yield _problem(why, node, file)
        lang = attributes.get("language")
        if node.tag == condition and lang and "python" not in lang.lower():
            yield _problem(f"不支持的表达式语言 '{lang}': 请使用本系统的表达式", node, file)


def expressions(root: etree._Element, file: str) -> Iterator[Problem]:
    for path, what in EXPRESSION_PLACES:
        for node in root.xpath("//" + path[2:], namespaces=NSMAP):
            text = (node.text or "").strip()
            if not text:
                yield _problem(f"{what}表达式为空", node, file)
                continue
            error = check_expression(text, ENGINE_FUNCTIONS)
            if error is not None:
                hint = hints.condition_hint(text)
                yield _problem(f"{what}表达式 `{text}` 无效: {error.message}{hint}", node, file)
            elif path in TIMER_PARSERS:
                problem = _timer_problem(path, text)
                if problem:
                    yield _problem(f"{what}表达式 `{text}` {problem}", node, file)
    for node in root.xpath("//bpmn:loopDataInputRef", namespaces=NSMAP):
        text = (node.text or "").strip()
        if not text.isidentifier() or text.startswith("_"):
            yield _problem(f"多实例集合 `{text}` 必须是一个数据字段名", node, file)
    for node in root.xpath(
        "//bpmn:multiInstanceLoopCharacteristics[@camunda:collection]", namespaces=NSMAP
    ):
        yield _problem(
            "请用标准的 loopDataInputRef 指定多实例集合, 不支持 camunda:collection", node, file
        )


def flow_ends(root: etree._Element, file: str) -> Iterator[Problem]:
    """Each sequence flow starts and ends at an element of its own process or subprocess.

    The ids of each container's children are collected once (linear in the document)."""
    ids_in: dict[etree._Element, set[str]] = {}
    for flow in root.iter(tag(BPMN, "sequenceFlow")):
        container = flow.getparent()
        if container is None:
            continue
        here = ids_in.get(container)
        if here is None:
            here = {i for node in container if isinstance(node.tag, str) and (i := node.get("id"))}
            ids_in[container] = here
        for attr, end in (("sourceRef", "起点"), ("targetRef", "终点")):
            ref = flow.get(attr)
            if not ref:
                yield _problem(f"连线 '{flow.get('id')}' 没有{end} ({attr})", flow, file)
            elif ref not in here or ref == flow.get("id"):
                yield _problem(
                    f"连线 '{flow.get('id')}' 的{end} '{ref}' 不是同一流程中的元素", flow, file
                )


def gateway_flows(root: etree._Element, file: str) -> Iterator[Problem]:
    """Each outgoing flow of a deciding gateway needs a condition, except its default flow."""
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in root.iter(tag(BPMN, "sequenceFlow")):
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    for kind in ("exclusiveGateway", "inclusiveGateway"):
        for gateway in root.iter(tag(BPMN, kind)):
            flows = outgoing.get(gateway.get("id") or "", [])
            if len(flows) < 2:
                continue
            default = gateway.get("default")
            for flow in flows:
                has_condition = flow.find(tag(BPMN, "conditionExpression")) is not None
                if not has_condition and flow.get("id") != default:
                    yield _problem(
                        f"网关 '{gateway.get('id')}' 的出口连线没有条件, 也不是默认连线",
                        flow,
                        file,
                    )


# Properties a human task may carry for the 政务 rules, and what their values must be.
CLOCK_PAUSE = "pause"
CERTIFICATE_ACTIONS = ("issue", "revoke")


# What the database stores of a human task, and how long each may be.
TASK_LIMITS = {"element": 200, "name": 300, "form": 300, "group": 100, "assignee": 100}


def human_task_rules(info: HumanTaskInfo, file: str) -> Iterator[Problem]:
    """Lengths the database can store; `clock` (pause: the time limit stops while the task is
    open) and `time_limit` (working days, a number or the name of a case data field)."""
    values = {
        "element": info.element,
        "name": info.name,
        "form": info.form or "",
        "assignee": info.assignee or "",
    }
    values["group"] = max(info.groups, key=len, default="")
    for what, value in values.items():
        if len(value) > TASK_LIMITS[what]:
            yield Problem(
                f"人工任务的 {what} 过长 ({len(value)} 个字符, 上限 {TASK_LIMITS[what]})",
                info.element[:200],
                info.line,
                file,
            )
    props = info.properties
    clock = props.get("clock")
    if clock is not None and clock != CLOCK_PAUSE:
        yield Problem(
            f"属性 clock 只能是 '{CLOCK_PAUSE}' (暂停计时), 不能是 '{clock}'",
            info.element,
            info.line,
            file,
        )
    action = props.get("certificate_action")
    if action is not None and action not in CERTIFICATE_ACTIONS:
        yield Problem(
            f"属性 certificate_action 只能是 issue (发证) 或 revoke (撤销), 不能是 '{action}'",
            info.element,
            info.line,
            file,
        )
    limit = props.get("time_limit")
    if limit is not None and not (
        (limit.isascii() and limit.isdigit() and int(limit) <= MAX_WORKDAYS)
        or (limit.isidentifier() and not limit.startswith("_"))
    ):
        yield Problem(
            f"属性 time_limit 应为工作日数或数据字段名, 不能是 '{limit}'",
            info.element,
            info.line,
            file,
        )


SEND_BACK_OFF = ("false", "no", "0", "否")


def send_back_rules(
    human_tasks: Mapping[str, HumanTaskInfo], files: Mapping[str, str]
) -> Iterator[Problem]:
    """`send_back` (退回, engine/services/send_back.py): "false" forbids sending a task back;
    else a comma-separated list of the user tasks it may be sent back to, each one of the
    bundle's other user tasks."""
    for element, info in human_tasks.items():
        value = (info.properties.get("send_back") or "").strip()
        if not value or value.lower() in SEND_BACK_OFF:
            continue
        for target in (part.strip() for part in value.split(",")):
            if target == element or target not in human_tasks:
                yield Problem(
                    f"属性 send_back 列出的退回环节 '{target[:100]}' 不是本事项包中的其他人工任务"
                    " (填 false 表示不允许退回, 或以逗号分隔的人工任务 id)",
                    element,
                    info.line,
                    files.get(element),
                )


# DMN decision tables and the business rule tasks that run them -----------------------------


_NEEDS_ID = ("decision", "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry")


def _dmn(root: etree._Element) -> Callable[[str], str]:
    namespace = etree.QName(root).namespace or ""
    return lambda local: tag(namespace, local)


def decisions(root: etree._Element) -> list[etree._Element]:
    """The decisions of a DMN document (SpiffWorkflow reads them wherever they are)."""
    return list(root.iter(_dmn(root)("decision")))


def decision_tables(root: etree._Element, file: str) -> Iterator[Problem]:
    """A DMN document (its schema is checked apart) that the engine can run exactly as written:
    one decision per file, a decision table, a supported hit policy, every cell in our
    expression language as DMNEngine will build it, outputs that are field names."""
    q = _dmn(root)
    found = decisions(root)
    if not found:
        yield Problem("DMN 文件中没有决策 (decision)", None, root.sourceline, file)
    for extra in found[1:]:
        yield _problem(
            f"每个 DMN 文件只能有一个决策, 决策 '{extra.get('id')}' 请放进单独的 .dmn 文件",
            extra,
            file,
        )
    for node in root.iter(q("requiredDecision")):
        yield _problem(
            "不支持决策之间的依赖 (requiredDecision): 业务规则任务只执行它引用的那一个决策表",
            node,
            file,
        )
    for decision in found:
        for local in _NEEDS_ID:  # SpiffWorkflow's DMN parser reads each one's id
            for node in decision.iter(q(local)):
                if not node.get("id"):
                    yield _problem(f"DMN 元素 {local} 缺少 id", node, file)
        table = decision.find(q("decisionTable"))
        if table is None:
            yield _problem(
                f"决策 '{decision.get('id')}' 不是决策表: 只支持决策表 (decisionTable)",
                decision,
                file,
            )
            continue
        yield from _decision_table(table, q, file)


def _text(node: etree._Element | None, q: Callable[[str], str]) -> str | None:
    """The `text` child's content, as SpiffWorkflow reads it (not stripped)."""
    found = node.find(q("text")) if node is not None else None
    return found.text if found is not None else None


def _decision_table(table: etree._Element, q: Callable[[str], str], file: str) -> Iterator[Problem]:
    policy = table.get("hitPolicy", "UNIQUE").upper()
    if policy not in dmn.HIT_POLICIES:
        yield _problem(
            f"不支持命中策略 {policy}: 只支持 UNIQUE (唯一)、FIRST (首个命中) 和 COLLECT (收集)",
            table,
            file,
        )
    if table.get("aggregation"):
        yield _problem(
            f"不支持 COLLECT 的聚合 {table.get('aggregation')}: 收集的结果总是所有命中规则的输出列表",
            table,
            file,
        )
    inputs = []
    for column in table.findall(q("input")):
        expression = column.find(q("inputExpression"))
        text = _text(expression, q)
        problem = dmn.input_expression_problem(text)
        if problem is not None:
            yield _problem(problem, expression if expression is not None else column, file)
            text = dmn.STAND_IN_INPUT  # its entries are still checked, against a stand-in
        inputs.append(text or "")
    outputs = []
    for column in table.findall(q("output")):
        name = column.get("name") or column.get("label") or ""
        if not name.isidentifier() or name.startswith("_"):
            yield _problem(
                f"输出列的 name '{name}' 必须是数据字段名 (字母、数字、下划线, 不以下划线或数字开头, 不含 .)",
                column,
                file,
            )
        elif name in outputs:
            yield _problem(f"输出列的 name '{name}' 重复", column, file)
        if column.find(q("defaultOutputEntry")) is not None:
            yield _problem(
                "不支持输出的默认值 (defaultOutputEntry): 请加一条所有输入都为 - 的规则",
                column,
                file,
            )
        outputs.append(name)
    for rule in table.findall(q("rule")):
        input_entries = rule.findall(q("inputEntry"))
        output_entries = rule.findall(q("outputEntry"))
        if len(input_entries) != len(inputs) or len(output_entries) != len(outputs):
            yield _problem(
                f"规则有 {len(input_entries)} 个输入条目、{len(output_entries)} 个输出条目, "
                f"决策表有 {len(inputs)} 个输入列、{len(outputs)} 个输出列",
                rule,
                file,
            )
            continue
        for entry, input_expression in zip(input_entries, inputs, strict=True):
            text = _text(entry, q)
            if text is None or text == "-":  # any value
                continue
            problem = dmn.input_entry_problem(input_expression, text)
            if problem is not None:
                yield _problem(f"输入条目 `{_snippet(text)}` {problem}", entry, file)
        for entry, name in zip(output_entries, outputs, strict=True):
            text = _text(entry, q) or ""
            problem = dmn.output_entry_problem(text, name)
            if problem is not None:
                yield _problem(f"输出条目 `{_snippet(text)}` {problem}", entry, file)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def business_rule_tasks(
    root: etree._Element, file: str, known: Collection[str] | None
) -> Iterator[Problem]:
    """Each business rule task names one decision of the upload (`known`; None when they are
    not all known, and a decision is then not looked up)."""
    for node in root.iter(tag(BPMN, "businessRuleTask")):
        camunda = (node.get(tag(CAMUNDA, "decisionRef")) or "").strip()
        spiff_node = node.find(
            f"./{tag(BPMN, 'extensionElements')}/{tag(SPIFF, 'calledDecisionId')}"
        )
        spiff = (spiff_node.text or "").strip() if spiff_node is not None else ""
        ref = dmn.decision_ref(node)
        if camunda and spiff and camunda != spiff:
            yield _problem(
                f"camunda:decisionRef '{camunda}' 与 spiffworkflow:calledDecisionId '{spiff}' 不一致",
                node,
                file,
            )
        elif ref is None:
            yield _problem(
                "业务规则任务没有指定决策: 请设置 camunda:decisionRef (Camunda Modeler) "
                "或 spiffworkflow:calledDecisionId (bpmn.io)",
                node,
                file,
            )
        elif known is not None and ref not in known:
            available = "、".join(sorted(known)) if known else "无 (上传内容中没有 .dmn 文件)"
            yield _problem(
                f"业务规则任务引用的决策 '{ref}' 不存在; 上传内容中的决策: {available}", node, file
            )
