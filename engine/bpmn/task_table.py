"""Reading a SpiffWorkflow workflow from its flat task tables (guard 2, docs/engine-guards.md).

SpiffWorkflow 3.2.0's task iterator silently stops at depth 1000, so what a case waits on, what
it has run and whether it is finished are read here from each workflow's (and subprocess's)
`tasks` table, never through the iterator; and its `is_completed()`, which can report a case
finished while a task is still ready, is never trusted alone. `CaseWorkflow` answers the
services with these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.config import engine_limits

from . import multi_sign
from .compaction import completed_elements
from .dmn import OUTPUTS_KEY, DecisionTask
from .errors import EngineLimitExceeded, StepFailed
from .tree import all_tasks

__all__ = ["all_tasks"]  # walking the tree lives in tree.py; callers read it from here too


@dataclass(frozen=True)
class ReadyTask:
    """A human task the engine is waiting on."""

    id: str
    element: str
    name: str
    # 会签/或签: the collection item this instance of a multi-instance task is for (else None)
    item: Any = None


@dataclass(frozen=True)
class PendingTimer:
    """A timer the workflow is waiting on, and when it is due."""

    task_id: str
    element: str
    due: datetime


def completed_ids(workflow: BpmnWorkflow) -> set[str]:
    """The ids of every completed task, subprocesses included."""
    return {str(t.id) for t in all_tasks(workflow) if t.state == TaskState.COMPLETED}


def element_of(task: Task) -> str:
    """The BPMN element id the task runs (the spec's name for the engine's own tasks)."""
    spec = task.task_spec
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def label(task: Task) -> str:
    """The task's element as a message names it: "name (id)", or the id alone."""
    name = getattr(task.task_spec, "bpmn_name", None)
    return f"{name} ({element_of(task)})" if name else element_of(task)


def decision_outputs(workflow: BpmnWorkflow, before: set[str]) -> dict[str, Any]:
    """The outputs of the business rule tasks completed since `before` (ids of the tasks
    completed earlier), merged in the order of the workflow's task table (along one path, the
    order the tasks ran): of two tasks writing the same field, the later one wins."""
    outputs: dict[str, Any] = {}
    for task in all_tasks(workflow):
        if (
            task.state == TaskState.COMPLETED
            and isinstance(task.task_spec, DecisionTask)
            and str(task.id) not in before
        ):
            outputs.update(task._get_internal_data(OUTPUTS_KEY) or {})
    return outputs


def ready_human_tasks(workflow: BpmnWorkflow) -> list[ReadyTask]:
    return [
        ReadyTask(
            str(t.id),
            element_of(t),
            str(getattr(t.task_spec, "bpmn_name", None) or element_of(t)),
            multi_sign.instance_item(t),
        )
        for t in all_tasks(workflow)
        if t.state == TaskState.READY and t.task_spec.manual
    ]


def unfinished_ids(workflow: BpmnWorkflow) -> list[str]:
    """The ids of every task not finished (ready, waiting and predicted ones), in id order,
    but those a subprocess is filed under: what a rewound case gives new ids to, since the
    earlier round may have made rows, jobs or events with the old ones."""
    keyed = set(workflow.subprocesses)
    return sorted(
        str(t.id)
        for t in all_tasks(workflow)
        if t.state & TaskState.NOT_FINISHED_MASK and t.id not in keyed
    )


def rename_tasks(workflow: BpmnWorkflow, renamed: Mapping[str, str]) -> None:
    """Give tasks new ids: the task keeps its place in the tree, its parent and children point
    at the new id. Used for human tasks opened again after a case was rewound (退回/撤回), whose
    earlier round keeps the old id in the task table and the history."""
    owners = [workflow, *workflow.subprocesses.values()]
    # in one order whatever the mapping's: the tree's task order (and so the stored state)
    # comes out the same when the audit repeats it from the recorded event
    for old, new in sorted(renamed.items()):
        old_id, new_id = UUID(old), UUID(new)
        owner = next((w for w in owners if old_id in w.tasks), None)
        if owner is None or new_id in owner.tasks:
            raise StepFailed(f"任务 {old} 不在流程中, 无法重新打开")
        task = owner.tasks.pop(old_id)
        task.id = new_id
        owner.tasks[new_id] = task
        parent = task.parent
        if parent is not None:
            parent._children = [new_id if c == old_id else c for c in parent._children]
        for child in task.children:
            child._parent = new_id


