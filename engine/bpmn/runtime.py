"""Running one case's workflow: start, list open human tasks, complete one, cancel.

Everything here works on an in-memory `BpmnWorkflow`; loading and saving are the caller's.
Two guards against SpiffWorkflow 3.2.0 live here (docs/engine-guards.md):
- its task iterator silently stops at depth 1000, so open tasks and completion are decided from
  the workflow's flat task table, and a step that leaves engine work undone fails loudly;
- its `is_completed()` can report a case finished while a task is still ready; never trusted alone.

Business rule tasks run inside the engine steps; what they decided reaches the case data
through `decision_outputs` (each step records which tasks were already completed before it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import SpiffWorkflow.task as _task_module
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.config import engine_limits
from engine.expressions import EvaluationError, ExpressionError

from .bounds import count_engine_tasks
from .clock import Clock, engine_time
from .compaction import compact, completed_elements
from .dmn import OUTPUTS_KEY, DecisionTask
from .errors import EngineLimitExceeded as EngineLimitExceeded
from .errors import StepFailed as StepFailed
from .errors import WorkLimitExceeded as WorkLimitExceeded
from .functions import ENGINE_FUNCTIONS
from .script_engine import SafeScriptEngine
from .serializer import Specs, dump_state, load_state

# SpiffWorkflow logs every task state change at INFO.
logging.getLogger("spiff").setLevel(logging.WARNING)
_TASK_LOG = logging.getLogger("spiff.task")
_LOGGED_SET_STATE = Task._set_state


def _set_state(self: Task, value: int) -> None:
    """`Task._set_state` without building the log record's extras (a dict of nine fields, for
    every state change of every task) when the library's task log is off, as it is unless an
    operator turns it on. The task changes exactly as in the library: the state, and the time
    of the change from the engine clock (engine/bpmn/clock.py), which the stored state keeps."""
    if _TASK_LOG.isEnabledFor(logging.DEBUG):
        _LOGGED_SET_STATE(self, value)
    elif value != self._state:
        self.last_state_change = _task_module.time.time()
        self._state = value


Task._set_state = _set_state

_SCRIPT_ENGINE = SafeScriptEngine(ENGINE_FUNCTIONS)


@dataclass(frozen=True)
class ReadyTask:
    """A human task the engine is waiting on."""

    id: str
    element: str
    name: str


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of the workflow and its subprocesses, without the depth-limited iterator."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def completed_ids(workflow: BpmnWorkflow) -> set[str]:
    """The ids of every completed task, subprocesses included."""
    return {str(t.id) for t in all_tasks(workflow) if t.state == TaskState.COMPLETED}


# Set by each ProcessRuntime step on the workflow it ran: the tasks completed before the step,
# and the time the step ran at (what `pending_timers` measures the shortest wait from).
_COMPLETED_BEFORE = "lianban_completed_before"
_STEP_TIME = "lianban_step_time"


def decision_outputs(workflow: BpmnWorkflow, before: set[str] | None = None) -> dict[str, Any]:
    """The outputs of the business rule tasks completed since `before` (ids of the tasks
    completed earlier), merged in the order of the workflow's task table (along one path, the
    order the tasks ran): of two tasks writing the same field, the later one wins.

    Without `before`, since the start of the last `ProcessRuntime` step (start, complete,
    fire_timers) run on this workflow object; nothing for a workflow no step has run."""
    if before is None:
        before = getattr(workflow, _COMPLETED_BEFORE, None)
        if before is None:
            return {}
    outputs: dict[str, Any] = {}
    for task in all_tasks(workflow):
        if (
            task.state == TaskState.COMPLETED
            and isinstance(task.task_spec, DecisionTask)
            and str(task.id) not in before
        ):
            outputs.update(task._get_internal_data(OUTPUTS_KEY) or {})
    return outputs


def _element(task: Task) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def ready_human_tasks(workflow: BpmnWorkflow) -> list[ReadyTask]:
    return [
        ReadyTask(
            str(t.id), _element(t), str(getattr(t.task_spec, "bpmn_name", None) or _element(t))
        )
        for t in all_tasks(workflow)
        if t.state == TaskState.READY and t.task_spec.manual
    ]


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
        t.state == TaskState.COMPLETED and _element(t) == element for t in all_tasks(workflow)
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
    return _element(last), str(getattr(last.task_spec, "bpmn_name", None) or _element(last))


def is_finished(workflow: BpmnWorkflow) -> bool:
    """True when the process reached its end and no task anywhere is still definite."""
    pending = any(t.state & TaskState.DEFINITE_MASK for t in all_tasks(workflow))
    if workflow.completed and pending:
        raise EngineLimitExceeded("流程引擎报告已办结, 但仍有未完成的任务; 已拒绝该步骤")
    return bool(workflow.completed) and not pending


def _reason(err: BaseException) -> str:
    """The plainest explanation in an error chain: ours (Chinese) if any, else the engine's."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, EvaluationError | ExpressionError):
            return current.message
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return str(err).split("\n")[0]


