"""The holidays the 全国年节及纪念日放假办法 fixes, counted for years the State Council has not
published yet (engine/calendar/statutory.py), and the 暂定 mark on exactly the dates that reach
such a year."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from engine.calendar import (
    SOURCE_STATUTORY,
    WorkdayCalendar,
    chinese_calendar_rules,
    statutory_rules,
    with_statutory_holidays,
)
from engine.calendar.statutory import festival_days
from engine.domain.timelimits import CaseClock

RULES, KNOWN = chinese_calendar_rules()
CAL = with_statutory_holidays(RULES, KNOWN)
LAST_PUBLISHED = KNOWN[1]

# 2027–2030 from the lunar tables and the 清明 term, each checked by hand against a printed
# 万年历: 春节 (正月初一), 清明, 端午, 中秋.
KNOWN_DATES = {
    2027: (date(2027, 2, 6), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)),
    2028: (date(2028, 1, 26), date(2028, 4, 4), date(2028, 5, 28), date(2028, 10, 3)),
    2029: (date(2029, 2, 13), date(2029, 4, 4), date(2029, 6, 16), date(2029, 9, 22)),
    2030: (date(2030, 2, 3), date(2030, 4, 5), date(2030, 6, 5), date(2030, 9, 12)),
}


@pytest.mark.parametrize("year", sorted(KNOWN_DATES))
def test_the_festivals_of_2027_to_2030_fall_on_their_lunar_and_solar_term_days(year: int) -> None:
    spring, qingming, dragon_boat, mid_autumn = KNOWN_DATES[year]
    # the libraries agree with the table above
    assert LunarDate(year, 1, 1).to_solar_date() == spring
    assert LunarDate(year, 5, 5).to_solar_date() == dragon_boat
    assert LunarDate(year, 8, 15).to_solar_date() == mid_autumn
    terms = dict(chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30)))
    assert terms[qingming] == "清明"
    days = festival_days(year)
    assert days[date(year, 1, 1)] == "元旦"
    # 春节: 除夕 and 正月初一至初三, four days (the 办法 as amended in 2024)
    assert [d for d, name in days.items() if "春节" in name] == [
        spring + timedelta(days=i) for i in (-1, 0, 1, 2)
    ]
    assert "清明节" in days[qingming]
    assert days[date(year, 5, 1)] == days[date(year, 5, 2)] == "劳动节"
    assert "端午节" in days[dragon_boat]
    assert "中秋节" in days[mid_autumn]
    assert all("国庆节" in days[date(year, 10, i)] for i in (1, 2, 3))
    # 1 + 4 + 1 + 2 + 1 + 1 + 3 days, one fewer when 中秋 is one of 1–3 October (2028)
    assert len(days) == (12 if mid_autumn.month == 10 and mid_autumn.day <= 3 else 13)


def test_2028_mid_autumn_on_national_day_is_one_day_named_after_both() -> None:
    assert festival_days(2028)[date(2028, 10, 3)] == "国庆节、中秋节"


def test_a_festival_on_a_weekend_is_given_back_on_the_next_weekday() -> None:
    """第六条: 适逢星期六、星期日, 应当在工作日补假."""
    by_day = {r.day: r for r in statutory_rules([2027, 2028])}
    # 2027 春节: 除夕 Fri 02-05 to 初三 Mon 02-08; Sat and Sun owed: Tue 02-09, Wed 02-10
    assert by_day[date(2027, 2, 9)].name == by_day[date(2027, 2, 10)].name == "春节补假"
    assert date(2027, 2, 11) not in by_day
    # 2028 元旦 is a Saturday: Monday 01-03 off
    assert by_day[date(2028, 1, 3)].name == "元旦补假"
    assert all(not r.workday and r.source == SOURCE_STATUTORY for r in by_day.values())


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_published_years_of_the_amended_rules_agree(year: int) -> None:
    """In the years the State Council published under the 2024 text, every day computed here
    is a day off in its notice (the notice adds 调休 on top)."""
    for rule in statutory_rules([year]):
        assert not CAL.is_workday(rule.day), rule


@pytest.mark.parametrize("year", range(LAST_PUBLISHED + 1, LAST_PUBLISHED + 12))
def test_no_deadline_falls_on_new_years_day_of_an_unpublished_year(year: int) -> None:
    new_year = date(year, 1, 1)
    assert not CAL.is_workday(new_year)
    for start in (date(year - 1, 12, d) for d in range(1, 32)):
        for n in range(1, 25):
            result = CAL.add(start, n)
            assert result.value != new_year
    assert CAL.add(date(year - 1, 12, 31), 1).provisional


def test_the_dates_of_an_unpublished_year_stay_provisional_and_published_ones_do_not() -> None:
    # all in a published year: not provisional
    assert not CAL.add(date(2026, 12, 1), 5).provisional
    # reaching into 2027: provisional even though its holidays were counted
    into = CAL.add(date(2026, 12, 25), 5)
    assert into.value == date(2027, 1, 4) and into.provisional


def test_an_admins_day_wins_over_the_computed_one() -> None:
    from engine.calendar import SOURCE_ADMIN, DayRule

    makeup = DayRule(date(2027, 2, 10), True, "春节调休", SOURCE_ADMIN)
    calendar = with_statutory_holidays([*RULES, makeup], KNOWN)
    assert calendar.is_workday(date(2027, 2, 10))
    assert not calendar.is_workday(date(2027, 2, 9))


def test_a_published_year_gets_no_computed_days() -> None:
    plain = with_statutory_holidays([], (2026, 2027))
    assert plain.is_workday(date(2027, 2, 9))  # within the known years: only the rules count
    assert not plain.is_workday(date(2028, 1, 3))
    assert isinstance(plain, WorkdayCalendar) and plain.known_years == (2026, 2027)


def test_the_provisional_mark_sits_on_exactly_the_deadline_that_reached_the_new_year() -> None:
    """Accepted on Saturday 2026-12-05: 7 working days end on 2026-12-15 (a published year,
    no mark), 20 reach 2027 (marked), and 2027-01-01 is 元旦, not a deadline."""
    clock = CaseClock(limit=7, statutory_limit=20).start(date(2026, 12, 5), CAL)
    assert clock.deadline == date(2026, 12, 15) and not clock.provisional
    assert clock.statutory_deadline == date(2027, 1, 4) and clock.statutory_provisional
    assert CaseClock.from_dict(clock.to_dict()) == clock
    # both in 2027: both marked
    late = CaseClock(limit=7, statutory_limit=20).start(date(2026, 12, 28), CAL)
    assert late.provisional and late.statutory_provisional
    # both in 2026: neither
    early = CaseClock(limit=3, statutory_limit=5).start(date(2026, 11, 2), CAL)
    assert not early.provisional and not early.statutory_provisional
