"""One case's workflow: everything the services do with SpiffWorkflow, behind typed methods.

A `CaseWorkflow` owns the case's `BpmnWorkflow`; `ProcessRuntime` starts or loads one, and the
services then only call it: move it (`complete`, `fire_timers`, `cancel`, each at a given time),
read it (`ready_tasks`, `decisions`, `pending_timers`, `is_finished`, `end_reached`,
`element_states`, `element_completed`) and store it (`dump`). No service sees SpiffWorkflow's
objects (an import-linter contract keeps them from importing it).

Each step remembers which tasks were completed before it and the time it ran at: what
`decisions` (the business rule tasks' outputs of the step) and `pending_timers` (their floor)
are measured from. Like SpiffWorkflow's workflow, it serves one step at a time (bug 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.expressions import EvaluationError, ExpressionError

from . import multi_sign, step_errors, task_table
from .bounds import count_engine_tasks
from .clock import Clock, engine_time
from .compaction import compact
from .errors import EngineLimitExceeded, StepFailed
from .serializer import Specs, dump_state
from .task_table import PendingTimer, ReadyTask


class CaseWorkflow:
    """A case's running workflow (see the module)."""

    __slots__ = ("_completed_before", "_step_time", "_workflow")

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self._workflow = workflow
        self._completed_before: set[str] | None = None  # no step has run on this object yet
        self._step_time: datetime | None = None

    @classmethod
    def start(
        cls, specs: Specs, script_engine: Any, data: Mapping[str, Any], at: datetime | None
    ) -> CaseWorkflow:
        """A new workflow with the start data, run to its first wait (`ProcessRuntime.start`)."""
        spec, subprocess_specs = specs
        with engine_time(_fixed(at)):
            case = cls(BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine))
            case._begin_step(at)
            for task in task_table.all_tasks(case._workflow):
                task.data.update(data)
            _run_engine(case._workflow)
        return case

    @property
    def spiff(self) -> BpmnWorkflow:
        """SpiffWorkflow's own workflow object: for engine.bpmn and its tests, never a service."""
        return self._workflow

    # -- moving it ----------------------------------------------------------------------------

    def complete(self, task_id: str, data: Mapping[str, Any], at: datetime | None = None) -> None:
        """Complete a ready human task with `data` and run the engine to the next wait."""
        workflow = self._workflow
        task = workflow.tasks.get(UUID(task_id))
        if task is None:
            for sub in workflow.subprocesses.values():
                task = sub.tasks.get(UUID(task_id))
                if task is not None:
                    break
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise StepFailed("任务不在可办理状态")
        self._begin_step(at)
        with engine_time(_fixed(at)):
            task.data.update(data)
            try:
                task.run()
            except StepFailed:
                raise
            except Exception as err:
                raise _failed(err, task, workflow) from err
            _run_engine(workflow)

    def fire_timers(self, at: datetime) -> None:
        """Let every timer due by `at` fire, and run the engine on from there."""
        self._begin_step(at)
        with engine_time(_fixed(at)):
            self._workflow.refresh_timers()
            _run_engine(self._workflow)

    def cancel(self, at: datetime | None = None) -> None:
        with engine_time(_fixed(at)):
            self._workflow.cancel()

    def signers(self, instance_id: str) -> list[tuple[str, Any, bool]]:
        """The instances of the running 会签 `instance_id` belongs to: (id, item, finished)."""
        return multi_sign.signers(self._workflow, instance_id)

    def add_signer(self, instance_id: str, item: Any, at: datetime | None = None) -> None:
        """加签 in parallel: one more instance of that running 会签, then the engine runs on."""
        self._begin_step(at)
        with engine_time(_fixed(at)):
            multi_sign.add_instance(self._workflow, instance_id, item)
            _run_engine(self._workflow)

    def remove_signer(self, instance_id: str, at: datetime | None = None) -> None:
        """减签: that unsigned instance leaves its 会签; the engine runs on (the 会签 may end)."""
        self._begin_step(at)
        with engine_time(_fixed(at)):
            multi_sign.remove_instance(self._workflow, instance_id)
            _run_engine(self._workflow)

    def unfinished_ids(self) -> list[str]:
        """The tasks a rewind gives new ids to (`task_table.unfinished_ids`)."""
        return task_table.unfinished_ids(self._workflow)

    def rename_tasks(self, renamed: Mapping[str, str]) -> None:
        """New ids for ready human tasks opened again after the case was rewound (退回/撤回);
        the engine does not move."""
        task_table.rename_tasks(self._workflow, renamed)
        self._completed_before = None  # nothing was decided by this step

    def _begin_step(self, at: datetime | None) -> None:
        self._completed_before = task_table.completed_ids(self._workflow)
        self._step_time = at if at is not None else datetime.now(UTC)

    # -- reading it ---------------------------------------------------------------------------

    def ready_tasks(self) -> list[ReadyTask]:
        """The human tasks the case waits on."""
        return task_table.ready_human_tasks(self._workflow)

    def decisions(self) -> dict[str, Any]:
        """What the business rule tasks completed in the last step (start, complete,
        fire_timers) run on this object decided, merged in the order they ran; nothing for a
        workflow no step has run on (one just loaded)."""
        before = self._completed_before
        if before is None:
            return {}
        return {
            **task_table.decision_outputs(self._workflow, before),
            **multi_sign.outcomes(self._workflow, before),  # 会签/或签 that finished
        }

    def signs_ended(self) -> list[dict[str, Any]]:
        """The 会签/或签 their completion condition ended in the last step run on this object,
        each {"element", "result"}: their unsigned instances were cancelled."""
        before = self._completed_before
        return [] if before is None else multi_sign.ended_early(self._workflow, before)

    def sign_progress(self) -> dict[str, dict[str, Any]]:
        """Each 会签/或签 under way, by element: {"signed", "total", "sequential",
        "approvals", "rejections"}."""
        return multi_sign.progress(self._workflow)

    def pending_timers(self) -> list[PendingTimer]:
        """Waiting timer events with their due times (known once the engine has started them).

        After a step on this object, no timer is due sooner than `min_timer_seconds` after the
        step's time, whatever the engine computed (a `PT0S` from case data, a date in the past,
        a cycle catching up): a loop through a timer moves at most once per interval. The
        worker fires a timer at its due time as given here, and the `timer_fired` event records
        that time, so re-executing the step fires it the same way."""
        return task_table.pending_timers(self._workflow, self._step_time)

    def is_finished(self) -> bool:
        """True when the process reached its end and no task anywhere is still definite;
        `EngineLimitExceeded` when SpiffWorkflow reports it complete with a task still open."""
        return task_table.is_finished(self._workflow)

    def end_reached(self) -> tuple[str, str] | None:
        """The (id, name) of the main process's end event the case finished at, if it has."""
        return task_table.end_reached(self._workflow)

    def element_states(self) -> dict[str, str]:
        """Each BPMN element reached: "active" or "completed" (`task_table.element_states`)."""
        return task_table.element_states(self._workflow)

    def element_completed(self, element: str) -> bool:
        """Whether the element has run, also in parts of the tree compacted away."""
        return task_table.element_completed(self._workflow, element)

    # -- storing it ---------------------------------------------------------------------------

    def dump(self) -> str:
        """Compact the workflow in place (engine/bpmn/compaction.py), then serialize it: what
        is stored, and what a replay hashes, is always the compacted state. Call it once the
        step's outcome (decisions, end reached, timers...) has been read."""
        compact(self._workflow)
        return dump_state(self._workflow)

    def legacy_dump(self) -> str:
        """The state as lianban stored it before compaction existed (the whole tree, the older
        format), for the audit to re-check the hashes such cases recorded; compacts nothing."""
        return dump_state(self._workflow, legacy=True)


