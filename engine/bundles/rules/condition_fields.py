"""Rule `condition-fields`: a condition reads a field that nothing before it declares.

"Before it" is every path from the start to the element the condition leaves: the start form
(and the applicant fields of bundle.json), the forms of the human tasks on the way and the
outputs of the decisions (business rule tasks) on the way; after a parallel join, what any of
its branches declared. The names a condition reads come from its compiled expression.

An error when every element on every path is covered (a start form, each human task a form,
each decision known): the field is certainly missing and the case would stop there. A warning
otherwise (a task without a form may still supply it, so bundles without forms stay valid).
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.bpmn import dmn, manifest
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import BPMN, tag
from engine.expressions import ExpressionError, compile_expression

from ..problems import Problem
from .graph import Graph, Node, scopes
from .upload import Upload

NAME = "condition-fields"
HUMAN_TASKS = frozenset(manifest.HUMAN_TASK_TAGS)
# Data every case may carry without a form declaring it (cases.start_case).
START_DATA = frozenset({"renewal_of"})
_COMBINATORS = ("allOf", "anyOf", "oneOf", "then", "else", "if")

Fields = frozenset[str]


def form_fields(schema: Mapping[str, Any]) -> set[str]:
    """The fields a form declares: its properties, also those of its conditional parts."""
    found: set[str] = set()
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, Mapping):
            continue
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            found.update(str(k) for k in properties)
        for key in _COMBINATORS:
            value = node.get(key)
            pending.extend(value if isinstance(value, list) else [value])
        dependent = node.get("dependentSchemas")
        if isinstance(dependent, Mapping):
            pending.extend(dependent.values())
    return found


class _Declarations:
    """What each element declares, and whether it is covered (its data is fully known)."""

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        applicant = upload.metadata.applicant
        people = (applicant.phone_field, applicant.email_field, *applicant.people)
        self.start_data = START_DATA | {f for f in (*people, applicant.holder_field) if f}

    def of(self, node: Node, top_level: bool) -> tuple[Fields, bool]:
        kind, element = node.kind, node.element
        if kind == "startEvent":
            if not top_level:
                return frozenset(), True
            form = self._form(manifest.form_key(element))
            if form is None:
                return frozenset(self.start_data), False
            return frozenset(form | self.start_data), True
        if kind in HUMAN_TASKS:
            form = self._form(manifest.form_key(element))
            multi = element.find(tag(BPMN, "multiInstanceLoopCharacteristics")) is not None
            return frozenset(form or ()), form is not None and not multi
        if kind == "businessRuleTask":
            ref = dmn.decision_ref(element)
            outputs = self.upload.decision_outputs.get(ref or "")
            return frozenset(outputs or ()), outputs is not None
        if kind in ("subProcess", "transaction", "adHocSubProcess"):
            inside = set()
            for child in element.iter(*(tag(BPMN, t) for t in HUMAN_TASKS)):
                inside |= self._form(manifest.form_key(child)) or set()
            return frozenset(inside), False
        if kind == "callActivity":
            return frozenset(), False
        return frozenset(), True

    def _form(self, key: str | None) -> set[str] | None:
        schema = self.upload.forms.get(key) if key else None
        return form_fields(schema) if schema is not None else None


def _available(
    graph: Graph, declarations: _Declarations, top_level: bool
) -> dict[str, tuple[Fields, bool]]:
    """For each element reached: (the fields declared on every path up to and including it,
    whether every element on every such path is covered). A must-analysis to a fixed point."""
    declared = {n.id: declarations.of(n, top_level) for n in graph.nodes.values()}
    before: dict[str, tuple[Fields, bool]] = {}
    after: dict[str, tuple[Fields, bool]] = {}
    sources = [n.id for n in graph.sources()]
    for source in sources:
        before[source] = (frozenset(), True)
        after[source] = declared[source]
    order = _reverse_postorder(graph, sources)
    pending = [(order[s], s) for n in sources for s in graph.successors(n)]
    heapq.heapify(pending)
    queued = {s for _, s in pending}
    while pending:  # in flow order: a join is computed once its branches are (linear on DAGs)
        node_id = heapq.heappop(pending)[1]
        queued.discard(node_id)
        host = graph.nodes[node_id].attached_to
        if host is not None:  # a boundary event leaves its host before the host's own data
            found = [before[host]] if host in before else []
        else:
            found = [after[p] for p in graph.predecessors(node_id) if p in after]
        if not found:
            continue
        fields = [f for f, _ in found]
        if graph.nodes[node_id].kind == "parallelGateway":  # every branch has arrived
            joined = fields[0].union(*fields[1:])
        else:
            joined = fields[0].intersection(*fields[1:])
        entering = (joined, all(c for _, c in found))
        own, own_covered = declared[node_id] if host is None else (frozenset(), True)
        leaving = (joined | own, entering[1] and own_covered)
        if before.get(node_id) != entering or after.get(node_id) != leaving:
            before[node_id], after[node_id] = entering, leaving
            for successor in graph.successors(node_id):
                if successor not in queued:
                    queued.add(successor)
                    heapq.heappush(pending, (order[successor], successor))
    return after


def _reverse_postorder(graph: Graph, sources: list[str]) -> dict[str, int]:
    """Each node's place in the flow: before its successors, loops aside (iterative DFS)."""
    done: list[str] = []
    seen: set[str] = set()
    for source in sources:
        if source in seen:
            continue
        seen.add(source)
        stack = [(source, iter(list(graph.successors(source))))]
        while stack:
            node, successors = stack[-1]
            following = next((s for s in successors if s not in seen), None)
            if following is None:
                stack.pop()
                done.append(node)
            else:
                seen.add(following)
                stack.append((following, iter(list(graph.successors(following)))))
    order = {node: i for i, node in enumerate(reversed(done))}
    for node in graph.nodes:
        order.setdefault(node, len(order))
    return order


