"""The holidays the 全国年节及纪念日放假办法 itself names, for years whose notice is not out yet.

The 办法 as amended in 2024 (国务院令第 795 号, in force from 2025) gives every citizen these
days off (第二条): 元旦 1 January; 春节 农历除夕 and 正月初一至初三 (4 days); 清明节 the day of
the solar term 清明; 劳动节 1 and 2 May; 端午节 the 5th of the 5th lunar month; 中秋节 the 15th of
the 8th lunar month; 国庆节 1 to 3 October. And (第六条) a day off that falls on a Saturday or a
Sunday is given back on a working day (补假): here the first Monday–Friday after its holiday,
as the State Council's notices do.

What only the yearly notice decides, the 调休 (weekend days made working days to join a longer
break, and the weekdays it frees), stays unknown: a date computed across such a year remains
provisional (`WorkdayCalendar` marks it so), but never falls on one of these days.

Lunar dates from `lunardate` (its table covers 1900–2099), the 清明 day from `chinesecalendar`'s
solar-term table; no astronomy is done here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate

from engine.calendar.model import SOURCE_STATUTORY, DayRule
from engine.calendar.workdays import WorkdayCalendar

# The years the lunar table covers, and so the years this module can give holidays for.
LUNAR_YEARS = (1901, 2099)

NEW_YEAR = "元旦"
SPRING = "春节"
QINGMING = "清明节"
LABOUR = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL = "国庆节"
SUBSTITUTE = "补假"


def _lunar(year: int, month: int, day: int) -> date:
    return LunarDate(year, month, day).to_solar_date()  # type: ignore[no-any-return]


def _qingming(year: int) -> date:
    # 清明 falls on 4, 5 or 6 April
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    day: date = next(day for day, name in terms if name == "清明")
    return day


def festival_days(year: int) -> dict[date, str]:
    """The days off of `year` as 第二条 names them, each with its festival's name (a day two
    festivals share, 中秋 on 1–3 October, is named after both: "国庆节、中秋节")."""
    if not LUNAR_YEARS[0] <= year <= LUNAR_YEARS[1]:
        raise ValueError(f"festival dates are known for {LUNAR_YEARS[0]}–{LUNAR_YEARS[1]} only")
    new_moon = _lunar(year, 1, 1)  # 正月初一
    named: list[tuple[date, str]] = [
        (date(year, 1, 1), NEW_YEAR),
        *((new_moon + timedelta(days=i), SPRING) for i in range(-1, 3)),  # 除夕, 初一至初三
        (_qingming(year), QINGMING),
        (date(year, 5, 1), LABOUR),
        (date(year, 5, 2), LABOUR),
        (_lunar(year, 5, 5), DRAGON_BOAT),
        *((date(year, 10, i), NATIONAL) for i in (1, 2, 3)),
        (_lunar(year, 8, 15), MID_AUTUMN),
    ]
    days: dict[date, str] = {}
    for day, name in named:
        days[day] = f"{days[day]}、{name}" if day in days else name
    return days


def _weekend(day: date) -> bool:
    return day.weekday() >= 5


def _runs(days: Iterable[date]) -> list[list[date]]:
    """Consecutive days grouped, in order."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def statutory_rules(years: Iterable[int]) -> list[DayRule]:
    """The holidays of each year the 办法 fixes, and their 补假, as calendar rules."""
    rules: dict[date, DayRule] = {}
    for year in years:
        days = festival_days(year)
        for day, name in days.items():
            rules[day] = DayRule(day, False, name, SOURCE_STATUTORY)
        for run in _runs(days):
            owed = sum(1 for day in run if _weekend(day))
            name = days[run[0]].split("、")[0] + SUBSTITUTE
            day = run[-1]
            while owed:
                day += timedelta(days=1)
                if _weekend(day) or day in rules:
                    continue
                rules[day] = DayRule(day, False, name, SOURCE_STATUTORY)
                owed -= 1
    return [rules[d] for d in sorted(rules)]


# Years after the last published one that get these holidays: past the longest time limit
# (MAX_WORKDAYS, ten years of working days, is about fourteen and a half calendar years).
HORIZON_YEARS = 16


def with_statutory_holidays(
    rules: Iterable[DayRule], known_years: tuple[int, int]
) -> WorkdayCalendar:
    """The calendar of `rules` (complete for `known_years`), with the 办法's holidays filled in
    for the years after them; a rule given for such a day (an admin's) wins over the 办法's."""
    first = known_years[1] + 1
    last = min(known_years[1] + HORIZON_YEARS, LUNAR_YEARS[1])
    filled = statutory_rules(range(max(first, LUNAR_YEARS[0]), last + 1))
    return WorkdayCalendar([*filled, *rules], known_years)
