"""What a test run of a draft shows on its diagram: the sequence flows taken and skipped, the
elements completed in order, and the joins with tokens waiting (engine/services/test_runs.py).

SpiffWorkflow's specs keep no sequence flow ids, so the flows are read from the BPMN files
(`FlowIndex`) and matched with the task tree: a flow from A to B was taken when a task of B
was reached from a completed task of A (the nearest ancestor that is a BPMN element; the
engine's own bookkeeping tasks in between are skipped). Read from the flat task tables, like
everything in engine.bpmn (task_table.py); the workflow is never compacted here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from . import task_table
from .case_workflow import CaseWorkflow
from .namespaces import BPMN, tag
from .xml import XmlProblem, parse_xml

_REACHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED
_REACHED |= TaskState.ERROR


@dataclass
class FlowIndex:
    """The sequence flows of the BPMN files: by (source, target), and out of each source."""

    between: dict[tuple[str, str], str] = field(default_factory=dict)
    outgoing: dict[str, list[str]] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, documents: Iterable[bytes]) -> FlowIndex:
        index = cls()
        flow_tag = tag(BPMN, "sequenceFlow")
        for data in documents:
            try:
                root = parse_xml(data).getroot()
            except (XmlProblem, etree.XMLSyntaxError):
                continue  # the compiler reports it; a file it accepted always parses
            for flow in root.iter(flow_tag):
                flow_id, source, target = (
                    flow.get("id"),
                    flow.get("sourceRef"),
                    flow.get("targetRef"),
                )
                if not (flow_id and source and target):
                    continue
                index.between.setdefault((source, target), flow_id)
                index.outgoing.setdefault(source, []).append(flow_id)
                index.incoming.setdefault(target, []).append(flow_id)
        return index


@dataclass(frozen=True)
class WaitingJoin:
    """A join with some of its incoming branches arrived: which flows, out of how many."""

    element: str
    arrived: tuple[str, ...]
    inputs: int


@dataclass(frozen=True)
class Trace:
    flows: tuple[str, ...]  # taken, in the order of the task table
    skipped_flows: tuple[str, ...]  # out of a completed element, never taken
    waiting: tuple[WaitingJoin, ...]
    active: tuple[str, ...]  # elements ready or waiting (tasks, timers, joins)


def _element(task: Task) -> str | None:
    element = getattr(task.task_spec, "bpmn_id", None)
    return str(element) if element else None


def _source(task: Task) -> Task | None:
    """The nearest ancestor of `task` that is a BPMN element."""
    parent = task.parent
    while parent is not None and _element(parent) is None:
        parent = parent.parent
    return parent


def completed_tasks(workflow: CaseWorkflow) -> list[tuple[str, str]]:
    """(task id, element) of every completed task that is a BPMN element, in creation order
    (a task is always created after the one it follows)."""
    return [
        (str(t.id), element)
        for t in task_table.all_tasks(workflow.spiff)
        if t.state == TaskState.COMPLETED and (element := _element(t)) is not None
    ]


def _arrived(task: Task) -> bool:
    """Whether the token reached `task`: it is under way or done, or it was cancelled after
    its predecessor completed (a join's instance when another branch fired the join, a task an
    interrupting boundary event or a terminate end event cut short)."""
    if task.state & _REACHED:
        return True
    return (
        task.state == TaskState.CANCELLED
        and task.parent is not None
        and task.parent.state == TaskState.COMPLETED
    )


def trace(workflow: CaseWorkflow, flows: FlowIndex) -> Trace:
    taken: list[str] = []
    seen: set[str] = set()
    completed_elements: set[str] = set()
    waiting: dict[str, list[str]] = {}
    active: list[str] = []
    for task in task_table.all_tasks(workflow.spiff):
        element = _element(task)
        if element is None:
            continue
        if task.state == TaskState.COMPLETED:
            completed_elements.add(element)
        elif task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            if element not in active:
                active.append(element)
        if not _arrived(task):
            continue
        source = _source(task)
        if source is None or source.state != TaskState.COMPLETED:
            continue
        source_element = _element(source)
        flow = flows.between.get((str(source_element), element))
        if flow is None:
            continue
        if flow not in seen:
            seen.add(flow)
            taken.append(flow)
        if task.state == TaskState.WAITING and isinstance(task.task_spec, Join):
            arrived = waiting.setdefault(element, [])
            if flow not in arrived:
                arrived.append(flow)
    skipped = [
        flow
        for element in sorted(completed_elements)
        for flow in flows.outgoing.get(element, ())
        if flow not in seen
    ]
    joins = tuple(
        WaitingJoin(element, tuple(arrived), len(flows.incoming.get(element, ())))
        for element, arrived in waiting.items()
    )
    return Trace(tuple(taken), tuple(dict.fromkeys(skipped)), joins, tuple(active))
