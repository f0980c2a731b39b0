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

from engine.bpmn import dmn, timer_texts
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import ACTIVITI, BPMN, CAMUNDA, FLOWABLE, NSMAP, SPIFF, local_name, tag
from engine.domain.bundle_versions import HumanTaskInfo
from engine.domain.timelimits import MAX_WORK_HOURS, MAX_WORKDAYS, hour_limit
from engine.expressions import check_expression, compile_expression

from . import decision_checks, hints
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
# Flowable and Activiti write the same listeners, classes and expressions in their namespaces
for _ns, _prefix in ((FLOWABLE, "flowable"), (ACTIVITI, "activiti")):
    for _table in (FORBIDDEN_ELEMENTS, FORBIDDEN_ATTRIBUTES):
        for _name, _why in list(_table.items()):
            if _name.startswith(f"{{{CAMUNDA}}}"):
                _local = local_name(_name)
                _table[tag(_ns, _local)] = _why.replace("camunda:", f"{_prefix}:").replace(
                    "camunda ", f"{_prefix} "
                )
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
                if attr in attributes and not decision_checks.allowed(node, attr):
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
            if path in TIMER_PARSERS and timer_texts.is_cron(text):  # Quartz, for a timeCycle
                if refused := timer_texts.refusal(text, path == "./bpmn:timeCycle"):
                    yield _problem(f"{what} `{text}` {refused}", node, file)
                continue
            source = timer_texts.expression_of(text) if path in TIMER_PARSERS else text
            error = check_expression(source, ENGINE_FUNCTIONS)
            if error is not None:
                hint = hints.condition_hint(text)
                yield _problem(f"{what}表达式 `{text}` 无效: {error.message}{hint}", node, file)
            elif path in TIMER_PARSERS:
                problem = _timer_problem(path, source)
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
    open) and `time_limit` (working days, a number or the name of a case data field; or working
    hours, `<n>h`)."""
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
        or hour_limit(limit) is not None
        or (limit.isidentifier() and not limit.startswith("_"))
    ):
        yield Problem(
            f"属性 time_limit 应为工作日数 (0 到 {MAX_WORKDAYS})、工作小时数"
            f" (如 4h, 1 到 {MAX_WORK_HOURS} 小时) 或数据字段名, 不能是 '{limit[:100]}'",
            info.element,
            info.line,
            file,
        )
    due = props.get(timer_texts.DUE_DATE)  # camunda:dueDate
    if due is not None and (refused := timer_texts.due_date_problem(due)):
        yield Problem(refused, info.element, info.line, file)


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


def _dmn(root: etree._Element) -> Callable[[str], str]:
    namespace = etree.QName(root).namespace or ""
    return lambda local: tag(namespace, local)


def decisions(root: etree._Element) -> list[etree._Element]:
    """The decisions of a DMN document."""
    return list(root.iter(_dmn(root)("decision")))


def decision_tables(root: etree._Element, file: str) -> Iterator[Problem]:
    """A DMN document the engine can run exactly as written (engine/bundles/decision_checks.py)."""
    yield from decision_checks.decision_tables(root, file)


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
        yield from decision_checks.result_mapping(node, file)
        if camunda and spiff and camunda != spiff:
            yield _problem(
                f"camunda:decisionRef '{camunda}' 与 spiffworkflow:calledDecisionId '{spiff}' 不一致",
                node,
                file,
            )
        elif ref is None:
            yield _problem(
                "业务规则任务没有指定决策: 请设置 camunda:decisionRef (Camunda Modeler) "
                "或 spiffworkflow:calledDecisionId (SpiffArena)",
                node,
                file,
            )
        elif known is not None and ref not in known:
            available = "、".join(sorted(known)) if known else "无 (上传内容中没有 .dmn 文件)"
            yield _problem(
                f"业务规则任务引用的决策 '{ref}' 不存在; 上传内容中的决策: {available}", node, file
            )
