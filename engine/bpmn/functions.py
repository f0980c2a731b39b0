"""Functions the engine adds to the expression language: working-day time (`workdays(n)`).

A timer written `workdays(5)` waits until the same time of day five working days later, by
the service centre's calendar (调休 included). The calendar and the local zone are installed
for each step (`with working_days(calendar, tz): ...`), the time comes from the engine clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, tzinfo
from types import MappingProxyType
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.expressions import DEFAULT_FUNCTIONS, EvaluationError

from .clock import engine_now

_context: ContextVar[tuple[WorkdayCalendar, tzinfo] | None] = ContextVar(
    "lianban_working_days", default=None
)
# Outside a step (checking an upload), the weekday rule: every answer is provisional there.
_WEEKDAYS_ONLY = (WorkdayCalendar([], (1, 1)), UTC)


@contextmanager
def working_days(calendar: WorkdayCalendar, tz: tzinfo) -> Iterator[None]:
    token = _context.set((calendar, tz))
    try:
        yield
    finally:
        _context.reset(token)


def workdays(n: object) -> str:
    """An ISO 8601 duration until the same local time `n` working days from now."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 3650:
        raise EvaluationError("workdays() 需要 0 到 3650 之间的整数工作日数")
    calendar, tz = _context.get() or _WEEKDAYS_ONLY
    today = engine_now().astimezone(tz).date()
    return f"P{(calendar.add(today, n).value - today).days}D"


ENGINE_FUNCTIONS: MappingProxyType[str, Callable[..., Any]] = MappingProxyType(
    {**DEFAULT_FUNCTIONS, "workdays": workdays}
)
