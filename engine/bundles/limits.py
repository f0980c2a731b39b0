"""Upload checks that keep the work a case can ask of the engine bounded.

What the engine refuses at run time anyway (engine/bpmn/bounds.py, the timer budget), refused
where an upload already says it: a constant multi-instance cardinality or loop maximum above
`max_instances`, a constant timer shorter than `min_timer_seconds`, and processes with more
elements than SpiffWorkflow can run (`MAX_FLOW_NODES`: it predicts a chain of elements one
recursive call each when a case starts).

And the size of what the upload checks do one by one, bounded for the whole upload: every check
is linear, but some cost much per item (an expression is parsed and compiled, a DMN input entry
several times as DMNEngine would build it: about 0.3 ms each) and a 20 MiB upload holds hundreds
of thousands of them. Past `MAX_UPLOAD_FLOW_NODES` elements or `MAX_EXPRESSIONS` expressions the
upload is refused at once, with its numbers, before those checks and SpiffWorkflow's parse run.

Each check returns problems (engine/bundles/problems.py), one pass over the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn import timer_texts
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import BPMN, NSMAP, tag
from engine.bpmn.parser import LianbanParser
from engine.config import EngineLimits
from engine.expressions import compile_expression

from .problems import Problem

# Elements per process (or subprocess) at most. When a case starts, SpiffWorkflow predicts the
# tasks ahead along every path, one recursive call per element, and it builds a task for each
# element so predicted; a chain of about 800 elements ends in RecursionError before any step.
MAX_FLOW_NODES = 500

# For the whole upload (every process of every file): elements, and expressions (conditions,
# timers, multi-instance and loop expressions, DMN input expressions and entries, output entries).
MAX_UPLOAD_FLOW_NODES = 5000
MAX_EXPRESSIONS = 5000

FLOW_NODES = frozenset(LianbanParser.PARSER_CLASSES) | frozenset(
    LianbanParser.OVERRIDE_PARSER_CLASSES
)
CONTAINERS = tuple(
    tag(BPMN, t) for t in ("process", "subProcess", "transaction", "adHocSubProcess")
)
_FROM = datetime(2026, 1, 1, tzinfo=UTC)  # durations in months or years are measured from here


def _owner_problem(message: str, node: etree._Element, file: str) -> Problem:
    current: etree._Element | None = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    owner = current if current is not None else node
    return Problem(message, owner.get("id"), node.sourceline, file)


def _constant(text: str) -> object:
    """The value of an expression that reads no case data; `_NOT_CONSTANT` otherwise."""
    try:
        expression = compile_expression(text, ENGINE_FUNCTIONS)
        if expression.names:
            return _NOT_CONSTANT
        return expression.evaluate({})
    except Exception:  # ExpressionError, EvaluationError: reported by checks.expressions
        return _NOT_CONSTANT


_NOT_CONSTANT = object()


_BPMN_EXPRESSIONS = tuple(
    tag(BPMN, t)
    for t in (
        "conditionExpression",
        "timeDate",
        "timeDuration",
        "timeCycle",
        "loopCardinality",
        "completionCondition",
        "loopCondition",
        "condition",
        "loopDataInputRef",
    )
)
_DMN_CELLS = ("inputExpression", "inputEntry", "outputEntry")


def flow_nodes(root: etree._Element) -> int:
    """The elements SpiffWorkflow builds a task spec for, in every process of a BPMN document."""
    return sum(1 for node in root.iter() if node.tag in FLOW_NODES)


def expressions(root: etree._Element) -> int:
    """The expressions of a BPMN document, or the cells of a DMN document, the checks compile."""
    namespace = etree.QName(root).namespace or ""
    if namespace == BPMN:
        return sum(1 for _ in root.iter(*_BPMN_EXPRESSIONS))
    return sum(1 for _ in root.iter(*(tag(namespace, t) for t in _DMN_CELLS)))


def upload_size_problems(flow_node_count: int, expression_count: int) -> list[Problem]:
    """The upload as a whole within MAX_UPLOAD_FLOW_NODES and MAX_EXPRESSIONS."""
    found = []
    if flow_node_count > MAX_UPLOAD_FLOW_NODES:
        found.append(
            Problem(
                f"上传内容共有 {flow_node_count} 个流程元素 (任务、事件、网关等), 超过一个事项包的上限 "
                f"{MAX_UPLOAD_FLOW_NODES}"
            )
        )
    if expression_count > MAX_EXPRESSIONS:
        found.append(
            Problem(
                f"上传内容共有 {expression_count} 个表达式 (条件、定时器、多实例、决策表单元格), "
                f"超过上限 {MAX_EXPRESSIONS}; 没有逐一检查: 请精简决策表或拆分事项包"
            )
        )
    return found


def process_sizes(root: etree._Element, file: str) -> Iterator[Problem]:
    """No process or subprocess holds more than MAX_FLOW_NODES elements."""
    for container in root.iter(*CONTAINERS):
        count = sum(1 for child in container if child.tag in FLOW_NODES)
        if count > MAX_FLOW_NODES:
            yield _owner_problem(
                f"流程 '{container.get('id')}' 有 {count} 个元素 (任务、事件、网关等), "
                f"超过上限 {MAX_FLOW_NODES}: 请拆分为子流程或被调用的流程",
                container,
                file,
            )


def instance_counts(root: etree._Element, file: str, limits: EngineLimits) -> Iterator[Problem]:
    """A constant multi-instance cardinality is a whole number within max_instances, and so is
    a loop's loopMaximum."""
    limit = limits.max_instances
    for node in root.xpath("//bpmn:loopCardinality", namespaces=NSMAP):
        value = _constant((node.text or "").strip())
        if value is _NOT_CONSTANT:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            yield _owner_problem(f"多实例数量应为不小于 0 的整数, 不能是 {value!r}", node, file)
        elif value > limit:
            yield _owner_problem(f"多实例数量 {_number(value)} 超过上限 {limit}", node, file)
    for node in root.iter(tag(BPMN, "standardLoopCharacteristics")):
        maximum = (node.get("loopMaximum") or "").strip()
        digits = maximum.isascii() and maximum.isdigit()  # not "²", which int() refuses
        if digits and int(maximum) > limit:
            yield _owner_problem(
                f"循环次数上限 loopMaximum {_number(int(maximum))} 超过上限 {limit}", node, file
            )
        elif maximum and not digits:
            yield _owner_problem(f"loopMaximum 应为整数, 不能是 '{maximum}'", node, file)


