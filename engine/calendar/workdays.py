"""Working days (工作日): add and count them under the weekday rule and its exceptions."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import MAXYEAR, MINYEAR, date
from types import MappingProxyType
from typing import Any, NoReturn

from engine.calendar.model import DayRule, WorkdayResult


def _is_weekday(ordinal: int) -> bool:
    """Monday–Friday (ordinal 1, 0001-01-01, is a Monday)."""
    return (ordinal - 1) % 7 < 5


def _weekdays_through(ordinal: int) -> int:
    """Mondays–Fridays in [1, ordinal]."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _nth_weekday(k: int) -> int:
    """The ordinal of the k-th Monday–Friday counted from ordinal 1 (k >= 1)."""
    weeks, rest = divmod(k - 1, 5)
    return 7 * weeks + rest + 1


class WorkdayCalendar:
    """An immutable working-day calendar: Monday–Friday, except where a `DayRule` says otherwise.

    Every day from the first to the last covered by the known years or by a rule is tabled once
    as a sorted tuple of working-day ordinals; `add` and `count` look it up with `bisect` and use
    weekday arithmetic beyond it, so both take constant time whatever the span. A result is
    `provisional` when a day it had to judge lies outside `known_years`.
    """

    __slots__ = ("_known", "_known_first", "_known_last", "_rules", "_first", "_last", "_table")

    _known: tuple[int, int]
    _known_first: int
    _known_last: int
    _rules: Mapping[int, DayRule]
    _first: int
    _last: int
    _table: tuple[int, ...]

    def __init__(self, rules: Iterable[DayRule], known_years: tuple[int, int]) -> None:
        first_year, last_year = known_years
        if not MINYEAR <= first_year <= last_year <= MAXYEAR:
            raise ValueError(f"known_years must be an ascending pair of years, not {known_years!r}")
        by_ordinal = {r.day.toordinal(): r for r in rules}  # a later rule for a day wins
        known_first = date(first_year, 1, 1).toordinal()
        known_last = date(last_year, 12, 31).toordinal()
        first = min(known_first, *by_ordinal) if by_ordinal else known_first
        last = max(known_last, *by_ordinal) if by_ordinal else known_last
        table = tuple(
            o
            for o in range(first, last + 1)
            if (by_ordinal[o].workday if o in by_ordinal else _is_weekday(o))
        )
        init = object.__setattr__
        init(self, "_known", (first_year, last_year))
        init(self, "_known_first", known_first)
        init(self, "_known_last", known_last)
        init(self, "_rules", MappingProxyType(by_ordinal))
        init(self, "_first", first)
        init(self, "_last", last)
        init(self, "_table", table)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"WorkdayCalendar({len(self._rules)} rules, known_years={self._known})"

    @property
    def known_years(self) -> tuple[int, int]:
        """The inclusive range of years the rules are complete for."""
        return self._known

    @property
    def rules(self) -> tuple[DayRule, ...]:
        """All rules, by day."""
        return tuple(self._rules[o] for o in sorted(self._rules))

    def is_workday(self, day: date) -> bool:
        """The day's rule if it has one, else Monday–Friday."""
        rule = self._rules.get(day.toordinal())
        return rule.workday if rule is not None else _is_weekday(day.toordinal())

    def knows(self, day: date) -> bool:
        """Whether the day lies within `known_years`."""
        return self._known[0] <= day.year <= self._known[1]

    def rule(self, day: date) -> DayRule | None:
        """The rule for the day, if any."""
        return self._rules.get(day.toordinal())

    def add(self, start: date, n: int) -> WorkdayResult[date]:
        """The n-th working day after `start` (n < 0: before it); `start` itself is not counted.

        n == 0 gives `start`. For a working day `start`, add(add(start, -n).value, n) == start.
        """
        s = start.toordinal()
        if n == 0:
            return WorkdayResult(date.fromordinal(s), False)
        if n > 0:
            end = self._nth(self._rank(s) + n)
            return WorkdayResult(date.fromordinal(end), self._unknown(s + 1, end))
        begin = self._nth(self._rank(s - 1) + n + 1)
        return WorkdayResult(date.fromordinal(begin), self._unknown(begin, s - 1))

    def count(self, start: date, end: date) -> WorkdayResult[int]:
        """Working days in (start, end]; 0 when end <= start."""
        s, e = start.toordinal(), end.toordinal()
        if e <= s:
            return WorkdayResult(0, False)
        return WorkdayResult(self._rank(e) - self._rank(s), self._unknown(s + 1, e))

    def with_rule(self, rule: DayRule) -> WorkdayCalendar:
        """A new calendar with `rule` added, replacing any rule for its day."""
        return WorkdayCalendar([*self._rules.values(), rule], self._known)

    def without_rule(self, day: date) -> WorkdayCalendar:
        """A new calendar without the rule for `day` (the same rules when it had none)."""
        o = day.toordinal()
        return WorkdayCalendar([r for k, r in self._rules.items() if k != o], self._known)

    def _rank(self, ordinal: int) -> int:
        """Working days in [self._first, ordinal]; negative (minus those in (ordinal, first)) before."""
        if ordinal < self._first:
            return _weekdays_through(ordinal) - _weekdays_through(self._first - 1)
        if ordinal > self._last:
            return len(self._table) + _weekdays_through(ordinal) - _weekdays_through(self._last)
        return bisect_right(self._table, ordinal)

    def _nth(self, rank: int) -> int:
        """The ordinal of the working day whose `_rank` is `rank`."""
        if rank <= 0:
            return _nth_weekday(rank + _weekdays_through(self._first - 1))
        if rank <= len(self._table):
            return self._table[rank - 1]
        return _nth_weekday(rank - len(self._table) + _weekdays_through(self._last))

    def _unknown(self, first: int, last: int) -> bool:
        """Whether any day in [first, last] lies outside the known years."""
        return first < self._known_first or last > self._known_last
