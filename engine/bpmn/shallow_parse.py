"""Parsing long processes without deep recursion.

SpiffWorkflow 3.2.0's `TaskParser.parse_node` parses an element and then, before connecting
them, every element its outgoing flows lead to, each by the same recursive call: the Python
stack grows by a few frames per element along the longest path it walks. A chain of about 450
elements ends in `RecursionError`, whatever the machine, and a long chain with its frames is
slow to unwind.

`ShallowProcessParser` keeps that recursion at most `DEFER_DEPTH` elements deep. An element
reached deeper is created by SpiffWorkflow's own parser with its outgoing flows hidden (the
task spec, its loop or multi-instance wrapper, its boundary events: everything but the flows
out), and its flows are connected later, from a queue, when the outermost call returns:
the targets parsed (each again at most `DEFER_DEPTH` deep), sorted by their diagram position
as SpiffWorkflow sorts them, connected through the element's own parser (`connect_outgoing`,
which adds gateway conditions and defaults). Processes no deeper than `DEFER_DEPTH` (every
process drawn by hand) are parsed exactly as SpiffWorkflow parses them.

SpiffWorkflow's parsers also look up about six XPath expressions per element, each compiled anew
by lxml on every call (most of a long process's parse time); `compiled_xpath` below, installed
as `NodeParser._xpath` by `engine/bpmn/patches.py`, gives the same results from compiled
expressions, kept in a small cache.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.node_parser import NodeParser
from SpiffWorkflow.bpmn.parser.ProcessParser import AdHocParser, ProcessParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway

from . import links

# How many elements deep the parse of one path may recurse before it is queued: a few Python
# frames each, well inside the interpreter's limit of 1,000 from any caller.
DEFER_DEPTH = 100

_DEPTH = "lianban_parse_depth"  # on the BpmnParser: nesting across all its process parsers


@lru_cache(maxsize=512)
def _compiled(expression: str, namespaces: tuple[tuple[str, str], ...]) -> etree.XPath:
    return etree.XPath(expression, namespaces=dict(namespaces))


def compiled_xpath(self: NodeParser, node: etree._Element, expression: str) -> Any:
    """`NodeParser._xpath` (`node.xpath(expression, namespaces=self.nsmap)`), compiled once."""
    return _compiled(expression, tuple(self.nsmap.items()))(node)


class ShallowParsing:
    """Mixin for SpiffWorkflow's `ProcessParser` (and `AdHocParser`); see the module."""

    parser: Any
    node: etree._Element
    spec: Any
    lane: Any
    nsmap: dict[str, str]
    filename: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._queued: deque[Any] = deque()  # element parsers whose flows wait to be connected
        self._hidden: set[str] = set()  # elements being created without their flows
        self._parsing = False  # a parse of this process is under way
        self._links: dict[str, etree._Element] | None = None  # link throw -> flow to its catch
        super().__init__(*args, **kwargs)

    def xpath(self, expression: str) -> Any:
        """`NodeParser.xpath`, except that the index of the process's elements
        (`ProcessParser._index_process_nodes`: every descendant with an id) is found by walking
        the tree: libxml2 takes time quadratic in the elements for `.//*[@id]` when the ids sit
        at different depths (a process with lanes of ten tasks: 3.7 s for 8,000 tasks)."""
        if expression == ".//*[@id]":
            return [
                node
                for node in self.node.iterdescendants()
                if isinstance(node.tag, str) and node.get("id") is not None
            ]
        return super().xpath(expression)  # type: ignore[misc]

    def get_outgoing_sequence_flows(self, source_ref: str) -> list[etree._Element]:
        if source_ref in self._hidden:
            return []
        flows: list[etree._Element] = super().get_outgoing_sequence_flows(source_ref)  # type: ignore[misc]
        if not flows:  # a link throw event goes on at its catch (engine/bpmn/links.py)
            if self._links is None:
                self._links = links.flows(self.node)
            link = self._links.get(source_ref)
            return [link] if link is not None else flows
        return flows

    def parse_node(self, node: etree._Element) -> Any:
        known = self.spec.task_specs.get(node.get("id"))
        if known is not None:
            return known
        depth: int = getattr(self.parser, _DEPTH, 0)
        if self._parsing and depth >= DEFER_DEPTH:
            return self._parse_without_flows(node)
        outermost = not self._parsing
        self._parsing = True
        setattr(self.parser, _DEPTH, depth + 1)
        try:
            spec = super().parse_node(node)  # type: ignore[misc]
            if outermost:
                self._connect_queued()
        finally:
            setattr(self.parser, _DEPTH, depth)
            if outermost:
                self._parsing = False
                self._queued.clear()
        return spec

    def _parse_without_flows(self, node: etree._Element) -> Any:
        """Create the element's task spec now, its outgoing flows later (queued)."""
        node_parser, spec_class = self.parser._get_parser_class(node.tag)
        if not node_parser or not spec_class:
            raise ValidationException(
                "There is no support implemented for this task type.",
                node=node,
                file_name=self.filename,
            )
        element = node_parser(self, spec_class, node, self.nsmap, lane=self.lane)
        self._hidden.add(node.get("id"))
        try:
            spec = element.parse_node()
        finally:
            self._hidden.discard(node.get("id"))
        self._queued.append(element)
        return spec

    def _connect_queued(self) -> None:
        while self._queued:
            element = self._queued.popleft()
            try:
                self._connect(element)
            except ValidationException:
                raise
            except Exception as err:  # as TaskParser.parse_node reports what it did not expect
                raise ValidationException(
                    repr(err), node=element.node, file_name=self.filename
                ) from err

    def _connect(self, element: Any) -> None:
        """Connect a queued element to the targets of its outgoing flows, in the order, and
        with the defaults, SpiffWorkflow's `TaskParser.parse_node` gives them."""
        flows = self.get_outgoing_sequence_flows(element.bpmn_id)
        if len(flows) > 1 and not element.handles_multiple_outgoing():
            element.raise_validation_exception(
                "Multiple outgoing flows are not supported for tasks of type"
            )
        targets = []
        for flow in flows:
            target_id = flow.get("targetRef")
            target = self.get_node_by_id(target_id)  # type: ignore[attr-defined]
            if target is None:
                element.raise_validation_exception(
                    f"When looking for a task spec, we found two items, perhaps a form has the "
                    f"same ID? ({target_id})"
                )
            split = self.spec.task_specs.get(f"{target_id}.BoundaryEventSplit")
            spec = self.parse_node(target) if split is None else split
            targets.append((float(element.get_position(target)["y"]), spec, flow))
        targets.sort(key=lambda t: t[0])
        default = element.node.get("default")
        if (
            len(targets) == 1
            and isinstance(element.task, ExclusiveGateway | InclusiveGateway)
            and element.parse_condition(targets[0][2]) is None
        ):
            default = targets[0][2].get("id")
        for _, spec, flow in targets:
            element.connect_outgoing(spec, flow, flow.get("id") == default)


class ShallowProcessParser(ShallowParsing, ProcessParser):  # type: ignore[misc]
    """SpiffWorkflow's process parser, recursing at most `DEFER_DEPTH` elements deep."""


class ShallowAdHocParser(ShallowParsing, AdHocParser):  # type: ignore[misc]
    """The same for ad hoc subprocesses."""