def _number(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:6]}… ({len(text)} 位数)"


def timer_intervals(root: etree._Element, file: str, limits: EngineLimits) -> Iterator[Problem]:
    """A constant duration, or the interval of a constant cycle, is at least min_timer_seconds
    (an expression reading case data is bounded when the timer starts)."""
    shortest = timedelta(seconds=limits.min_timer_seconds)
    for kind, what in (("timeDuration", "定时器时长"), ("timeCycle", "定时器周期的间隔")):
        for node in root.iter(tag(BPMN, kind)):
            value = _constant(timer_texts.expression_of((node.text or "").strip()))
            if not isinstance(value, str):
                continue
            length = _length(kind, value)
            if length is not None and length < shortest:
                yield _owner_problem(
                    f"{what} {value} 短于下限 {limits.min_timer_seconds} 秒: "
                    "流程不能无人参与地反复快速推进",
                    node,
                    file,
                )


def _length(kind: str, value: str) -> timedelta | None:
    """How long a constant duration, or a constant cycle's interval, is (None when it does
    not parse: checks.expressions reports that)."""
    try:
        if kind == "timeDuration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            length = TimerEventDefinition.get_timedelta_from_start(parsed, _FROM)
            return length if isinstance(length, timedelta) else None
        _, _, interval = TimerEventDefinition.parse_iso_recurring_interval(value)
        return interval if isinstance(interval, timedelta) else None
    except Exception:  # SpiffWorkflow's parsers raise bare Exceptions
        return None
