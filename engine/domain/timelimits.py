"""Time limits (办理时限) in working days, and the clock that stops while a case waits.

The clock starts at 受理. While the case waits on the applicant (补正, 容缺 materials) or on a
special procedure (检验、检测、专家评审、公示), it is paused; when it resumes, the deadline moves
by the working days spent waiting. Dates are local dates: working days are calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from engine.calendar import WorkdayCalendar

# The longest time limit anywhere (ten years of working days): bundle.json limits, a task's
# `time_limit`, `workdays(n)`. Larger values are refused, never passed to the calendar.
MAX_WORKDAYS = 3650
# The longest hour limit a task's `time_limit` may state (`<n>h`, working hours).
MAX_WORK_HOURS = 2000
HOUR_SUFFIX = "h"


def hour_limit(text: str) -> int | None:
    """The working hours of a `time_limit` written `<n>h` (1..MAX_WORK_HOURS), else None."""
    if not text.endswith(HOUR_SUFFIX):
        return None
    digits = text[: -len(HOUR_SUFFIX)]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 4:
        return None
    hours = int(digits)
    return hours if 1 <= hours <= MAX_WORK_HOURS else None


class ClockState(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return _CLOCK_LABELS[self]


class Timeliness(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"  # 预警: within the warning margin of the deadline
    OVERDUE = "overdue"  # 超期

    @classmethod
    def of(cls, remaining: int | None, warning: int) -> Timeliness:
        """For `remaining` working days left (None: no deadline) and a warning margin."""
        if remaining is None:
            return cls.NORMAL
        if remaining < 0:
            return cls.OVERDUE
        return cls.WARNING if remaining <= warning else cls.NORMAL

    @property
    def label(self) -> str:
        return _TIMELINESS_LABELS[self]


_CLOCK_LABELS = {
    ClockState.NOT_STARTED: "未开始计时 (尚未受理)",
    ClockState.RUNNING: "计时中",
    ClockState.PAUSED: "暂停计时",
    ClockState.STOPPED: "已停止计时",
}
_TIMELINESS_LABELS = {
    Timeliness.NORMAL: "正常",
    Timeliness.WARNING: "预警",
    Timeliness.OVERDUE: "超期",
}


@dataclass(frozen=True)
class CaseClock:
    """A case's time limit: when it started, how long it is, how long it has waited."""

    limit: int | None = None  # 承诺时限, working days
    statutory_limit: int | None = None  # 法定时限, working days
    started_on: date | None = None
    paused_since: date | None = None
    paused_workdays: int = 0
    stopped_on: date | None = None
    provisional: bool = False  # the deadline's computation reached an unpublished year
    deadline: date | None = None
    statutory_deadline: date | None = None
    statutory_provisional: bool = False  # the same of the statutory deadline
    # 延期 (Art. 42): working days granted, and how many extensions
    extended_workdays: int = 0
    extensions: int = 0
    # Art. 32: the office did not answer the materials in time; the clock started on the day
    # they arrived (`started_on`), the day the intake limit passed is recorded here
    deemed_accepted_on: date | None = None
    # Art. 43: a lower level's preliminary review, its own limit; the upper level's clock
    # (started_on...) starts when the lower level forwards the case
    preliminary_limit: int | None = None
    preliminary_started_on: date | None = None
    preliminary_deadline: date | None = None
    forwarded_on: date | None = None

    @property
    def state(self) -> ClockState:
        if self.started_on is None:
            return ClockState.NOT_STARTED
        if self.stopped_on is not None:
            return ClockState.STOPPED
        return ClockState.PAUSED if self.paused_since is not None else ClockState.RUNNING

    def _with_deadlines(self, calendar: WorkdayCalendar, extra: int = 0) -> CaseClock:
        if self.started_on is None:
            return self
        shift = self.paused_workdays + self.extended_workdays + extra
        provisional = statutory_provisional = False
        deadline = statutory = None
        if self.limit is not None:
            found = calendar.add(self.started_on, self.limit + shift)
            deadline, provisional = found.value, found.provisional
        if self.statutory_limit is not None:
            found = calendar.add(self.started_on, self.statutory_limit + shift)
            statutory, statutory_provisional = found.value, found.provisional
        return replace(
            self,
            deadline=deadline,
            statutory_deadline=statutory,
            provisional=provisional,
            statutory_provisional=statutory_provisional,
        )

    def refreshed(self, calendar: WorkdayCalendar) -> CaseClock:
        """The deadlines recomputed on `calendar`: an admin's holiday or a newly published year
        applies to running cases too. A stopped clock keeps the deadlines it had."""
        if self.started_on is None or self.stopped_on is not None:
            return self
        return self._with_deadlines(calendar)

    def start(self, today: date, calendar: WorkdayCalendar) -> CaseClock:
        if self.started_on is not None:
            return self
        return replace(self, started_on=today)._with_deadlines(calendar)

    def pause(self, today: date) -> CaseClock:
        if self.state != ClockState.RUNNING:
            return self
        return replace(self, paused_since=today)

    def resume(self, today: date, calendar: WorkdayCalendar) -> tuple[CaseClock, int]:
        """Resume; returns the clock and the working days the pause lasted."""
        if self.state != ClockState.PAUSED or self.paused_since is None:
            return self, 0
        waited = calendar.count(self.paused_since, today).value
        resumed = replace(self, paused_since=None, paused_workdays=self.paused_workdays + waited)
        return resumed._with_deadlines(calendar), waited

    def extend(self, workdays: int, calendar: WorkdayCalendar) -> CaseClock:
        """延期: both deadlines move by `workdays` more working days (Art. 42)."""
        if self.started_on is None or self.stopped_on is not None:
            return self
        extended = replace(
            self,
            extended_workdays=self.extended_workdays + workdays,
            extensions=self.extensions + 1,
        )
        return extended._with_deadlines(calendar)

    def deemed_start(self, received_on: date, today: date, calendar: WorkdayCalendar) -> CaseClock:
        """Art. 32: not answered within the intake limit, the case counts as accepted from the
        day its materials arrived: the clock starts then, whatever day it is now."""
        if self.started_on is not None:
            return self
        started = replace(self, started_on=received_on, deemed_accepted_on=today)
        return started._with_deadlines(calendar)

    def stop(self, today: date) -> CaseClock:
        if self.started_on is None or self.stopped_on is not None:
            return self
        return replace(self, stopped_on=today)

    def remaining(self, today: date, calendar: WorkdayCalendar) -> int | None:
        """Working days left until the deadline (negative once overdue); frozen while paused."""
        if self.deadline is None:
            return None
        if self.state == ClockState.PAUSED and self.paused_since is not None:
            today = self.paused_since
        elif self.stopped_on is not None:
            today = self.stopped_on
        if today <= self.deadline:
            return calendar.count(today, self.deadline).value
        return -calendar.count(self.deadline, today).value

    def timeliness(self, today: date, calendar: WorkdayCalendar, warning: int) -> Timeliness:
        return Timeliness.of(self.remaining(today, calendar), warning)

    def to_dict(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "limit": self.limit,
            "statutory_limit": self.statutory_limit,
            "started_on": iso(self.started_on),
            "paused_since": iso(self.paused_since),
            "paused_workdays": self.paused_workdays,
            "stopped_on": iso(self.stopped_on),
            "provisional": self.provisional,
            "deadline": iso(self.deadline),
            "statutory_deadline": iso(self.statutory_deadline),
            "statutory_provisional": self.statutory_provisional,
            "extended_workdays": self.extended_workdays,
            "extensions": self.extensions,
            "deemed_accepted_on": iso(self.deemed_accepted_on),
            "preliminary_limit": self.preliminary_limit,
            "preliminary_started_on": iso(self.preliminary_started_on),
            "preliminary_deadline": iso(self.preliminary_deadline),
            "forwarded_on": iso(self.forwarded_on),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CaseClock:
        if not data:
            return cls()

        def day(key: str) -> date | None:
            value = data.get(key)
            return date.fromisoformat(value) if value else None

        return cls(
            limit=data.get("limit"),
            statutory_limit=data.get("statutory_limit"),
            started_on=day("started_on"),
            paused_since=day("paused_since"),
            paused_workdays=data.get("paused_workdays", 0),
            stopped_on=day("stopped_on"),
            provisional=data.get("provisional", False),
            deadline=day("deadline"),
            statutory_deadline=day("statutory_deadline"),
            statutory_provisional=data.get("statutory_provisional", False),
            extended_workdays=data.get("extended_workdays", 0),
            extensions=data.get("extensions", 0),
            deemed_accepted_on=day("deemed_accepted_on"),
            preliminary_limit=data.get("preliminary_limit"),
            preliminary_started_on=day("preliminary_started_on"),
            preliminary_deadline=day("preliminary_deadline"),
            forwarded_on=day("forwarded_on"),
        )
