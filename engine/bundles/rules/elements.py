"""Rule `elements`: events a case could reach and then wait on for ever, or not leave at all.

- link events (engine/bpmn/links.py): a link throw event goes on at the link catch event of its
  name in the same process or subprocess; a throw with no such catch, two catches of one name,
  or a throw with outgoing flows as well, is refused;
- signals: within a case SpiffWorkflow delivers a thrown signal to every event of the case
  waiting for that signal's name at that moment (a catch in a parallel branch, a boundary event
  on an open task, an event subprocess); nothing outside a case sends signals. A catch (an
  intermediate catch event, a boundary event, the start of an event subprocess, a branch of an
  event-based gateway) whose signal no element of the upload throws would never fire: refused;
- an event-based gateway keeps one due time for all its timers (SpiffWorkflow keeps one
  `event_value` per task, so two timer branches would fire together at the first one's time) and
  never fires a cycle there: at most one timer branch, a duration or a date, is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.bpmn import links
from engine.bpmn.namespaces import BPMN, tag

from ..problems import Problem
from .graph import SCOPES
from .upload import Upload

NAME = "elements"

_SIGNAL = tag(BPMN, "signalEventDefinition")
_TIMER = tag(BPMN, "timerEventDefinition")
_THROWERS = frozenset({tag(BPMN, "intermediateThrowEvent"), tag(BPMN, "endEvent")})
_CATCHERS = {
    tag(BPMN, "intermediateCatchEvent"): "办件将永远等待在信号事件 {label}",
    tag(BPMN, "boundaryEvent"): "边界事件 {label} 永远不会触发",
    tag(BPMN, "startEvent"): "事件子流程的开始事件 {label} 永远不会触发",
}


def check(upload: Upload) -> Iterator[Problem]:
    names = _signal_names(upload)
    thrown = set()
    for tree in upload.documents.values():
        for node in tree.getroot().iter(_SIGNAL):
            owner = node.getparent()
            if owner is not None and owner.tag in _THROWERS:
                thrown.add(_signal_of(node, names))
    for path, tree in upload.documents.items():
        root = tree.getroot()
        yield from _links(root, path)
        yield from _signals(root, path, names, thrown)
        yield from _event_gateways(root, path)


def _label(node: etree._Element) -> str:
    name = (node.get("name") or "").strip()
    return f"'{name}' ({node.get('id')})" if name else f"'{node.get('id')}'"


def _problem(message: str, node: etree._Element, file: str) -> Problem:
    return Problem(message, node.get("id"), node.sourceline, file)


def _links(root: etree._Element, file: str) -> Iterator[Problem]:
    for scope in root.iter(*(tag(BPMN, s) for s in SCOPES)):
        catches = links.catches(scope)
        for name, events in catches.items():
            for event in events[1:]:
                first = events[0].get("id")
                yield _problem(
                    f"链接捕获事件 {_label(event)} 与 '{first}' 的链接名称都是 '{name}': "
                    "同一流程中每个链接名称只能有一个捕获事件",
                    event,
                    file,
                )
        outgoing = {f.get("sourceRef") for f in scope.iterchildren(tag(BPMN, "sequenceFlow"))}
        for event, name in links.throws(scope):
            if name not in catches:
                yield _problem(
                    f"链接抛出事件 {_label(event)} 的链接 '{name}' 在同一流程中没有同名的链接捕获事件, "
                    "办件走到这里将无处可去: 请添加名称为 "
                    f"'{name}' 的链接捕获事件 (linkEventDefinition name), 或改正名称",
                    event,
                    file,
                )
            elif event.get("id") in outgoing:
                yield _problem(
                    f"链接抛出事件 {_label(event)} 不能再有出口连线: 办件从它转到链接 '{name}' 的捕获事件",
                    event,
                    file,
                )


def _signal_names(upload: Upload) -> dict[str, str]:
    """Every `bpmn:signal` of the upload: its name (its id when unnamed) by id."""
    found = {}
    for tree in upload.documents.values():
        for signal in tree.getroot().iter(tag(BPMN, "signal")):
            if signal.get("id"):
                found[signal.get("id") or ""] = signal.get("name") or signal.get("id") or ""
    return found


def _signal_of(definition: etree._Element, names: dict[str, str]) -> str:
    """What a signal event definition throws or catches, as SpiffWorkflow matches them: the
    referenced signal's name, else the event's own name."""
    ref = definition.get("signalRef")
    if ref:
        return str(names.get(ref, ref))
    owner = definition.getparent()
    return (owner.get("name") if owner is not None else None) or ""


def _signals(
    root: etree._Element, file: str, names: dict[str, str], thrown: set[str]
) -> Iterator[Problem]:
    for node in root.iter(_SIGNAL):
        owner = node.getparent()
        if owner is None or owner.tag not in _CATCHERS:
            continue
        signal = _signal_of(node, names)
        if signal in thrown:
            continue
        what = _CATCHERS[owner.tag].format(label=_label(owner))
        yield _problem(
            f"信号 '{signal}' 没有任何元素发出, {what}: 本系统不能从流程之外发送信号; "
            "请在流程中用信号抛出事件或信号结束事件发出它, 或删去这个信号事件",
            owner,
            file,
        )


def _event_gateways(root: etree._Element, file: str) -> Iterator[Problem]:
    for scope in root.iter(*(tag(BPMN, s) for s in SCOPES)):
        by_id = {n.get("id"): n for n in scope.iterchildren(tag=etree.Element) if n.get("id")}
        targets: dict[str, list[etree._Element]] = {}
        for flow in scope.iterchildren(tag(BPMN, "sequenceFlow")):
            target = by_id.get(flow.get("targetRef"))
            if target is not None:
                targets.setdefault(flow.get("sourceRef") or "", []).append(target)
        for gateway in scope.iterchildren(tag(BPMN, "eventBasedGateway")):
            timers = [
                (event, definition)
                for event in targets.get(gateway.get("id") or "", [])
                if (definition := event.find(_TIMER)) is not None
            ]
            if len(timers) > 1:
                listed = "、".join(_label(event) for event, _ in timers)
                yield _problem(
                    f"事件网关 {_label(gateway)} 之后有 {len(timers)} 个定时器 ({listed}): "
                    "本系统的事件网关只支持一个定时器分支; 请只保留最早到期的一个",
                    gateway,
                    file,
                )
            for event, definition in timers:
                if definition.find(tag(BPMN, "timeCycle")) is not None:
                    yield _problem(
                        f"事件网关 {_label(gateway)} 之后的定时器 {_label(event)} 是周期定时器 "
                        "(timeCycle): 事件网关只等待一次, 请改用时长 (timeDuration) 或日期 (timeDate)",
                        event,
                        file,
                    )
