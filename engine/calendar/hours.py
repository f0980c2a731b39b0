"""Working hours (工作小时): office hours on working days, added to and counted between moments.

A working hour is an hour of office hours (by default 09:00-12:00 and 13:30-17:00, local time)
on a working day of the `WorkdayCalendar` (weekends, holidays and 调休 as it says). Adding n
working hours to a moment outside office hours starts counting at the next opening; a sum that
ends exactly at a closing (12:00) is due then, not at the next opening. Everything is pure:
the zone, the calendar and the office hours are given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from engine.calendar.workdays import WorkdayCalendar

DAY = 86400
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _seconds(text: str) -> int:
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(text)
    return int(match[1]) * 3600 + int(match[2]) * 60


@dataclass(frozen=True, slots=True)
class Moment:
    """A computed moment; `provisional` when it relied on a day outside the published years."""

    value: datetime
    provisional: bool


@dataclass(frozen=True)
class OfficeHours:
    """The day's office periods, as seconds after local midnight: ordered, non-overlapping."""

    periods: tuple[tuple[int, int], ...] = ((9 * 3600, 12 * 3600), (13 * 3600 + 1800, 17 * 3600))

    @classmethod
    def parse(cls, pairs: Sequence[Sequence[str]] | None) -> OfficeHours:
        """From bundle.json `time_limits.office_hours` ([["09:00","12:00"], ...]); None: the
        default. The pairs must have passed `office_hours_problem`."""
        if not pairs:
            return cls()
        return cls(tuple((_seconds(a), _seconds(b)) for a, b in pairs))

    @property
    def seconds_per_day(self) -> int:
        return sum(end - start for start, end in self.periods)

    def describe(self) -> str:
        """ "09:00-12:00, 13:30-17:00"."""

        def hhmm(s: int) -> str:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

        return ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in self.periods)


def office_hours_problem(pairs: Any) -> str | None:
    """What is wrong with `time_limits.office_hours`, in Chinese; None when it is usable: a
    non-empty list of ["HH:MM", "HH:MM"] pairs, each opening before its closing, in order of
    the day and not overlapping."""
    if not isinstance(pairs, list) or not pairs:
        return '应为 [开始, 结束] 时间对的列表, 如 [["09:00", "12:00"], ["13:30", "17:00"]]'
    previous_end = -1
    for i, pair in enumerate(pairs):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, str) and _HHMM.match(p) for p in pair)
        ):
            return f'第 {i + 1} 段应为 ["HH:MM", "HH:MM"] (00:00 到 23:59), 不能是 {pair!r:.60}'
        start, end = _seconds(pair[0]), _seconds(pair[1])
        if start >= end:
            return f"第 {i + 1} 段 {pair[0]}-{pair[1]} 的开始时间应早于结束时间"
        if start < previous_end:
            return (
                f"第 {i + 1} 段 {pair[0]}-{pair[1]} 与前一段重叠或顺序颠倒 (各段应按时间先后排列)"
            )
        previous_end = end
    return None


def _local(moment: datetime, tz: tzinfo) -> tuple[date, int]:
    local = moment.astimezone(tz)
    return local.date(), local.hour * 3600 + local.minute * 60 + local.second


def _moment(day: date, seconds: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(seconds=seconds)


def add_working_seconds(
    start: datetime,
    seconds: int,
    calendar: WorkdayCalendar,
    tz: tzinfo,
    office: OfficeHours = OfficeHours(),
) -> Moment:
    """The moment `seconds` of working time after `start` (negative: before it; the earliest
    moment with that much working time until `start`). Provisional when a day it judged lies
    outside the calendar's published years."""
    day, now = _local(start, tz)
    if seconds == 0:
        return Moment(_moment(day, now, tz), not calendar.knows(day))
    if seconds > 0:
        found_day, found_at, provisional = _forward(day, now, seconds, calendar, office)
    else:
        found_day, found_at, provisional = _backward(day, now, -seconds, calendar, office)
    unknown = provisional or not calendar.knows(day) or not calendar.knows(found_day)
    return Moment(_moment(found_day, found_at, tz), unknown)


def add_work_hours(
    start: datetime,
    hours: int,
    calendar: WorkdayCalendar,
    tz: tzinfo,
    office: OfficeHours = OfficeHours(),
) -> Moment:
    """`add_working_seconds` in whole working hours."""
    return add_working_seconds(start, hours * 3600, calendar, tz, office)


def _forward(
    day: date, now: int, left: int, calendar: WorkdayCalendar, office: OfficeHours
) -> tuple[date, int, bool]:
    if calendar.is_workday(day):
        for opens, closes in office.periods:
            if closes > now:
                begin = max(opens, now)
                if left <= closes - begin:
                    return day, begin + left, False
                left -= closes - begin
    full, rest = divmod(left, office.seconds_per_day)
    if rest == 0:  # ends at the last closing of a whole day
        full, rest = full - 1, office.seconds_per_day
    found = calendar.add(day, full + 1)
    for opens, closes in office.periods:
        if rest <= closes - opens:
            return found.value, opens + rest, found.provisional
        rest -= closes - opens
    raise AssertionError("unreachable: rest <= seconds_per_day")


def _backward(
    day: date, now: int, left: int, calendar: WorkdayCalendar, office: OfficeHours
) -> tuple[date, int, bool]:
    if calendar.is_workday(day):
        for opens, closes in reversed(office.periods):
            if opens < now:
                end = min(closes, now)
                if left < end - opens:
                    return day, end - left, False
                left -= end - opens
    last_close = office.periods[-1][1]
    if left == 0:  # exactly the day's working time so far: the previous working day's closing
        found = calendar.add(day, -1)
        return found.value, last_close, found.provisional
    full, rest = divmod(left, office.seconds_per_day)
    found = calendar.add(day, -(full + 1))
    if rest == 0:
        return found.value, last_close, found.provisional
    for opens, closes in reversed(office.periods):
        if rest < closes - opens:
            return found.value, closes - rest, found.provisional
        rest -= closes - opens
    raise AssertionError("unreachable: rest < seconds_per_day")


def _within(day: date, start: int, end: int, calendar: WorkdayCalendar, office: OfficeHours) -> int:
    """Office seconds of `day` in [start, end)."""
    if not calendar.is_workday(day):
        return 0
    return sum(max(0, min(closes, end) - max(opens, start)) for opens, closes in office.periods)


def working_seconds(
    start: datetime,
    end: datetime,
    calendar: WorkdayCalendar,
    tz: tzinfo,
    office: OfficeHours = OfficeHours(),
) -> int:
    """Working time in [start, end), in seconds; 0 when end <= start."""
    if end <= start:
        return 0
    first, since = _local(start, tz)
    last, until = _local(end, tz)
    if first == last:
        return _within(first, since, until, calendar, office)
    between = calendar.count(first, last - timedelta(days=1)).value if last > first else 0
    return (
        _within(first, since, DAY, calendar, office)
        + between * office.seconds_per_day
        + _within(last, 0, until, calendar, office)
    )
