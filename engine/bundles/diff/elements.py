"""Reading the elements of BPMN documents, as the comparison sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn import manifest
from engine.bpmn.namespaces import BPMN, CAMUNDA, NSMAP, local_name, tag
from engine.bpmn.xml import XmlProblem, parse_xml

TYPE_NAMES = {
    "userTask": "用户任务",
    "manualTask": "人工任务",
    "task": "任务",
    "businessRuleTask": "业务规则任务",
    "callActivity": "调用活动",
    "subProcess": "子流程",
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件",
    "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关",
    "sequenceFlow": "顺序流",
    "lane": "泳道",
    "dataObjectReference": "数据对象",
    "dataStoreReference": "数据存储",
    "textAnnotation": "注释",
}
# Elements of a process that are not compared as elements of their own.
_SKIPPED = {"laneSet", "dataObject", "association", "documentation", "extensionElements"}
_TIMERS = ("timeDate", "timeDuration", "timeCycle")


def type_name(local: str) -> str:
    return TYPE_NAMES.get(local, local)


@dataclass(frozen=True)
class Element:
    """One element of a process as the comparison sees it."""

    id: str
    type: str
    values: dict[str, str]

    @property
    def name(self) -> str:
        return self.values.get("name", "")

    @property
    def label(self) -> str:
        """`用户任务 '一窗受理' (intake)`: how a change names the element."""
        shown = f" '{self.name}'" if self.name else ""
        return f"{type_name(self.type)}{shown} ({self.id})"


def _text(node: etree._Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _element(node: etree._Element, lanes: dict[str, str], tasks: dict[str, Any]) -> Element:
    local = local_name(str(node.tag))
    values: dict[str, str] = {"type": local}
    name = " ".join((node.get("name") or "").split())
    if name:
        values["name"] = name
    if local == "sequenceFlow":
        values["source"] = node.get("sourceRef", "")
        values["target"] = node.get("targetRef", "")
        condition = _text(node.find(tag(BPMN, "conditionExpression")))
        if condition:
            values["condition"] = condition
    if node.get("default"):
        values["default"] = node.get("default", "")
    element_id = node.get("id", "")
    if element_id in lanes and local != "lane":
        values["lane"] = lanes[element_id]
    info = tasks.get(element_id)
    if info is not None:
        values["groups"] = "、".join(info.groups)
        if info.candidate_users:
            values["candidate_users"] = "、".join(info.candidate_users)
        if info.assignee:
            values["assignee"] = info.assignee
        if info.form:
            values["form"] = info.form
        if info.properties:
            values["properties"] = ", ".join(f"{k}={v}" for k, v in sorted(info.properties.items()))
    elif local == "startEvent":
        form = manifest.form_key(node)
        if form:
            values["form"] = form
    timers = [
        f"{t}: {_text(found)}"
        for t in _TIMERS
        for found in node.iterfind(f"./bpmn:timerEventDefinition/bpmn:{t}", NSMAP)
    ]
    if timers:
        values["timer"] = "; ".join(timers)
    if node.get("calledElement"):
        values["called"] = node.get("calledElement", "")
    decision = node.get(tag(CAMUNDA, "decisionRef"))
    if decision:
        values["decision"] = decision
    if node.get("attachedToRef"):
        values["attached"] = node.get("attachedToRef", "")
    documentation = _text(node.find(tag(BPMN, "documentation")))
    if documentation:
        values["documentation"] = documentation
    return Element(element_id, local, values)


def read_elements(xml: bytes) -> dict[str, Element]:
    """The elements of every process of a BPMN document, by id. Raises XmlProblem."""
    root = parse_xml(xml).getroot()
    lanes = manifest.lanes_by_element(root)
    tasks = {info.element: info for info in manifest.read_human_tasks(root)}
    found: dict[str, Element] = {}
    for process in root.iter(tag(BPMN, "process")):
        for node in process.iter(etree.Element):
            if node is process or not isinstance(node.tag, str):
                continue
            if etree.QName(node).namespace != BPMN or not node.get("id"):
                continue
            local = etree.QName(node).localname
            if local in _SKIPPED or local.endswith("EventDefinition"):
                continue
            found[node.get("id", "")] = _element(node, lanes, tasks)
    return found


def _bpmn_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.lower().endswith((".bpmn", ".bpmn20.xml"))}


def all_elements(files: dict[str, str], unreadable: list[str]) -> dict[str, Element]:
    found: dict[str, Element] = {}
    for path, text in sorted(_bpmn_files(files).items()):
        try:
            found.update(read_elements(text.encode("utf-8")))
        except XmlProblem:
            unreadable.append(path)
    return found
