"""The working-day calendar kept in memory between steps, rebuilt when an admin changes it."""

from __future__ import annotations

import threading
import time

from engine.calendar import WorkdayCalendar, with_statutory_holidays
from engine.persistence.unit_of_work import UnitOfWork


class CalendarCache:
    """The calendar, rebuilt only when the change log has grown since it was built.

    The log is looked at most once every `recheck` seconds: an admin's change reaches every
    process within that time, and a step does not pay a query for it."""

    def __init__(self, recheck: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._checked = float("-inf")
        self._recheck = recheck
        self._calendar: WorkdayCalendar | None = None

    def invalidate(self) -> None:
        """This process changed the calendar: look again at the next use."""
        with self._lock:
            self._checked = float("-inf")

    def get(self, uow: UnitOfWork) -> WorkdayCalendar:
        with self._lock:
            if self._calendar is not None and time.monotonic() - self._checked < self._recheck:
                return self._calendar
        version = uow.calendar.version()
        with self._lock:
            self._checked = time.monotonic()
            if self._calendar is not None and version == self._version:
                return self._calendar
        years = uow.calendar.years()
        if years:
            # after the last published year, the holidays the 放假办法 fixes (still provisional)
            calendar = with_statutory_holidays(uow.calendar.rules(), (years[0], years[-1]))
        else:  # not seeded: every result is provisional rather than silently trusted
            calendar = WorkdayCalendar([], (1, 1))
        with self._lock:
            self._calendar, self._version = calendar, version
        return calendar
