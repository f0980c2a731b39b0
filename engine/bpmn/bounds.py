"""Bounds on the work one step of a case may make the engine do (docs/engine-guards.md §8).

SpiffWorkflow 3.2.0 creates every instance of a multi-instance activity at once, however many
the cardinality or the collection asks for (`ParallelMultiInstanceTask.create_children` loops
over `range(cardinality)`: `10**64` never ends), starts a sequential one's instances one after
the other, and repeats a loop activity while its condition holds, without a bound. And
`do_engine_steps` runs engine tasks until only human tasks and waits are left: a cycle of
gateways without a wait never leaves it (it ended only at the task tree's depth limit).

Installed when `engine.bpmn` is imported (by `engine/bpmn/patches.py`), against 3.2.0's
classes:

- a multi-instance activity (parallel or sequential, by cardinality or by collection) checks
  its number of instances before it creates the first (`create_children`, and a sequential
  one's first `add_next_child`): above `max_instances` the step is refused with
  "多实例数量 N 超过上限 M", whatever its completion condition would have done later;
- a loop activity (standardLoopCharacteristics) refuses its iteration past `max_instances`;
- `count_engine_tasks` gives `do_engine_steps` a callback that refuses the step once it has run
  `max_engine_tasks` engine tasks.

The limits come from `engine.config.engine_limits()` (read once per process). A refusal is a
`WorkLimitExceeded`: the step fails and the service keeps the case as it was.

Re-executing recorded steps (the audit) runs `replaying()`: each limit is then at least its
`REPLAY_FLOOR`, so a case recorded before an administrator lowered a limit still re-executes,
and a forged record still cannot make the auditor's process run without bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    StandardLoopTask,
)
from SpiffWorkflow.task import Task

from engine.config import EngineLimits, engine_limits

from . import step_errors
from .errors import WorkLimitExceeded

REPLAY_FLOOR = EngineLimits(max_instances=10_000, max_engine_tasks=50_000)
_REPLAYING: ContextVar[bool] = ContextVar("lianban_replaying", default=False)


@contextmanager
def replaying() -> Iterator[None]:
    """Re-execute recorded steps: limits no lower than `REPLAY_FLOOR` (see the module)."""
    token = _REPLAYING.set(True)
    try:
        yield
    finally:
        _REPLAYING.reset(token)


def limits() -> EngineLimits:
    """The limits in force for the step under way."""
    configured = engine_limits()
    if not _REPLAYING.get():
        return configured
    return replace(
        configured,
        max_instances=max(configured.max_instances, REPLAY_FLOOR.max_instances),
        max_engine_tasks=max(configured.max_engine_tasks, REPLAY_FLOOR.max_engine_tasks),
    )


def _element(spec: Any) -> str:
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def instance_count(spec: MultiInstanceTask, my_task: Task) -> int | None:
    """How many instances the activity is about to create: the size of its collection, or its
    cardinality evaluated as SpiffWorkflow will evaluate it (None when it is neither a sized
    collection nor a whole number: SpiffWorkflow then fails the step itself)."""
    if spec.data_input is not None:
        if not spec.data_input.exists(my_task):
            return None
        collection = spec.data_input.get(my_task)
        return len(collection) if isinstance(collection, Sized) else None
    value = my_task.workflow.script_engine.evaluate(my_task, spec.cardinality)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_instances(spec: MultiInstanceTask, my_task: Task) -> None:
    step_errors.collection_problem(spec, my_task)  # its collection missing: said in Chinese
    _refuse_above_limit(spec, instance_count(spec, my_task))


def _refuse_above_limit(spec: MultiInstanceTask, count: Any) -> None:
    limit = limits().max_instances
    if isinstance(count, int) and not isinstance(count, bool) and count > limit:
        raise WorkLimitExceeded(f"多实例数量 {_number(count)} 超过上限 {limit}", _element(spec))


def _number(count: int) -> str:
    text = str(count)
    return text if len(text) <= 24 else f"{text[:6]}… ({len(text)} 位数)"


_create_children = ParallelMultiInstanceTask.create_children
_sequential_next = SequentialMultiInstanceTask.add_next_child
_create_iteration = StandardLoopTask.create_child


def parallel_create_children(self: ParallelMultiInstanceTask, my_task: Task) -> None:
    check_instances(self, my_task)
    _create_children(self, my_task)


def sequential_add_next_child(self: SequentialMultiInstanceTask, my_task: Task) -> None:
    if not my_task.internal_data.get("merged"):  # before the first instance: all of them
        total = (
            len(my_task.internal_data.get("remaining", []))
            if self.data_input is not None
            else my_task.internal_data.get("cardinality")
        )
        _refuse_above_limit(self, total)
    _sequential_next(self, my_task)


def loop_create_child(self: StandardLoopTask, my_task: Task) -> None:
    limit = limits().max_instances
    if len(my_task.internal_data.get("merged", [])) >= limit:
        raise WorkLimitExceeded(f"循环次数超过上限 {limit}", _element(self))
    _create_iteration(self, my_task)


def count_engine_tasks() -> Callable[[Task], None]:
    """A `will_complete_task` callback for `do_engine_steps`: refuses the step when it is about
    to run one engine task more than `max_engine_tasks`."""
    limit = limits().max_engine_tasks
    ran = 0

    def before(task: Task) -> None:
        nonlocal ran
        ran += 1
        if ran > limit:
            raise WorkLimitExceeded(
                f"一步中自动执行的任务超过上限 {limit} 个 (流程中可能有无人参与的循环); "
                "已拒绝该步骤",
                _element(task.task_spec),
            )

    return before