def _reads(text: str) -> frozenset[str]:
    try:
        return compile_expression(text, ENGINE_FUNCTIONS).names
    except ExpressionError:
        return frozenset()  # reported by the expression check


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The declared field a misspelled name most likely means."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def check(upload: Upload) -> Iterator[Problem]:
    declarations = _Declarations(upload)
    everywhere: set[str] = set(declarations.start_data)
    for schema in upload.forms.values():
        everywhere |= form_fields(schema)
    for outputs in upload.decision_outputs.values():
        everywhere.update(outputs)
    for path, tree in upload.documents.items():
        for graph in scopes(tree.getroot()):
            top_level = graph.scope.tag == tag(BPMN, "process")
            if not top_level:
                continue  # subprocess data starts from its parent's: not followed (a warning less)
            available = _available(graph, declarations, top_level)
            yield from _flows(graph, available, everywhere, path)


def _flows(
    graph: Graph, available: dict[str, tuple[Fields, bool]], everywhere: set[str], path: str
) -> Iterator[Problem]:
    for flow in graph.flows.values():
        condition = flow.element.find(tag(BPMN, "conditionExpression"))
        if condition is None or flow.source not in available:
            continue
        text = (condition.text or "").strip()
        fields, covered = available[flow.source]
        source = graph.nodes[flow.source]
        for name in sorted(_reads(text) - fields):
            guess = suggestion(name, everywhere | fields)
            message = (
                f"条件 `{text}` 读取的字段 `{name}` 在{source.label} 之前没有表单或开始数据声明"
            )
            if guess:
                message += f"; 您是否想写 `{guess}`?"
            if covered:
                message += " (办件走到这里会出错而停住)"
            else:
                message += " (途经没有表单的环节, 若它们不提供这个字段, 办件走到这里会出错)"
            yield Problem(
                message, flow.id, condition.sourceline, path, "error" if covered else "warning"
            )