def stuck_engine_task(workflow: BpmnWorkflow) -> Task | None:
    """An engine task left ready after the engine ran (it stopped early: the depth limit)."""
    return next(
        (t for t in all_tasks(workflow) if t.state == TaskState.READY and not t.task_spec.manual),
        None,
    )


def element_states(workflow: BpmnWorkflow) -> dict[str, str]:
    """Each BPMN element the case has reached: "active" (ready or waiting) or "completed";
    an element under way again (a loop) counts as active. Elements completed only in parts of
    the tree compacted away count as completed."""
    found: dict[str, str] = {}
    for task in all_tasks(workflow):
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue  # the engine's own bookkeeping tasks
        if task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            found[element] = "active"
        elif task.state == TaskState.COMPLETED:
            found.setdefault(element, "completed")
    for element in completed_elements(workflow):
        found.setdefault(element, "completed")
    return found


def element_completed(workflow: BpmnWorkflow, element: str) -> bool:
    """Whether the element has run (e.g. the gateway that stands for 受理), also in parts of
    the tree compacted away."""
    return element in completed_elements(workflow) or any(
        t.state == TaskState.COMPLETED and element_of(t) == element for t in all_tasks(workflow)
    )


def end_reached(workflow: BpmnWorkflow) -> tuple[str, str] | None:
    """The (id, name) of the main process's end event the case finished at, if it has."""
    ends = [
        t
        for t in workflow.tasks.values()
        if isinstance(t.task_spec, EndEvent) and t.state == TaskState.COMPLETED
    ]
    if not ends:
        return None
    last = max(ends, key=lambda t: t.last_state_change)
    return element_of(last), str(getattr(last.task_spec, "bpmn_name", None) or element_of(last))


def is_finished(workflow: BpmnWorkflow) -> bool:
    """True when the process reached its end and no task anywhere is still definite."""
    pending = any(t.state & TaskState.DEFINITE_MASK for t in all_tasks(workflow))
    if workflow.completed and pending:
        raise EngineLimitExceeded("流程引擎报告已办结, 但仍有未完成的任务; 已拒绝该步骤")
    return bool(workflow.completed) and not pending


def pending_timers(workflow: BpmnWorkflow, step_time: datetime | None) -> list[PendingTimer]:
    """Waiting timer events with their due times (known once the engine has started them).

    `step_time`: the time of the step last run on this workflow object, if any; no timer is
    then due sooner than `min_timer_seconds` after it (see `CaseWorkflow.pending_timers`)."""
    earliest = (
        step_time + timedelta(seconds=engine_limits().min_timer_seconds) if step_time else None
    )
    found = []
    for task in all_tasks(workflow):
        definition = getattr(task.task_spec, "event_definition", None)
        element = element_of(task)
        if task.state == TaskState.WAITING and isinstance(definition, MultipleEventDefinition):
            # an event-based gateway waits for its branches' events itself: its timer (the upload
            # allows one, engine/bundles/rules/elements.py) keeps its due time on the gateway
            element, definition = _gateway_timer(task, definition)
        if task.state != TaskState.WAITING or not isinstance(definition, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):  # a cycle: the next occurrence
            value = value.get("next")
        if isinstance(value, str):
            due = TimerEventDefinition.get_datetime(value).astimezone(UTC)
            if earliest is not None and due < earliest:
                due = earliest.astimezone(UTC)
            found.append(PendingTimer(str(task.id), element, due))
    return found


def _gateway_timer(task: Task, multiple: MultipleEventDefinition) -> tuple[str, Any]:
    """The timer of a waiting event with several definitions: (the element it is for, its
    definition), the element being the branch's timer event for an event-based gateway;
    (the element, None) when it has no timer."""
    for index, definition in enumerate(multiple.event_definitions):
        if isinstance(definition, TimerEventDefinition):
            outputs = task.task_spec.outputs
            gateway = isinstance(task.task_spec, EventBasedGateway) and index < len(outputs)
            branch = outputs[index] if gateway else task.task_spec
            return str(getattr(branch, "bpmn_id", None) or element_of(task)), definition
    return element_of(task), None
