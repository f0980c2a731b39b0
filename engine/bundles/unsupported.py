"""BPMN elements the engine does not run as BPMN means them: refused at upload, naming each.

Each of these was accepted before and then failed or silently did nothing in a case (issue 22):

- `bpmn:adHocSubProcess`: SpiffWorkflow runs it with a completion condition it cannot evaluate
  without one, and it has no way for a clerk to choose which of its tasks to do;
- compensation (`bpmn:compensateEventDefinition` on a throw, end or boundary event, an activity
  with `isForCompensation="true"`): SpiffWorkflow 3.2.0 reads a compensation throw as a "none"
  event (nothing is compensated) and fails on a compensation boundary event;
- conditional events (`bpmn:conditionalEventDefinition`): the condition is evaluated once, when
  the event is reached, on the data of its own path, and never again, so a case waiting on a
  false condition waits for ever;
- a timer, signal or conditional start event of a process (not of an event subprocess): a case
  is started by a clerk (收件), never by a clock or a signal.

A file refused here is not handed to SpiffWorkflow, as with the policy refusals
(engine/bundles/checks.py `forbidden_constructs`).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.bpmn.namespaces import BPMN, local_name, tag

from .problems import Problem

_AD_HOC = (
    "暂不支持临时子流程 {label} (bpmn:adHocSubProcess): 本系统不能让办理人自选其中的任务; "
    "请改用普通子流程, 其中的任务用连线和网关连接"
)
_COMPENSATE = (
    "暂不支持补偿事件 {label} (bpmn:compensateEventDefinition): 引擎不会执行补偿; "
    "请删去它, 把撤销的步骤画成普通的任务和连线"
)
_FOR_COMPENSATION = (
    '暂不支持补偿处理任务 {label} (isForCompensation="true"): 它只由补偿事件启动, 而引擎不执行'
    "补偿; 请删去它, 或画成普通的任务并用连线连上"
)
_CONDITIONAL = (
    "暂不支持条件事件 {label} (bpmn:conditionalEventDefinition): 条件只在办件到达时判断一次, "
    "之后不再判断, 条件不成立时办件将永远等待; 请改用排他网关"
)
_START = {
    "timerEventDefinition": (
        "流程 '{process}' 的开始事件 {label} 是定时开始事件: 本系统的办件由收件人员开始, "
        "不会按时间自动发起; 请删去定时器定义, 改为普通开始事件"
    ),
    "signalEventDefinition": (
        "流程 '{process}' 的开始事件 {label} 是信号开始事件: 本系统的办件由收件人员开始, "
        "不会由信号发起; 请删去信号定义, 改为普通开始事件"
    ),
}


def _label(node: etree._Element) -> str:
    name = " ".join((node.get("name") or "").split())
    return f"'{name}' ({node.get('id')})" if name else f"'{node.get('id')}'"


def _problem(message: str, node: etree._Element, file: str) -> Problem:
    return Problem(message.format(label=_label(node)), node.get("id"), node.sourceline, file)


def constructs(root: etree._Element, file: str) -> Iterator[Problem]:
    """A problem for each element of the document the engine does not support."""
    for node in root.iter(tag(BPMN, "adHocSubProcess")):
        yield _problem(_AD_HOC, node, file)
    for definition in root.iter(tag(BPMN, "compensateEventDefinition")):
        yield _problem(_COMPENSATE, _event(definition), file)
    for node in root.iter(tag=etree.Element):
        if node.get("isForCompensation") == "true":
            yield _problem(_FOR_COMPENSATION, node, file)
    for process in root.iter(tag(BPMN, "process")):
        for start in process.iterchildren(tag(BPMN, "startEvent")):
            for definition in start.iterchildren(tag=etree.Element):
                kind = local_name(definition.tag)
                if kind in _START:
                    yield _problem(_START[kind].replace("{process}", _id(process)), start, file)
    for definition in root.iter(tag(BPMN, "conditionalEventDefinition")):
        yield _problem(_CONDITIONAL, _event(definition), file)


def _id(node: etree._Element) -> str:
    return node.get("id") or ""


def _event(definition: etree._Element) -> etree._Element:
    """The event an event definition belongs to (the definition itself if it stands alone)."""
    parent = definition.getparent()
    return parent if parent is not None and parent.get("id") else definition


__all__ = ["constructs"]
