"""The functions an expression may call by default. None of them reads the clock: functions
that need the date (working-day arithmetic) are added by the engine, on its injected clock."""

from __future__ import annotations

import builtins
import datetime
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

from .limits import MAX_ROUND_DIGITS


def _round(number: Any, ndigits: Any = None) -> Any:
    """``round`` with ``ndigits`` bounded (``round(5, -10**9)`` would compute ``10**10**9``)."""
    if ndigits is None:
        return builtins.round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ValueError(f"ndigits must be an integer within ±{MAX_ROUND_DIGITS}")
    return builtins.round(number, ndigits)


def _sum(values: Iterable[Any], start: Any = 0) -> Any:
    """``sum`` of numbers only (summing lists or text would be quadratic)."""
    items = [*values, start]
    for item in items:
        if not isinstance(item, int | float):
            raise TypeError("sum() only adds numbers")
    return builtins.sum(items)


def _date(value: Any) -> datetime.date:
    """A ``date`` from ISO text (``2024-05-01``, or a date-time whose time is dropped); a date or
    date-time is taken as it is."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise TypeError("date() takes ISO text")
    text = value.strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return datetime.datetime.fromisoformat(text).date()


DEFAULT_FUNCTIONS: MappingProxyType[str, Callable[..., Any]] = MappingProxyType(
    {
        "len": builtins.len,
        "min": builtins.min,
        "max": builtins.max,
        "abs": builtins.abs,
        "round": _round,
        "int": builtins.int,
        "float": builtins.float,
        "str": builtins.str,
        "bool": builtins.bool,
        "sum": _sum,
        "any": builtins.any,
        "all": builtins.all,
        "sorted": builtins.sorted,
        "date": _date,
    }
)
"""Read-only; extend with ``{**DEFAULT_FUNCTIONS, "name": function}``."""
