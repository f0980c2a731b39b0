"""The case clock: started at 受理, stopped while waiting, deadlines in working days."""

from __future__ import annotations

from datetime import date

from engine.calendar import WorkdayCalendar, chinese_calendar_rules
from engine.domain.timelimits import CaseClock, ClockState, Timeliness

CAL = WorkdayCalendar(*chinese_calendar_rules())


def test_the_deadline_counts_working_days_across_national_day() -> None:
    clock = CaseClock(limit=5, statutory_limit=20).start(date(2026, 9, 28), CAL)
    assert clock.state == ClockState.RUNNING
    assert clock.deadline == date(2026, 10, 10)  # the Saturday makeup workday
    assert clock.statutory_deadline == CAL.add(date(2026, 9, 28), 20).value
    assert not clock.provisional
    assert clock.remaining(date(2026, 9, 28), CAL) == 5
    assert clock.remaining(date(2026, 10, 8), CAL) == 2
    assert clock.timeliness(date(2026, 10, 8), CAL, warning=2) == Timeliness.WARNING
    assert clock.timeliness(date(2026, 9, 29), CAL, warning=2) == Timeliness.NORMAL
    assert clock.remaining(date(2026, 10, 12), CAL) == -1
    assert clock.timeliness(date(2026, 10, 12), CAL, warning=2) == Timeliness.OVERDUE


def test_waiting_on_the_applicant_moves_the_deadline_by_the_days_waited() -> None:
    clock = CaseClock(limit=5).start(date(2026, 9, 28), CAL)
    paused = clock.pause(date(2026, 9, 29))
    assert paused.state == ClockState.PAUSED
    assert paused.remaining(date(2026, 10, 20), CAL) == 4  # frozen at the pause
    resumed, waited = paused.resume(date(2026, 10, 9), CAL)
    assert waited == 3  # 09-30, 10-08, 10-09: the holiday week does not count
    assert resumed.paused_workdays == 3 and resumed.state == ClockState.RUNNING
    assert resumed.deadline == CAL.add(date(2026, 9, 28), 8).value == date(2026, 10, 14)
    assert resumed.remaining(date(2026, 10, 9), CAL) == 4


def test_a_pause_and_resume_the_same_day_costs_nothing_and_double_calls_are_harmless() -> None:
    clock = CaseClock(limit=3).start(date(2026, 3, 2), CAL)
    assert clock.start(date(2026, 3, 9), CAL) == clock
    resumed, waited = (
        clock.pause(date(2026, 3, 3)).pause(date(2026, 3, 4)).resume(date(2026, 3, 3), CAL)
    )
    assert waited == 0 and resumed.deadline == clock.deadline
    assert clock.resume(date(2026, 3, 3), CAL) == (clock, 0)


def test_a_stopped_clock_keeps_its_last_remaining_days() -> None:
    clock = CaseClock(limit=5).start(date(2026, 3, 2), CAL).stop(date(2026, 3, 4))
    assert clock.state == ClockState.STOPPED
    assert clock.remaining(date(2026, 12, 1), CAL) == 3


def test_a_limit_reaching_an_unknown_year_is_provisional() -> None:
    clock = CaseClock(limit=10).start(date(2026, 12, 24), CAL)
    assert clock.provisional


def test_round_trip_and_no_limit() -> None:
    clock = (
        CaseClock(limit=5, statutory_limit=20)
        .start(date(2026, 9, 28), CAL)
        .pause(date(2026, 9, 29))
    )
    assert CaseClock.from_dict(clock.to_dict()) == clock
    assert CaseClock.from_dict(None) == CaseClock()
    unlimited = CaseClock().start(date(2026, 3, 2), CAL)
    assert unlimited.deadline is None and unlimited.remaining(date(2026, 3, 3), CAL) is None
