"""Working hours (engine/calendar/hours.py): office hours on the working days of the 调休
calendar, added to a moment and counted between two, in the centre's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import WorkdayCalendar, chinese_calendar_rules
from engine.calendar.hours import (
    OfficeHours,
    add_work_hours,
    add_working_seconds,
    office_hours_problem,
    working_seconds,
)

CAL = WorkdayCalendar(*chinese_calendar_rules())
TZ = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def at(text: str) -> datetime:
    """ "2026-12-07 10:30" in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # within the morning
        ("2026-12-07 09:30", 2, "2026-12-07 11:30"),
        # before opening: counted from 09:00; a sum ending at a closing is due at it
        ("2026-12-07 07:15", 3, "2026-12-07 12:00"),
        ("2026-12-07 07:15", 1, "2026-12-07 10:00"),
        # across lunch: 10:30-12:00, then 13:30-16:00
        ("2026-12-07 10:30", 4, "2026-12-07 16:00"),
        # started at lunch: from 13:30
        ("2026-12-07 12:40", 2, "2026-12-07 15:30"),
        # after closing: the next working day's morning
        ("2026-12-07 17:30", 1, "2026-12-08 10:00"),
        # a whole day is 6.5 hours: 13 hours from Monday's opening close on Tuesday
        ("2026-12-07 09:00", 13, "2026-12-08 17:00"),
        # across a weekend: 2 hours on Friday, 2 on Monday
        ("2026-12-04 15:00", 4, "2026-12-07 11:00"),
        # started on a Sunday
        ("2026-12-06 10:00", 4, "2026-12-07 14:30"),
        # across 国庆 (10-01 to 10-07 off) to the 调休 Saturday: 09-30 16:00 + 1 h, 10-08,
        # 10-09, then 10-10 (a Saturday that is a working day)
        ("2026-09-30 16:00", 1 + 13 + 2, "2026-10-10 11:00"),
        ("2026-09-30 16:00", 2, "2026-10-08 10:00"),
        # seconds are kept
        ("2026-12-07 11:59:30", 1, "2026-12-07 14:29:30"),
    ],
)
def test_working_hours_are_added(start: str, hours: int, due: str) -> None:
    found = add_work_hours(at(start), hours, CAL, TZ)
    assert found.value == at(due)
    assert not found.provisional
    # and the time between is exactly those hours
    assert working_seconds(at(start), found.value, CAL, TZ) == hours * HOUR


def test_a_moment_in_another_zone_is_read_in_the_centres() -> None:
    utc_start = datetime(2026, 12, 7, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Beijing
    assert add_work_hours(utc_start, 2, CAL, TZ).value == at("2026-12-07 11:30")


def test_the_longest_limit_and_an_unpublished_year() -> None:
    found = add_work_hours(at("2026-12-07 09:00"), 2000, CAL, TZ)
    assert found.provisional  # 2000 / 6.5 working days reach 2028
    assert working_seconds(at("2026-12-07 09:00"), found.value, CAL, TZ) == 2000 * HOUR


@pytest.mark.parametrize(
    ("due", "hours", "warn"),
    [
        ("2026-12-07 11:30", 1, "2026-12-07 10:30"),
        ("2026-12-07 14:00", 1, "2026-12-07 11:30"),  # half an hour after lunch, half before
        # the earliest moment with an hour left: Friday's closing, not Monday's opening
        ("2026-12-07 10:00", 1, "2026-12-04 17:00"),
        ("2026-12-07 10:30", 1, "2026-12-07 09:30"),
        ("2026-12-07 14:30", 1, "2026-12-07 12:00"),
        ("2026-10-08 10:00", 2, "2026-09-30 16:00"),  # back across 国庆
        ("2026-12-08 17:00", 13, "2026-12-04 17:00"),  # two whole days back
        ("2026-12-08 11:00", 8, "2026-12-07 09:30"),
    ],
)
def test_working_hours_are_counted_back(due: str, hours: int, warn: str) -> None:
    assert add_working_seconds(at(due), -hours * HOUR, CAL, TZ).value == at(warn)
    assert working_seconds(at(warn), at(due), CAL, TZ) == hours * HOUR


def test_working_time_between_two_moments() -> None:
    assert working_seconds(at("2026-12-04 16:00"), at("2026-12-07 10:00"), CAL, TZ) == 2 * HOUR
    assert working_seconds(at("2026-12-07 12:10"), at("2026-12-07 13:20"), CAL, TZ) == 0
    assert working_seconds(at("2026-12-07 10:00"), at("2026-12-07 09:00"), CAL, TZ) == 0
    # a holiday week costs nothing: 09-30 16:00 .. 10-08 09:30
    assert working_seconds(at("2026-09-30 16:00"), at("2026-10-08 09:30"), CAL, TZ) == 5400
    # a whole working week
    week = working_seconds(at("2026-12-07 00:00"), at("2026-12-14 00:00"), CAL, TZ)
    assert week == 5 * 6.5 * HOUR


def test_a_bundles_own_office_hours() -> None:
    office = OfficeHours.parse([["08:30", "12:00"], ["14:00", "17:30"]])
    assert office.seconds_per_day == 7 * HOUR
    assert office.describe() == "08:30-12:00, 14:00-17:30"
    assert add_work_hours(at("2026-12-07 11:00"), 2, CAL, TZ, office).value == at(
        "2026-12-07 15:00"
    )
    one = OfficeHours.parse([["09:00", "17:00"]])  # no lunch break
    assert add_work_hours(at("2026-12-04 16:00"), 8, CAL, TZ, one).value == at("2026-12-07 16:00")
    assert OfficeHours.parse(None) == OfficeHours()
    assert OfficeHours().describe() == "09:00-12:00, 13:30-17:00"


def test_adding_nothing_is_the_moment_itself() -> None:
    moment = at("2026-12-06 22:00")
    assert add_working_seconds(moment, 0, CAL, TZ).value == moment
    assert add_working_seconds(moment + timedelta(0), 0, CAL, TZ).value.tzinfo is not None


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [
        ([["09:00", "12:00"], ["13:30", "17:00"]], None),
        ([["09:00", "12:00"], ["12:00", "17:00"]], None),  # touching, not overlapping
        ([], "应为 [开始, 结束] 时间对的列表"),
        ("09:00-17:00", "应为 [开始, 结束] 时间对的列表"),
        ([["9:00", "12:00"]], '第 1 段应为 ["HH:MM", "HH:MM"]'),
        ([["09:00", "24:00"]], "第 1 段应为"),
        ([["09:00"]], "第 1 段应为"),
        ([["12:00", "09:00"]], "第 1 段 12:00-09:00 的开始时间应早于结束时间"),
        ([["09:00", "12:00"], ["11:00", "17:00"]], "第 2 段 11:00-17:00 与前一段重叠或顺序颠倒"),
        ([["13:30", "17:00"], ["09:00", "12:00"]], "第 2 段 09:00-12:00 与前一段重叠或顺序颠倒"),
    ],
)
def test_office_hours_are_checked(pairs: object, problem: str | None) -> None:
    found = office_hours_problem(pairs)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
