"""Every change lianban makes inside SpiffWorkflow, in one place, made once when `engine.bpmn`
is imported, and only on the version they were written against.

Each patch replaces a name that SpiffWorkflow 3.2.0 looks up at call time (a module's global or
a class's method) with a function of ours; `PATCHES` lists them with their reasons, and
docs/engine-guards.md ("Patches of SpiffWorkflow internals") says what 3.2.0 does instead. A
different version may import those names differently, read the clock or make ids elsewhere,
or change the methods copied here: the patches would then silently stop working (timers on the
wall clock, random task ids, states that no longer re-execute) or break the library. So
importing `engine.bpmn` under any SpiffWorkflow but the pinned one fails at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module
import SpiffWorkflow.task as _task_module
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.parser.node_parser import NodeParser
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    StandardLoopTask,
)
from SpiffWorkflow.task import Task

from engine.config import timezone

from . import bounds, multi_sign, timer_texts
from .clock import EngineDatetime, engine_timestamp
from .ids import next_task_id
from .shallow_parse import compiled_xpath

# The version in pyproject.toml's `SpiffWorkflow==...` (tests/unit/test_patches.py compares them).
PINNED_VERSION = "3.2.0"


class UnsupportedSpiffWorkflow(ImportError):
    """The installed SpiffWorkflow is not the version lianban's patches were written against."""


def check_version(installed: str) -> None:
    if installed != PINNED_VERSION:
        raise UnsupportedSpiffWorkflow(
            f"SpiffWorkflow {installed} is installed; lianban runs only on the pinned "
            f"{PINNED_VERSION}, which its patches (engine/bpmn/patches.py) are written against. "
            "Install the pinned version, or re-check every patch against the new source first."
        )


check_version(version("SpiffWorkflow"))

# Bug 7 of docs/engine-guards.md: SpiffWorkflow logs every task state change at INFO.
logging.getLogger("spiff").setLevel(logging.WARNING)
_TASK_LOG = logging.getLogger("spiff.task")
LOGGED_SET_STATE = Task._set_state  # 3.2.0's own, run while its task log is on


def quiet_set_state(self: Task, value: int) -> None:
    """`Task._set_state` without building the log record's extras (a dict of nine fields, for
    every state change of every task) when the library's task log is off, as it is unless an
    operator turns it on. The task changes exactly as in the library: the state, and the time
    of the change from the engine clock (engine/bpmn/clock.py), which the stored state keeps."""
    if _TASK_LOG.isEnabledFor(logging.DEBUG):
        LOGGED_SET_STATE(self, value)
    elif value != self._state:
        self.last_state_change = _task_module.time.time()
        self._state = value


@dataclass(frozen=True)
class Patch:
    """One name inside SpiffWorkflow replaced by ours, and why."""

    owner: Any  # the SpiffWorkflow module or class holding the name
    name: str
    replacement: Any
    why: str


PATCHES = (
    Patch(
        _timer_module,
        "LOCALTZ",
        timezone(),
        "a timeDate written without a zone (2026-03-04T09:00:00) is LIANBAN_TIMEZONE's time, "
        "not the server's",
    ),
    Patch(
        _timer_module,
        "datetime",
        EngineDatetime,
        "timers start, fall due and fire at the step's time, not the wall clock's (replay)",
    ),
    Patch(
        _task_module,
        "time",
        SimpleNamespace(time=engine_timestamp),  # the task module calls only `time.time()`
        "a task's last_state_change, which the stored state keeps, is the step's time (replay)",
    ),
    Patch(
        _task_module,
        "uuid4",
        next_task_id,
        "task ids seeded by the step, so re-executing it makes the same ids (replay)",
    ),
    Patch(
        Task,
        "_set_state",
        quiet_set_state,
        "speed: no log record built for every state change while the library's log is off",
    ),
    Patch(
        ParallelMultiInstanceTask,
        "create_children",
        bounds.parallel_create_children,
        "bound: a parallel multi-instance above max_instances is refused before it is created",
    ),
    Patch(
        SequentialMultiInstanceTask,
        "add_next_child",
        bounds.sequential_add_next_child,
        "bound: a sequential multi-instance above max_instances is refused before it starts",
    ),
    Patch(
        MultiInstanceTask,
        "merge_child",
        multi_sign.merge_child,
        "会签/或签: each signature counted, the outcome written for the gateway after it",
    ),
    Patch(
        MultiInstanceTask,
        "check_completion_condition",
        multi_sign.check_completion_condition,
        "会签/或签: the completion condition sees the counts of signatures (nr_of_approvals...)",
    ),
    Patch(
        MultiInstanceTask,
        "_update_hook",
        multi_sign.update_hook,
        "会签/或签: a new round of a multi-instance activity starts with no signature counted",
    ),
    Patch(
        StandardLoopTask,
        "create_child",
        bounds.loop_create_child,
        "bound: a loop activity is refused past max_instances iterations",
    ),
    Patch(
        EventDefinitionParser,
        "parse_timer_event",
        timer_texts.parse_timer_event,
        "timers as modelers write them: an unquoted ISO 8601 value (PT10M) is that text",
    ),
    Patch(
        CycleTimerEventDefinition,
        "cycle_complete",
        timer_texts.cycle_complete,
        "cron cycles as Camunda and Flowable write them (0 0/5 * * * ?), on the engine clock",
    ),
    Patch(
        NodeParser,
        "_xpath",
        compiled_xpath,
        "speed: the parser's XPath expressions compiled once, not on every call",
    ),
)

for _patch in PATCHES:
    setattr(_patch.owner, _patch.name, _patch.replacement)