def _failed(err: Exception, task: Task | None) -> StepFailed:
    task = getattr(err, "task", None) or task
    element = _element(task) if task is not None else None
    where = f"{_label(task)}: " if task is not None else ""
    return StepFailed(f"流程无法继续: {where}{_reason(err)}", element)


def _label(task: Task) -> str:
    name = getattr(task.task_spec, "bpmn_name", None)
    return f"{name} ({_element(task)})" if name else _element(task)


def _run_engine(workflow: BpmnWorkflow) -> None:
    try:
        workflow.do_engine_steps(will_complete_task=count_engine_tasks())
    except StepFailed:
        raise
    except Exception as err:  # SpiffWorkflow raises its own errors and bare Exceptions alike
        raise _failed(err, None) from err
    stuck = [
        t for t in all_tasks(workflow) if t.state == TaskState.READY and not t.task_spec.manual
    ]
    if stuck:
        raise EngineLimitExceeded(
            "流程历史过长, 引擎无法继续推进 (SpiffWorkflow 深度上限); 已拒绝该步骤",
            _element(stuck[0]),
        )


class ProcessRuntime:
    """One bundle version's parsed specs, ready to run cases on."""

    def __init__(self, specs: Specs) -> None:
        self.specs = specs

    def start(self, data: Mapping[str, Any], at: datetime | None = None) -> BpmnWorkflow:
        spec, subprocess_specs = self.specs
        with engine_time(_fixed(at)):
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=_SCRIPT_ENGINE)
            _begin_step(workflow, at)
            for task in all_tasks(workflow):
                task.data.update(data)
            _run_engine(workflow)
        return workflow

    def load(self, state: str) -> BpmnWorkflow:
        return load_state(state, self.specs, _SCRIPT_ENGINE)

    @staticmethod
    def dump(workflow: BpmnWorkflow) -> str:
        """Compact the workflow in place (engine/bpmn/compaction.py), then serialize it: what
        is stored, and what a replay hashes, is always the compacted state. Call it once the
        step's outcome (decision outputs, end reached, timers...) has been read."""
        compact(workflow)
        return dump_state(workflow)

    @staticmethod
    def complete(
        workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any], at: datetime | None = None
    ) -> None:
        """Complete a ready human task with `data` and run the engine to the next wait."""
        task = workflow.tasks.get(UUID(task_id))
        if task is None:
            for sub in workflow.subprocesses.values():
                task = sub.tasks.get(UUID(task_id))
                if task is not None:
                    break
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise StepFailed("任务不在可办理状态")
        _begin_step(workflow, at)
        with engine_time(_fixed(at)):
            task.data.update(data)
            try:
                task.run()
            except StepFailed:
                raise
            except Exception as err:
                raise _failed(err, task) from err
            _run_engine(workflow)

    @staticmethod
    def fire_timers(workflow: BpmnWorkflow, at: datetime) -> None:
        """Let every timer due by `at` fire, and run the engine on from there."""
        _begin_step(workflow, at)
        with engine_time(_fixed(at)):
            workflow.refresh_timers()
            _run_engine(workflow)

    @staticmethod
    def cancel(workflow: BpmnWorkflow, at: datetime | None = None) -> None:
        with engine_time(_fixed(at)):
            workflow.cancel()


def _begin_step(workflow: BpmnWorkflow, at: datetime | None) -> None:
    setattr(workflow, _COMPLETED_BEFORE, completed_ids(workflow))
    setattr(workflow, _STEP_TIME, at if at is not None else datetime.now(UTC))


def _fixed(at: datetime | None) -> Clock:
    """The clock of one step: the time it was asked to run at, or the wall clock."""
    if at is None:
        return lambda: datetime.now(UTC)
    return lambda: at


@dataclass(frozen=True)
class PendingTimer:
    """A timer the workflow is waiting on, and when it is due."""

    task_id: str
    element: str
    due: datetime


def pending_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """Waiting timer events with their due times (known once the engine has started them).

    After a step (`start`, `complete`, `fire_timers`) on this workflow object, no timer is due
    sooner than `min_timer_seconds` after the step's time, whatever the engine computed (a
    `PT0S` from case data, a date in the past, a cycle catching up): a loop through a timer
    moves at most once per interval. The worker fires a timer at its due time as given here, and
    the `timer_fired` event records that time, so re-executing the step fires it the same way."""
    step: datetime | None = getattr(workflow, _STEP_TIME, None)
    earliest = step + timedelta(seconds=engine_limits().min_timer_seconds) if step else None
    found = []
    for task in all_tasks(workflow):
        definition = getattr(task.task_spec, "event_definition", None)
        if task.state != TaskState.WAITING or not isinstance(definition, TimerEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):  # a cycle: the next occurrence
            value = value.get("next")
        if isinstance(value, str):
            due = TimerEventDefinition.get_datetime(value).astimezone(UTC)
            if earliest is not None and due < earliest:
                due = earliest.astimezone(UTC)
            found.append(PendingTimer(str(task.id), _element(task), due))
    return found
