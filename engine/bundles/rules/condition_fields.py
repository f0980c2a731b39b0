"""Rule `condition-fields`: a condition reads a field that nothing before it declares.

"Before it" is every path from the start to the element the condition leaves: the start form
(and the applicant fields of bundle.json), the forms of the human tasks on the way and the
outputs of the decisions (business rule tasks) on the way; after a parallel join, what any of
its branches declared. The names a condition reads come from its compiled expression.

Subprocesses are followed: an embedded subprocess starts with what its parent had on entering
it, a process a call activity of the upload calls starts with what every caller had on entering
its call activity (an event subprocess with what its parent had once started). So a gateway in a
subprocess sees the start form and the tasks that ran before the subprocess.

An error when every element on every path is covered (a start form, each human task a form,
each decision known): the field is certainly missing and the case would stop there. A warning
otherwise (a task without a form may still supply it, so bundles without forms stay valid).
A field that some paths set and others do not (a decision after optional branches) gets the
same error or warning, saying so and suggesting `get("x", 默认值)`: a field read with `get` (or
JUEL's `empty x`) may be absent, and is only warned about when nothing in the upload declares it.

`fields_at` answers the same question for the designer's editor: what may a condition at this
element read (engine/services/authoring.py).
"""

from __future__ import annotations

import difflib
import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn import dmn, manifest
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import BPMN, CAMUNDA, tag
from engine.expressions import ExpressionError, compile_expression

from .. import multi_sign
from ..problems import Problem
from .graph import Graph, Node, scopes
from .upload import Upload

NAME = "condition-fields"
HUMAN_TASKS = frozenset(manifest.HUMAN_TASK_TAGS)
# Data every case may carry without a form declaring it (cases.start_case).
START_DATA = frozenset({"renewal_of"})
_COMBINATORS = ("allOf", "anyOf", "oneOf", "then", "else", "if")

Fields = frozenset[str]
Known = tuple[Fields, bool]
"""The fields declared on every path, and whether every element on every such path is covered."""
UNKNOWN: Known = (frozenset(), False)


