"""Engine time: SpiffWorkflow reads the wall clock itself; we make it read ours.

SpiffWorkflow 3.2.0 calls `datetime.now()` in its timer events and `time.time()` when a task
changes state. `engine/bpmn/patches.py` points both module-level names, once, at the functions
here, which consult the clock installed for the current step (`with engine_time(clock): ...`),
falling back to the wall clock outside a step. Steps then depend only on the injected clock: a
fake clock drives timers in tests, and a replay (the audit log) can reproduce a step's time
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any

Clock = Callable[[], datetime]

_current: ContextVar[Clock | None] = ContextVar("lianban_engine_clock", default=None)


def engine_now() -> datetime:
    """The time of the step being run (the wall clock outside a step)."""
    return _now()


def _now() -> datetime:
    clock = _current.get()
    return clock() if clock is not None else datetime.now(UTC)


class EngineDatetime(datetime):
    """`datetime` whose `now()` is the engine's clock; everything else is unchanged."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:
        current = _now()
        return (
            current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        )


def engine_timestamp() -> float:
    """`time.time()` on the engine's clock."""
    return _now().timestamp()


@contextmanager
def engine_time(clock: Clock) -> Iterator[None]:
    """Run the enclosed engine work at the times `clock` gives (thread- and task-local)."""
    token = _current.set(clock)
    try:
        yield
    finally:
        _current.reset(token)
