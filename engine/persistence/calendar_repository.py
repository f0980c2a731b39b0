"""Storing the working-day calendar and the record of its changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from engine.calendar import DayRule

from .tables import calendar_changes, calendar_days, calendar_years


def _as_dict(rule: DayRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {"workday": rule.workday, "name": rule.name, "source": rule.source}


class CalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def version(self) -> int:
        """Grows with every change: a cached calendar older than this must be reloaded."""
        return int(
            self.conn.execute(
                select(func.coalesce(func.max(calendar_changes.c.id), 0))
            ).scalar_one()
        )

    def years(self) -> list[int]:
        return list(
            self.conn.execute(
                select(calendar_years.c.year).order_by(calendar_years.c.year)
            ).scalars()
        )

    def rules(self) -> list[DayRule]:
        rows = self.conn.execute(select(calendar_days).order_by(calendar_days.c.day)).all()
        return [DayRule(r.day, r.workday, r.name, r.source) for r in rows]

    def rule(self, day: date) -> DayRule | None:
        r = self.conn.execute(select(calendar_days).where(calendar_days.c.day == day)).first()
        return DayRule(r.day, r.workday, r.name, r.source) if r else None

    def _log(self, at: datetime, actor: str, action: str, **values: Any) -> None:
        self.conn.execute(
            insert(calendar_changes).values(at=at, actor=actor, action=action, **values)
        )

    def seed(self, rules: list[DayRule], years: list[int], actor: str, at: datetime) -> list[int]:
        """Add the given years' rules for every year not stored yet; returns the years added."""
        new_years = sorted(set(years) - set(self.years()))
        if not new_years:
            return []
        fresh = [r for r in rules if r.day.year in new_years and self.rule(r.day) is None]
        if fresh:
            self.conn.execute(
                insert(calendar_days),
                [
                    {"day": r.day, "workday": r.workday, "name": r.name, "source": r.source}
                    for r in fresh
                ],
            )
        self.conn.execute(
            insert(calendar_years), [{"year": y, "source": "seed"} for y in new_years]
        )
        self._log(at, actor, "seed", after={"years": new_years, "days": len(fresh)})
        return new_years

    def set_rule(self, rule: DayRule, actor: str, at: datetime) -> DayRule | None:
        """Store `rule` for its day (replacing any); returns what was there before."""
        before = self.rule(rule.day)
        values = {"workday": rule.workday, "name": rule.name, "source": rule.source}
        if before is None:
            self.conn.execute(insert(calendar_days).values(day=rule.day, **values))
        else:
            self.conn.execute(
                update(calendar_days).where(calendar_days.c.day == rule.day).values(**values)
            )
        self._log(at, actor, "set", day=rule.day, before=_as_dict(before), after=_as_dict(rule))
        return before

    def remove_rule(self, day: date, actor: str, at: datetime) -> DayRule | None:
        before = self.rule(day)
        if before is not None:
            self.conn.execute(delete(calendar_days).where(calendar_days.c.day == day))
            self._log(at, actor, "remove", day=day, before=_as_dict(before))
        return before

    def add_year(self, year: int, actor: str, at: datetime) -> bool:
        if year in self.years():
            return False
        self.conn.execute(insert(calendar_years).values(year=year, source="admin"))
        self._log(at, actor, "publish_year", year=year)
        return True

    def changes(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(calendar_changes).order_by(calendar_changes.c.id.desc()).limit(limit)
        ).all()
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "day": r.day.isoformat() if r.day else None,
                "year": r.year,
                "before": r.before,
                "after": r.after,
            }
            for r in rows
        ]
