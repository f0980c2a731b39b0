"""The working-day calendar as the services use it: loaded from the database, cached per
process until an admin changes it, seeded from `chinesecalendar` by `lianban init-db`."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date
from typing import TYPE_CHECKING, Any

from engine.calendar import (
    SOURCE_ADMIN,
    DayRule,
    WorkdayResult,
    chinese_calendar_rules,
)
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from .context import Services


def seed(svc: Services) -> list[int]:
    """Store every year `chinesecalendar` knows that the database does not; returns them."""
    rules, (first, last) = chinese_calendar_rules()
    with svc.uow(write=True) as uow:
        added = uow.calendar.seed(rules, list(range(first, last + 1)), "init-db", svc.clock())
        uow.commit()
    svc.calendars.invalidate()
    return added


# Years an admin may change (days set, years published): the calendar is tabled day by day from
# its first rule to its last, so a rule in year 9999 would make every process build millions.
EDITABLE_YEARS = (1900, 2199)
# Years a date may fall in (Python's `date`): reads and sums outside them are refused.
DATE_YEARS = (MINYEAR, MAXYEAR)


def _year_problem(year: int, field: str, years: tuple[int, int], what: str) -> Invalid:
    first, last = years
    return Invalid(
        f"年份 {year} 超出范围",
        [{"field": field, "message": f"{what}应在公元 {first} 年至 {last} 年之间"}],
    )


def add_workdays(svc: Services, start: date, n: int) -> WorkdayResult[date]:
    """The n-th working day after `start`; a result before year 1 or after 9999 is Invalid."""
    with svc.uow() as uow:
        try:
            return svc.calendars.get(uow).add(start, n)
        except (ValueError, OverflowError):
            raise Invalid(
                "结果日期超出范围",
                [{"field": "n", "message": "结果日期应在公元 1 年至 9999 年之间: 请减小 n"}],
            ) from None


def count_workdays(svc: Services, start: date, end: date) -> WorkdayResult[int]:
    with svc.uow() as uow:
        return svc.calendars.get(uow).count(start, end)


def _require_admin(user: User | str) -> str:
    if isinstance(user, str):
        return user  # the command line, run by the operator
    if not user.has_role(Role.ADMIN):
        raise Forbidden("只有管理员可以修改工作日历")
    return user.name


def set_day(svc: Services, user: User | str, day: date, workday: bool, name: str) -> dict[str, Any]:
    """Make `day` a holiday (workday False) or a makeup workday (True); recorded."""
    actor = _require_admin(user)
    if not EDITABLE_YEARS[0] <= day.year <= EDITABLE_YEARS[1]:
        raise _year_problem(day.year, "day", EDITABLE_YEARS, "可修改的日期")
    name = name.strip()
    if len(name) > 100:
        raise Invalid("名称过长", [{"field": "name", "message": "不超过 100 个字符"}])
    rule = DayRule(day, workday, name, SOURCE_ADMIN)
    with svc.uow(write=True) as uow:
        before = uow.calendar.set_rule(rule, actor, svc.clock())
        uow.commit()
    svc.calendars.invalidate()
    return {
        "day": day.isoformat(),
        "workday": workday,
        "name": name,
        "before": None if before is None else {"workday": before.workday, "name": before.name},
    }


def remove_day(svc: Services, user: User | str, day: date) -> bool:
    actor = _require_admin(user)
    with svc.uow(write=True) as uow:
        removed = uow.calendar.remove_rule(day, actor, svc.clock())
        uow.commit()
    svc.calendars.invalidate()
    return removed is not None


def publish_year(svc: Services, user: User | str, year: int) -> bool:
    """Declare `year`'s holidays complete (after entering the State Council's notice)."""
    actor = _require_admin(user)
    if not EDITABLE_YEARS[0] <= year <= EDITABLE_YEARS[1]:
        raise _year_problem(year, "year", EDITABLE_YEARS, "可发布的年份")
    with svc.uow(write=True) as uow:
        years = uow.calendar.years()
        if years and year != years[-1] + 1 and year not in years:
            raise Invalid(
                "年份不连续", [{"field": "year", "message": f"请先发布 {years[-1] + 1} 年的日历"}]
            )
        added = uow.calendar.add_year(year, actor, svc.clock())
        uow.commit()
    svc.calendars.invalidate()
    return added


def calendar_view(svc: Services, year: int) -> dict[str, Any]:
    if not DATE_YEARS[0] <= year <= DATE_YEARS[1]:
        raise _year_problem(year, "year", DATE_YEARS, "年份")
    with svc.uow() as uow:
        calendar = svc.calendars.get(uow)
        years = uow.calendar.years()
    rules = [r for r in calendar.rules if r.day.year == year]
    return {
        "year": year,
        "known": bool(years) and years[0] <= year <= years[-1],
        "known_years": [years[0], years[-1]] if years else None,
        "days": [
            {"day": r.day.isoformat(), "workday": r.workday, "name": r.name, "source": r.source}
            for r in rules
        ],
    }
