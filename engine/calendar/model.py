"""The values a working-day calendar is made of and answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

SOURCE_PACKAGE = "chinesecalendar"
SOURCE_ADMIN = "admin"
# a holiday the 全国年节及纪念日放假办法 fixes, for a year whose notice is not yet out
SOURCE_STATUTORY = "statutory"

T = TypeVar("T", date, int)


@dataclass(frozen=True, slots=True)
class DayRule:
    """One exception to the Monday–Friday rule: a holiday or a makeup workday (调休上班)."""

    day: date
    workday: bool
    name: str
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.day, datetime) or not isinstance(self.day, date):
            raise TypeError(f"DayRule.day must be a date, not {type(self.day).__name__}")


@dataclass(frozen=True, slots=True)
class WorkdayResult(Generic[T]):
    """A computed date (`add`) or count (`count`).

    `provisional` when it relied on a day outside the years the rules are complete for.
    """

    value: T
    provisional: bool
