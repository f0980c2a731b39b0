"""Working days: the calendar agrees with `chinesecalendar` and flags years it does not know."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from engine.calendar import DayRule, WorkdayCalendar, WorkdayResult, chinese_calendar_rules

RULES, KNOWN = chinese_calendar_rules()
CAL = WorkdayCalendar(RULES, KNOWN)
FIRST = date(KNOWN[0], 1, 1)
LAST = date(KNOWN[1], 12, 31)
ONE = timedelta(days=1)
# The calendar as of a package that ends with 2026, for the hand-checked dates around 2027.
UNTIL_2026 = WorkdayCalendar([r for r in RULES if r.day.year <= 2026], (KNOWN[0], 2026))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# The package's answer for every known day; the weekday rule outside them.
REFERENCE = {d: bool(chinese_calendar.is_workday(d)) for d in _days(FIRST, LAST)}


def ref_is_workday(day: date) -> bool:
    return REFERENCE[day] if day in REFERENCE else day.weekday() < 5


def ref_add(start: date, n: int) -> date:
    """Step one day at a time."""
    day, step = start, (ONE if n > 0 else -ONE)
    for _ in range(abs(n)):
        day += step
        while not ref_is_workday(day):
            day += step
    return day


def ref_count(start: date, end: date) -> int:
    return sum(ref_is_workday(d) for d in _days(start + ONE, end)) if end > start else 0


D = date


# --- agreement with chinesecalendar -----------------------------------------------------------


def test_known_years_come_from_the_package() -> None:
    holidays = chinese_calendar.holidays
    assert KNOWN == (min(holidays).year, max(holidays).year)
    assert KNOWN[0] <= 2024 and KNOWN[1] >= 2026
    assert CAL.known_years == KNOWN


def test_is_workday_matches_the_package_for_every_known_day() -> None:
    mismatches = [
        d for d in _days(FIRST, LAST) if CAL.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []


def test_every_package_day_has_a_rule() -> None:
    by_day = {r.day: r for r in RULES}
    assert len(by_day) == len(RULES)
    assert all(by_day[d].workday is False for d in chinese_calendar.holidays)
    assert all(by_day[d].workday is True for d in chinese_calendar.workdays)
    assert len(RULES) == len(chinese_calendar.holidays) + len(chinese_calendar.workdays)
    assert {r.source for r in RULES} == {"chinesecalendar"}


@pytest.mark.parametrize("n", [1, 2, 5, 20, 60, -1, -2, -5, -20])
def test_add_matches_brute_force_for_every_day_of_2024_to_2026(n: int) -> None:
    for start in _days(D(2024, 1, 1), D(2026, 12, 31)):
        result = CAL.add(start, n)
        assert result.value == ref_add(start, n), (start, n)
        if n > 0:
            assert CAL.count(start, result.value).value == n
        else:  # (result, start] holds |n| working days, less `start` when it is a day off
            assert CAL.count(result.value, start).value == -n - (not CAL.is_workday(start))


def test_add_and_count_match_brute_force_across_the_whole_range() -> None:
    rng = random.Random(82)
    span = (LAST - FIRST).days + 60
    for _ in range(3000):
        start = FIRST - timedelta(days=30) + timedelta(days=rng.randrange(span))
        n = rng.randint(-300, 300)
        assert CAL.add(start, n).value == ref_add(start, n), (start, n)
        end = start + timedelta(days=rng.randint(-10, 400))
        assert CAL.count(start, end).value == ref_count(start, end), (start, end)


def test_count_inverts_add() -> None:
    for start in _days(D(2025, 1, 1), D(2025, 12, 31)):
        for n in (0, 1, 7, 20, 250):
            assert CAL.count(start, CAL.add(start, n).value).value == n


def test_negative_add_inverts_positive_add_from_a_working_day() -> None:
    for start in _days(D(2024, 1, 1), D(2026, 12, 31)):
        if CAL.is_workday(start):
            assert CAL.add(CAL.add(start, -15).value, 15).value == start


# --- famous cases, checked by hand ------------------------------------------------------------


def test_national_day_2026_ends_on_a_saturday_makeup_workday() -> None:
    assert CAL.add(D(2026, 9, 28), 5) == WorkdayResult(D(2026, 10, 10), False)
    assert CAL.is_workday(D(2026, 9, 20))  # a Sunday
    assert not CAL.is_workday(D(2026, 10, 7))


def test_spring_festival_2025() -> None:
    assert [d for d in _days(D(2025, 1, 25), D(2025, 2, 9)) if CAL.is_workday(d)] == [
        D(2025, 1, 26),  # Sunday makeup
        D(2025, 1, 27),
        D(2025, 2, 5),
        D(2025, 2, 6),
        D(2025, 2, 7),
        D(2025, 2, 8),  # Saturday makeup
    ]
    assert CAL.add(D(2025, 1, 24), 1).value == D(2025, 1, 26)
    assert CAL.add(D(2025, 1, 27), 1).value == D(2025, 2, 5)
    assert CAL.count(D(2025, 1, 24), D(2025, 2, 10)).value == 7


def test_national_day_2024() -> None:
    assert not any(CAL.is_workday(d) for d in _days(D(2024, 10, 1), D(2024, 10, 7)))
    assert CAL.is_workday(D(2024, 9, 29)) and CAL.is_workday(D(2024, 10, 12))
    assert CAL.add(D(2024, 9, 27), 1).value == D(2024, 9, 29)
    assert CAL.add(D(2024, 9, 30), 1).value == D(2024, 10, 8)
    assert CAL.count(D(2024, 9, 27), D(2024, 10, 13)).value == 7


def test_may_day_2025() -> None:
    assert not any(CAL.is_workday(d) for d in _days(D(2025, 5, 1), D(2025, 5, 5)))
    assert CAL.is_workday(D(2025, 4, 27))  # Sunday makeup
    assert CAL.add(D(2025, 4, 30), 1).value == D(2025, 5, 6)
    assert CAL.add(D(2025, 5, 6), -1).value == D(2025, 4, 30)
    assert CAL.count(D(2025, 4, 25), D(2025, 5, 9)).value == 1 + 3 + 4  # 4/27; 4/28–30; 5/6–9


# --- edge cases -------------------------------------------------------------------------------


def test_zero_days_is_the_start_whatever_it_is() -> None:
    for start in (D(2025, 5, 7), D(2025, 10, 1), D(2025, 5, 10), D(2025, 9, 28), D(2030, 1, 5)):
        assert CAL.add(start, 0) == WorkdayResult(start, False)


def test_start_on_a_holiday_weekend_or_makeup_day() -> None:
    assert CAL.add(D(2024, 10, 3), 1).value == D(2024, 10, 8)  # holiday
    assert CAL.add(D(2025, 5, 10), 1).value == D(2025, 5, 12)  # Saturday
    assert CAL.add(D(2024, 10, 12), 1).value == D(2024, 10, 14)  # Saturday makeup
    assert CAL.add(D(2024, 10, 12), -1).value == D(2024, 10, 11)


def test_negative_days_count_back_from_the_start() -> None:
    assert CAL.add(D(2024, 10, 8), -2).value == D(2024, 9, 29)  # 9/30, then Sunday 9/29
    assert CAL.add(D(2024, 10, 6), -1).value == D(2024, 9, 30)  # from a holiday
    assert CAL.add(D(2026, 10, 12), -2).value == D(2026, 10, 9)  # Saturday 10/10 counts


def test_count_is_zero_when_end_is_not_after_start() -> None:
    assert CAL.count(D(2025, 3, 3), D(2025, 3, 3)) == WorkdayResult(0, False)
    assert CAL.count(D(2025, 3, 10), D(2025, 3, 3)) == WorkdayResult(0, False)
    assert CAL.count(D(2025, 3, 3), D(2025, 3, 4)) == WorkdayResult(1, False)


# --- provisional ------------------------------------------------------------------------------


def test_a_limit_crossing_into_an_unknown_year_is_provisional_and_uses_weekdays() -> None:
    result = UNTIL_2026.add(D(2026, 12, 15), 20)
    # 12/16–18, 12/21–25, 12/28–31, 1/1 (New Year's Day, unknown), 1/4–8, 1/11–12
    assert result == WorkdayResult(D(2027, 1, 12), True)
    assert UNTIL_2026.count(D(2026, 12, 15), D(2027, 1, 12)) == WorkdayResult(20, True)
    assert UNTIL_2026.add(D(2026, 12, 30), 1) == WorkdayResult(D(2026, 12, 31), False)
    assert UNTIL_2026.add(D(2026, 12, 31), 1) == WorkdayResult(D(2027, 1, 1), True)


def test_a_limit_inside_the_known_years_is_not_provisional() -> None:
    assert CAL.add(D(2026, 6, 1), 20).provisional is False
    assert CAL.count(D(2004, 1, 1), D(2026, 12, 31)).provisional is False


def test_known_year_edges() -> None:
    lo, hi = KNOWN
    assert CAL.knows(D(lo, 1, 1)) and CAL.knows(D(hi, 12, 31))
    assert not CAL.knows(D(lo - 1, 12, 31)) and not CAL.knows(D(hi + 1, 1, 1))
    last_workday = CAL.add(D(hi + 1, 1, 1), -1).value
    assert CAL.add(last_workday, -1).provisional is False
    assert CAL.add(CAL.add(last_workday, -1).value, 1) == WorkdayResult(last_workday, False)
    assert CAL.add(last_workday, 1).provisional is True
    assert CAL.count(last_workday, D(hi, 12, 31)).provisional is False
    assert CAL.count(last_workday, D(hi + 1, 1, 1)).provisional is True
    first_workday = CAL.add(D(lo - 1, 12, 31), 1)
    assert first_workday.provisional is False
    assert CAL.add(first_workday.value, -1).provisional is True
    assert CAL.count(D(lo - 1, 12, 31), first_workday.value) == WorkdayResult(1, False)


def test_far_outside_the_known_years_the_weekday_rule_holds() -> None:
    start = D(2031, 3, 3)  # a Monday
    result = CAL.add(start, 500)
    assert result == WorkdayResult(start + timedelta(weeks=100), True)
    assert CAL.count(start, result.value) == WorkdayResult(500, True)
    assert CAL.add(D(1999, 1, 4), -5) == WorkdayResult(D(1998, 12, 28), True)
    assert CAL.add(D(2003, 12, 1), 30).value == ref_add(D(2003, 12, 1), 30)


# --- admin rules ------------------------------------------------------------------------------


def test_an_admin_holiday_moves_the_result_one_day_later() -> None:
    holiday = DayRule(D(2026, 6, 3), False, "台风停工", "admin")
    changed = CAL.with_rule(holiday)
    assert changed.add(D(2026, 6, 1), 5).value == D(2026, 6, 9)
    assert CAL.add(D(2026, 6, 1), 5).value == D(2026, 6, 8)  # the original is unchanged
    assert changed.rule(D(2026, 6, 3)) == holiday and CAL.rule(D(2026, 6, 3)) is None
    assert changed.count(D(2026, 6, 1), D(2026, 6, 8)).value == 4


def test_an_admin_makeup_sunday_moves_the_result_one_day_earlier() -> None:
    changed = CAL.with_rule(DayRule(D(2026, 6, 7), True, "补班", "admin"))
    assert changed.is_workday(D(2026, 6, 7)) and not CAL.is_workday(D(2026, 6, 7))
    assert changed.add(D(2026, 6, 1), 5).value == D(2026, 6, 7)
    assert CAL.add(D(2026, 6, 1), 5).value == D(2026, 6, 8)


def test_rules_can_be_replaced_and_removed() -> None:
    removed = CAL.without_rule(D(2026, 10, 10))
    assert removed.add(D(2026, 9, 28), 5).value == D(2026, 10, 12)
    assert CAL.add(D(2026, 9, 28), 5).value == D(2026, 10, 10)
    replaced = CAL.with_rule(DayRule(D(2026, 10, 7), True, "", "admin"))
    assert replaced.add(D(2026, 9, 28), 3).value == D(2026, 10, 7)
    assert CAL.without_rule(D(2026, 6, 3)).rules == CAL.rules


def test_admin_rules_outside_the_known_years_apply_but_stay_provisional() -> None:
    changed = UNTIL_2026.with_rule(DayRule(D(2027, 1, 1), False, "元旦", "admin"))
    assert changed.add(D(2026, 12, 31), 1) == WorkdayResult(D(2027, 1, 4), True)
    assert UNTIL_2026.add(D(2026, 12, 31), 1).value == D(2027, 1, 1)
    assert changed.known_years == UNTIL_2026.known_years
    far = CAL.with_rule(DayRule(D(2040, 7, 4), False, "", "admin"))  # a Wednesday
    assert far.add(D(2040, 7, 2), 3) == WorkdayResult(D(2040, 7, 6), True)
    assert far.add(D(2003, 12, 1), 30).value == CAL.add(D(2003, 12, 1), 30).value


def test_calendars_and_rules_are_immutable() -> None:
    with pytest.raises(AttributeError):
        CAL.known_years = (2000, 2030)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        CAL._table = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES[0].workday = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        DayRule(datetime(2026, 1, 1), True, "", "admin")


def test_a_calendar_without_rules_is_the_weekday_rule() -> None:
    plain = WorkdayCalendar([], (2025, 2025))
    assert plain.add(D(2025, 10, 1), 2).value == D(2025, 10, 3)
    with pytest.raises(ValueError):
        WorkdayCalendar([], (2026, 2025))


# --- names ------------------------------------------------------------------------------------


def test_names_are_chinese() -> None:
    by_day = {r.day: r for r in RULES}
    for day in _days(D(2026, 10, 1), D(2026, 10, 7)):
        assert by_day[day] == DayRule(day, False, "国庆节", "chinesecalendar")
    for day in (D(2026, 9, 20), D(2026, 10, 10)):
        assert by_day[day] == DayRule(day, True, "国庆节调休", "chinesecalendar")
    assert by_day[D(2026, 9, 25)].name == "中秋节"
    assert by_day[D(2025, 1, 28)].name == "春节"
    assert by_day[D(2025, 1, 26)].name == "春节调休"
    assert by_day[D(2025, 4, 4)].name == "清明节"
    assert by_day[D(2025, 5, 31)].name == "端午节"
    assert by_day[D(2025, 1, 1)].name == "元旦"
    assert by_day[D(2025, 5, 1)].name == "劳动节"
    # one run of days off for both festivals is named after both, in order
    assert {by_day[d].name for d in _days(D(2025, 10, 1), D(2025, 10, 8))} == {"国庆节、中秋节"}
    assert by_day[D(2025, 9, 28)].name == "国庆节、中秋节调休"
    assert by_day[D(2023, 9, 29)].name == "中秋节、国庆节"
    assert all(r.name and not any(c.isascii() and c.isalpha() for c in r.name) for r in RULES)
