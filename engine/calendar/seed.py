"""Rules from the `chinesecalendar` package, named in Chinese."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

import chinese_calendar

from engine.calendar.model import SOURCE_PACKAGE, DayRule

# The package's English labels, with the names the State Council notices use.
_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}


def _chinese(label: str) -> str:
    """The Chinese name of a package label; the package's own for labels not in `_NAMES`."""
    if label in _NAMES:
        return _NAMES[label]
    try:
        return str(chinese_calendar.Holiday(label).chinese)
    except (ValueError, AttributeError):
        return label


def _block_names(holidays: dict[date, str]) -> dict[date, str]:
    """Name each holiday after its run of consecutive days off.

    A run holding two festivals (国庆节 and 中秋节 in 2009, 2012, 2017, 2023, 2025) is named
    after both, in the order they come, as the State Council notice does ("国庆节、中秋节").
    """
    names: dict[date, str] = {}
    run: list[date] = []
    for day in sorted(holidays) + [date.max]:
        if run and day - run[-1] != timedelta(days=1):
            parts = dict.fromkeys(_chinese(holidays[d]) for d in run)
            names.update(dict.fromkeys(run, "、".join(parts)))
            run = []
        run.append(day)
    return names


def _makeup_name(
    day: date, label: str, holidays_by_label: dict[str, list[date]], names: dict[date, str]
) -> str:
    """Name a makeup workday after the nearest holiday run of its festival, plus "调休"."""
    days = holidays_by_label.get(label)
    if not days:
        return _chinese(label) + "调休"
    i = bisect_left(days, day)
    nearest = min(days[max(i - 1, 0) : i + 1], key=lambda d: abs((d - day).days))
    return names[nearest] + "调休"


def chinese_calendar_rules() -> tuple[list[DayRule], tuple[int, int]]:
    """Every holiday and makeup workday `chinesecalendar` lists, and the years it covers."""
    holidays: dict[date, str] = {d: str(v) for d, v in chinese_calendar.holidays.items()}
    workdays: dict[date, str] = {d: str(v) for d, v in chinese_calendar.workdays.items()}
    names = _block_names(holidays)
    by_label: dict[str, list[date]] = {}
    for day in sorted(holidays):
        by_label.setdefault(holidays[day], []).append(day)
    rules = {d: DayRule(d, False, names[d], SOURCE_PACKAGE) for d in holidays}
    for day, label in workdays.items():  # the package lets a workday entry win, as we do
        rules[day] = DayRule(day, True, _makeup_name(day, label, by_label, names), SOURCE_PACKAGE)
    # The package accepts exactly the years of its holiday table (see its `_validate_date`).
    known = (min(holidays).year, max(holidays).year)
    return [rules[d] for d in sorted(rules)], known