def _fixed(at: datetime | None) -> Clock:
    """The clock of one step: the time it was asked to run at, or the wall clock."""
    if at is None:
        return lambda: datetime.now(UTC)
    return lambda: at


def _run_engine(workflow: BpmnWorkflow) -> None:
    """Run the engine tasks until only human tasks and waits are left.

    SpiffWorkflow's `do_engine_steps` ends with `refresh_timers()`, which turns every timer due
    by the step's time ready without running it: a clerk completing a task after a boundary
    timer fell due (the worker not yet round) left that timer ready, and the step was refused
    as if the depth limit had been hit. Timers fire only in the worker's step
    (`fire_timers`, its own `timer_fired` event), which refreshes them before it runs the
    engine; any other step leaves a due timer waiting for it (docs/bundles.md, Timers)."""
    will_complete = count_engine_tasks()
    try:
        while workflow._do_engine_steps(will_complete, None) > 0:
            pass
    except StepFailed:
        raise
    except Exception as err:  # SpiffWorkflow raises its own errors and bare Exceptions alike
        raise _failed(err, None, workflow) from err
    stuck = task_table.stuck_engine_task(workflow)
    if stuck is not None:
        raise EngineLimitExceeded(
            "流程历史过长, 引擎无法继续推进 (SpiffWorkflow 深度上限); 已拒绝该步骤",
            task_table.element_of(stuck),
        )


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


def _failed(err: Exception, task: Task | None, workflow: BpmnWorkflow) -> StepFailed:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:  # ours, or one we can explain
        seen.add(id(current))
        if isinstance(current, StepFailed):
            return current
        found = step_errors.explained(current, workflow)
        if found is not None:
            return found
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    task = getattr(err, "task", None) or task
    element = task_table.element_of(task) if task is not None else None
    where = f"{task_table.label(task)}: " if task is not None else ""
    return StepFailed(f"流程无法继续: {where}{_reason(err)}", element)
