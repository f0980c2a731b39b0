"""The plain data that may flow through an expression, and the checks keeping it plain and small."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import Rejected
from .limits import MAX_INT, MAX_SIZE

Variables = Mapping[str, Any]
Functions = Mapping[str, Callable[..., Any]]
Evaluator = Callable[[Variables, Functions], Any]
"""A compiled (sub-)expression: computes its value from the case variables and the functions."""

_T = TypeVar("_T")
_NoneType = type(None)

SCALAR_TYPES: tuple[type, ...] = (
    str,
    bool,
    int,
    float,
    _NoneType,
    datetime.datetime,
    datetime.date,
)
CONTAINER_TYPES: tuple[type, ...] = (list, tuple, dict, set, frozenset)
PLAIN_TYPES: tuple[type, ...] = SCALAR_TYPES + CONTAINER_TYPES
PLAIN_EXACT: frozenset[type] = frozenset(PLAIN_TYPES)
"""Exact types accepted without further thought (subclasses go through ``isinstance``)."""

_SMALL_SCALARS: frozenset[type] = frozenset(
    {bool, float, _NoneType, datetime.datetime, datetime.date}
)

_TYPE_NAMES: dict[type, str] = {
    str: "文本",
    bool: "布尔值",
    int: "整数",
    float: "小数",
    _NoneType: "空值",
    list: "列表",
    tuple: "元组",
    dict: "字典",
    set: "集合",
    frozenset: "集合",
    datetime.datetime: "日期时间",
    datetime.date: "日期",
}

TOO_LARGE = f"结果过大(超过 {MAX_SIZE} 个元素或字符)"
INT_TOO_LARGE = "整数过大(绝对值超过 10 的 100 次方)"


def type_name(value: object) -> str:
    """The Chinese name of a value's type, for messages (``文本``, ``整数``, ``列表``...)."""
    for cls in type(value).__mro__:
        name = _TYPE_NAMES.get(cls)
        if name is not None:
            return name
    return type(value).__name__


def unsupported(value: object) -> Rejected:
    """The refusal of a value that is not plain data."""
    return Rejected(f"值类型 {type(value).__name__} 不受支持")


def check_plain(value: _T) -> _T:
    """``value`` itself if its own type is plain data; its contents are checked when read."""
    if type(value) in PLAIN_EXACT or isinstance(value, PLAIN_TYPES):
        return value
    raise unsupported(value)


def check_int(value: int) -> int:
    """``value`` if its magnitude is at most ``MAX_INT``."""
    if value > MAX_INT or value < -MAX_INT:
        raise Rejected(INT_TOO_LARGE)
    return value


def size_of(value: object, limit: int = MAX_SIZE) -> int:
    """Characters of text plus elements of containers in ``value``, counted through nesting (a
    shared element counts each time it appears). Stops early once above ``limit``; rejects
    anything that is not plain data."""
    total = 0
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            if total <= limit:
                pending.extend(item.keys())
                pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            if total <= limit:
                pending.extend(item)
        elif not isinstance(item, SCALAR_TYPES):
            raise unsupported(item)
        if total > limit:
            raise Rejected(TOO_LARGE)
    return total


def check_result(value: _T) -> _T:
    """``value`` if it is plain data all the way down, not too large, and its integer is bounded."""
    if type(value) in _SMALL_SCALARS:
        return value
    if isinstance(value, int):
        check_int(value)
    elif isinstance(value, str):
        if len(value) > MAX_SIZE:
            raise Rejected(TOO_LARGE)
    else:
        size_of(value)
    return value