def _walk(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each property of a form with its schema, also those of its conditional parts."""
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, Mapping):
            continue
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for key, value in properties.items():
                yield str(key), value
        for key in _COMBINATORS:
            value = node.get(key)
            pending.extend(value if isinstance(value, list) else [value])
        dependent = node.get("dependentSchemas")
        if isinstance(dependent, Mapping):
            pending.extend(dependent.values())


def form_fields(schema: Mapping[str, Any]) -> set[str]:
    """The fields a form declares: its properties, also those of its conditional parts."""
    return {name for name, _ in _walk(schema)}


class _Declarations:
    """What each element declares, and whether it is covered (its data is fully known)."""

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        applicant = upload.metadata.applicant
        people = (applicant.phone_field, applicant.email_field, *applicant.people)
        self.start_data = START_DATA | {f for f in (*people, applicant.holder_field) if f}

    def of(self, node: Node, starts_case: bool) -> Known:
        kind, element = node.kind, node.element
        if kind == "startEvent":
            if not starts_case:
                return frozenset(), True
            form = self._form(manifest.form_key(element))
            if form is None:
                return frozenset(self.start_data), False
            return frozenset(form | self.start_data), True
        if kind in HUMAN_TASKS or (kind == "task" and manifest.is_human_task(element)):
            form = self._form(manifest.form_key(element))
            multi = element.find(tag(BPMN, "multiInstanceLoopCharacteristics")) is not None
            if multi:  # 会签/或签: its outcome fields (engine/bundles/multi_sign.py)
                signed = multi_sign.outputs(element.get("id") or "")
                return frozenset(form or ()) | signed, False
            return frozenset(form or ()), form is not None
        if kind == "businessRuleTask":
            result = (element.get(tag(CAMUNDA, "resultVariable")) or "").strip()
            if result:  # Camunda 7: the decision's result goes there alone
                return frozenset({result}), True
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


@dataclass
class _Scope:
    """One process or subprocess and what is known entering and leaving each of its elements."""

    path: str
    graph: Graph
    entry: Known | None = None  # None: the scope starts a case (its start event has the form)
    before: dict[str, Known] | None = None
    after: dict[str, Known] | None = None


def _available(graph: Graph, declarations: _Declarations, entry: Known | None) -> _Flow:
    """For each element reached: (the fields declared on every path up to it, whether every
    element on every such path is covered), entering it and leaving it. A must-analysis to a
    fixed point; `entry` is what the scope starts with (None: it starts a case)."""
    starts_case = entry is None
    start: Known = (frozenset(), True) if entry is None else entry
    declared = {n.id: declarations.of(n, starts_case) for n in graph.nodes.values()}
    before: dict[str, Known] = {}
    after: dict[str, Known] = {}
    sources = [n.id for n in graph.sources()]
    for source in sources:
        own, own_covered = declared[source]
        before[source] = start
        after[source] = (start[0] | own, start[1] and own_covered)
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
    return _Flow(before, after)


@dataclass(frozen=True)
class _Flow:
    before: dict[str, Known]
    after: dict[str, Known]


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


def _meet(known: list[Known]) -> Known:
    if not known:
        return UNKNOWN
    fields = [f for f, _ in known]
    return fields[0].intersection(*fields[1:]), all(c for _, c in known)


class Analysis:
    """Every process and subprocess of an upload analysed: a subprocess after its parent, a
    called process after every process that calls it (a cycle of calls, or a scope its parent
    never reaches, starts from nothing known)."""

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        self.declarations = _Declarations(upload)
        self.scopes: list[_Scope] = []
        self._some_paths: dict[int, dict[str, frozenset[str]]] = {}
        by_element: dict[etree._Element, _Scope] = {}
        for path, tree in upload.documents.items():
            for graph in scopes(tree.getroot()):
                scope = _Scope(path, graph)
                self.scopes.append(scope)
                by_element[graph.scope] = scope
        callers: dict[str, list[tuple[_Scope, str]]] = {}
        for scope in self.scopes:
            for node in scope.graph.nodes.values():
                if node.kind == "callActivity" and node.element.get("calledElement"):
                    called = node.element.get("calledElement") or ""
                    callers.setdefault(called, []).append((scope, node.id))
        self._by_element = by_element
        self._callers = callers
        self._run()

    def _entry(self, scope: _Scope) -> tuple[bool, Known | None]:
        """(whether the entry is known yet, the entry: None for a scope starting a case)."""
        element = scope.graph.scope
        if element.tag == tag(BPMN, "process"):
            sites = self._callers.get(element.get("id") or "")
            if not sites:
                return True, None
            if any(s.before is None for s, _ in sites):
                return False, None
            return True, _meet([s.before[n] for s, n in sites if s.before and n in s.before])
        parent = self._by_element.get(element.getparent())
        if parent is None:
            return True, UNKNOWN
        if parent.before is None:
            return False, None
        if element.get("triggeredByEvent") == "true":  # may start whenever its parent runs
            after = parent.after or {}
            return True, _meet([after[n.id] for n in parent.graph.sources() if n.id in after])
        return True, parent.before.get(element.get("id") or "", UNKNOWN)

    def _run(self) -> None:
        pending = list(self.scopes)
        while pending:
            left = []
            for scope in pending:
                ready, entry = self._entry(scope)
                if ready:
                    self._analyse(scope, entry)
                else:
                    left.append(scope)
            if len(left) == len(pending):  # a cycle of calls: start the first from nothing
                self._analyse(left[0], UNKNOWN)
                left = left[1:]
            pending = left

    def _analyse(self, scope: _Scope, entry: Known | None) -> None:
        flow = _available(scope.graph, self.declarations, entry)
        scope.entry = entry
        scope.before, scope.after = flow.before, flow.after

    def at(self, element: str, path: str | None = None) -> Known | None:
        """What a condition at `element` may read: leaving the source of a sequence flow, or
        entering a flow node. None when no scope holds it or nothing reaches it."""
        for scope in self.scopes:
            if path is not None and scope.path != path:
                continue
            graph = scope.graph
            if element in graph.flows:
                return (scope.after or {}).get(graph.flows[element].source)
            if element in graph.nodes:
                return (scope.before or {}).get(element)
        return None

    def declared_in(self, scope: _Scope) -> set[str]:
        """Every field an element of `scope` declares (outcomes of 会签, decisions' results)."""
        starts_case = scope.entry is None
        found: set[str] = set()
        for node in scope.graph.nodes.values():
            found |= self.declarations.of(node, starts_case)[0]
        return found

    def declared_before(self, scope: _Scope, element: str) -> frozenset[str]:
        """The fields declared on SOME path to `element` (itself included) within its scope,
        with what the scope started with: what a condition there may find, or may not."""
        found = self._some_paths.get(id(scope))
        if found is None:
            found = self._some_paths[id(scope)] = self._declared_on_some_path(scope)
        return found[element]

    def _declared_on_some_path(self, scope: _Scope) -> dict[str, frozenset[str]]:
        """`declared_before` of every element of the scope at once: the least fixed point of
        "what the element declares, and what any predecessor had", worked in document order so
        a scope drawn forwards settles in about one pass (one walk back per flow would make an
        upload of many conditions quadratic)."""
        graph, starts_case = scope.graph, scope.entry is None
        entry = frozenset((scope.entry or UNKNOWN)[0])
        own = {
            n: entry | self.declarations.of(node, starts_case)[0] for n, node in graph.nodes.items()
        }
        found = dict(own)
        pending = deque(graph.nodes)
        queued = set(pending)
        while pending:
            node = pending.popleft()
            queued.discard(node)
            joined = own[node].union(*(found[p] for p in graph.predecessors(node) if p in found))
            if joined != found[node]:
                found[node] = joined
                for successor in graph.successors(node):
                    if successor in found and successor not in queued:
                        queued.add(successor)
                        pending.append(successor)
        return found

    def everywhere(self) -> set[str]:
        """Every field declared anywhere in the upload (the "did you mean" candidates)."""
        found: set[str] = set(self.declarations.start_data)
        for schema in self.upload.forms.values():
            found |= form_fields(schema)
        for outputs in self.upload.decision_outputs.values():
            found.update(outputs)
        return found


def fields_at(upload: Upload, element: str) -> Known | None:
    """The fields a condition at `element` (a sequence flow or a flow node) may read, and
    whether every element on every path there is covered; None if nothing reaches it."""
    return Analysis(upload).at(element)


@dataclass(frozen=True)
class FieldInfo:
    name: str
    title: str
    type: str
    form: str
    """The form key declaring it, `bundle.json` for applicant data, a decision's id."""


def field_details(upload: Upload) -> dict[str, FieldInfo]:
    """Each field declared in the upload with its title and type, from the first form (the
    start forms first) that declares it; decision outputs and applicant data besides."""
    found: dict[str, FieldInfo] = {}
    starts = {key for tree in upload.documents.values() for _, key in _start_keys(tree)}
    for key in sorted(upload.forms, key=lambda k: (k not in starts, k)):
        for name, schema in _walk(upload.forms[key]):
            if name in found or not isinstance(schema, Mapping):
                continue
            kind = schema.get("type")
            title = schema.get("title")
            found[name] = FieldInfo(
                name,
                str(title) if isinstance(title, str) else "",
                str(kind) if isinstance(kind, str) else "",
                key,
            )
    for decision, outputs in sorted(upload.decision_outputs.items()):
        for name in outputs:
            found.setdefault(name, FieldInfo(name, "", "", decision))
    for name in sorted(_Declarations(upload).start_data):
        found.setdefault(name, FieldInfo(name, "", "", "bundle.json"))
    return found


def _start_keys(tree: etree._ElementTree) -> Iterator[tuple[str, str]]:
    return iter(manifest.start_forms(tree.getroot()).values())


def _reads(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The fields a condition needs, and those it reads only where absence is allowed
    (`get("x", 默认值)`, JUEL's `empty x`)."""
    try:
        expression = compile_expression(text, ENGINE_FUNCTIONS)
    except ExpressionError:
        return frozenset(), frozenset()  # reported by the expression check
    return expression.required, expression.optional


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The declared field a misspelled name most likely means."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def check(upload: Upload) -> Iterator[Problem]:
    analysis = Analysis(upload)
    everywhere = analysis.everywhere()
    for scope in analysis.scopes:
        everywhere |= analysis.declared_in(scope)
    for scope in analysis.scopes:
        yield from _flows(analysis, scope, everywhere)


def _optional_hint(name: str) -> str:
    return f'若办件可以没有它, 请写作 `get("{name}", 默认值)`'


def _flows(analysis: Analysis, scope: _Scope, everywhere: set[str]) -> Iterator[Problem]:
    graph, available, path = scope.graph, scope.after or {}, scope.path
    for flow in graph.flows.values():
        condition = flow.element.find(tag(BPMN, "conditionExpression"))
        if condition is None or flow.source not in available:
            continue
        text = (condition.text or "").strip()
        fields, covered = available[flow.source]
        source = graph.nodes[flow.source]
        required, optional = _reads(text)
        missing = sorted(required - fields)
        some_paths = analysis.declared_before(scope, flow.source) if missing else frozenset()
        for name in missing:
            if name in some_paths:  # a branch sets it, another does not
                message = (
                    f"条件 `{text}` 读取的字段 `{name}` 只在{source.label} 之前的部分路径上设置, "
                    f"其余路径上办件没有这个字段; {_optional_hint(name)}"
                )
            else:
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
        for name in sorted(optional - everywhere):  # get() of a field nothing sets: a typo?
            guess = suggestion(name, everywhere)
            message = (
                f"条件 `{text}` 读取的可缺省字段 `{name}` 在本流程的表单、决策和开始数据中都没有声明, "
                "它总是取默认值"
            )
            if guess:
                message += f"; 您是否想写 `{guess}`?"
            yield Problem(message, flow.id, condition.sourceline, path, "warning")
