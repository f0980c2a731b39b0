"""The control flow of one process or subprocess: its flow nodes and sequence flows, as the
rules read them (a boundary event leaves its host; a subprocess is one node of its parent; a link
throw event goes on at its catch, engine/bpmn/links.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn import links
from engine.bpmn.namespaces import BPMN, local_name, tag

ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "businessRuleTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)
EVENTS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)
GATEWAYS = frozenset(
    {
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})

# How a designer reads each kind in a message.
KIND_NAMES = {
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关",
    "boundaryEvent": "边界事件",
    "userTask": "人工任务",
    "subProcess": "子流程",
}


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    element: etree._Element = field(repr=False, compare=False)
    name: str = ""
    attached_to: str | None = None  # a boundary event's host
    interrupting: bool = True  # a boundary event's cancelActivity
    terminates: bool = False  # an end event with a terminateEventDefinition
    detached: bool = False  # event subprocess or compensation handler: no incoming flow by design

    @property
    def label(self) -> str:
        kind = KIND_NAMES.get(self.kind, "元素")
        return f"{kind} '{self.name}' ({self.id})" if self.name else f"{kind} '{self.id}'"


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    element: etree._Element = field(repr=False, compare=False)


@dataclass
class Graph:
    """One scope's nodes and flows (flows whose ends are not nodes of the scope are left out:
    engine/bundles/checks.py flow_ends reports them)."""

    scope: etree._Element
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    outgoing: dict[str, list[Flow]] = field(default_factory=dict)
    incoming: dict[str, list[Flow]] = field(default_factory=dict)
    boundaries: dict[str, list[Node]] = field(default_factory=dict)

    def successors(self, node: str) -> Iterator[str]:
        """Where a token may go after `node`: its flows' targets and its boundary events."""
        for flow in self.outgoing[node]:
            yield flow.target
        for boundary in self.boundaries.get(node, ()):
            yield boundary.id

    def predecessors(self, node: str) -> Iterator[str]:
        for flow in self.incoming[node]:
            yield flow.source
        host = self.nodes[node].attached_to
        if host is not None and host in self.nodes:
            yield host

    def sources(self) -> list[Node]:
        """Where the scope starts: its start events, or (none given) every node without an
        incoming flow, as BPMN starts them all."""
        starts = [n for n in self.nodes.values() if n.kind == "startEvent"]
        if starts:
            return starts
        return [
            n
            for n in self.nodes.values()
            if not self.incoming[n.id] and n.kind != "boundaryEvent" and not n.detached
        ]


def _node(element: etree._Element, kind: str) -> Node:
    definitions = {local_name(c.tag) for c in element if isinstance(c.tag, str)}
    return Node(
        id=element.get("id") or "",
        kind=kind,
        element=element,
        name=(element.get("name") or "").strip(),
        attached_to=element.get("attachedToRef") if kind == "boundaryEvent" else None,
        interrupting=element.get("cancelActivity", "true") != "false",
        terminates=kind == "endEvent" and "terminateEventDefinition" in definitions,
        detached=element.get("triggeredByEvent") == "true"
        or element.get("isForCompensation") == "true",
    )


def build(scope: etree._Element) -> Graph:
    graph = Graph(scope)
    for child in scope:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN:
            continue
        kind = local_name(child.tag)
        if kind in FLOW_NODES and child.get("id"):
            node = _node(child, kind)
            graph.nodes[node.id] = node
            graph.outgoing[node.id] = []
            graph.incoming[node.id] = []
    for child in scope.iterchildren(tag(BPMN, "sequenceFlow")):
        flow = Flow(
            child.get("id") or "", child.get("sourceRef") or "", child.get("targetRef") or "", child
        )
        if flow.source in graph.nodes and flow.target in graph.nodes:
            graph.flows[flow.id] = flow
            graph.outgoing[flow.source].append(flow)
            graph.incoming[flow.target].append(flow)
    for source, link in links.flows(scope).items():  # a link throw goes on at its catch
        target = link.get("targetRef") or ""
        if source in graph.nodes and target in graph.nodes and not graph.outgoing[source]:
            flow = Flow(link.get("id") or "", source, target, link)
            graph.flows[flow.id] = flow
            graph.outgoing[source].append(flow)
            graph.incoming[target].append(flow)
    for node in graph.nodes.values():
        if node.attached_to in graph.nodes:
            graph.boundaries.setdefault(node.attached_to, []).append(node)
    return graph


def scopes(root: etree._Element) -> Iterator[Graph]:
    """The graph of every process and subprocess of a BPMN document."""
    for element in root.iter(*(tag(BPMN, s) for s in SCOPES)):
        yield build(element)
