"""The language's operators on plain data, with the size limits applied before memory is spent.

Each function raises ``Rejected`` for a limit and lets Python's ``TypeError``,
``ZeroDivisionError``... escape for wrong operands; the compiled closure turns both into an
EvaluationError naming the construct.
"""

from __future__ import annotations

import datetime
from typing import Any

from .errors import Rejected
from .limits import MAX_EXPONENT, MAX_INT_BITS, MAX_SIZE
from .values import INT_TOO_LARGE, TOO_LARGE, check_int, check_plain, size_of, type_name

_SEQUENCES = (str, list, tuple)
_RESULT_SCALARS: frozenset[type] = frozenset({float, bool, datetime.date, datetime.datetime})


def _bounded(result: Any) -> Any:
    """``result`` of ``+ - * / // % **`` if it stays within the limits."""
    cls = type(result)
    if cls is int:
        return check_int(result)
    if cls in _RESULT_SCALARS:
        return result
    if cls is str:
        if len(result) > MAX_SIZE:
            raise Rejected(TOO_LARGE)
        return result
    if isinstance(result, list | tuple):
        size_of(result)
        return result
    if isinstance(result, int):
        return check_int(result)
    if isinstance(result, complex):
        raise Rejected("结果不是实数")
    return check_plain(result)


def add(left: Any, right: Any) -> Any:
    return _bounded(left + right)


def subtract(left: Any, right: Any) -> Any:
    return _bounded(left - right)


def multiply(left: Any, right: Any) -> Any:
    if isinstance(left, _SEQUENCES) and isinstance(right, int):
        return _repeat(left, right)
    if isinstance(right, _SEQUENCES) and isinstance(left, int):
        return _repeat(right, left)
    return _bounded(left * right)


def _repeat(sequence: str | list[Any] | tuple[Any, ...], times: int) -> Any:
    """``sequence * times``, refused before it is built when the result would be too large."""
    if times > 0 and (times > MAX_SIZE or size_of(sequence) * times > MAX_SIZE):
        raise Rejected(TOO_LARGE)
    return sequence * times


def divide(left: Any, right: Any) -> Any:
    return _bounded(left / right)


def floor_divide(left: Any, right: Any) -> Any:
    return _bounded(left // right)


def modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):  # no %-formatting: "%*d" % (10**9, 1) builds a huge string
        raise Rejected("不支持用 % 格式化文本")
    return _bounded(left % right)


def power(base: Any, exponent: Any) -> Any:
    """``base ** exponent`` with ``|exponent| <= MAX_EXPONENT`` and an integer result checked
    before it is computed."""
    numbers = (int, float)
    if isinstance(base, numbers) and isinstance(exponent, numbers):
        if abs(exponent) > MAX_EXPONENT:
            raise Rejected(f"指数过大(绝对值不能超过 {MAX_EXPONENT})")
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            if (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
                raise Rejected(INT_TOO_LARGE)
    return _bounded(base**exponent)


def negative(operand: Any) -> Any:
    return -operand


def positive(operand: Any) -> Any:
    return +operand


def contains(item: Any, container: Any) -> bool:
    return item in container


def not_contains(item: Any, container: Any) -> bool:
    return item not in container


def item(container: Any, key: Any) -> Any:
    """``container[key]`` for dict, list, tuple and text values."""
    if not isinstance(container, dict | list | tuple | str):
        raise Rejected(f"{type_name(container)}不能取下标")
    if isinstance(key, slice):
        if isinstance(container, dict):
            raise Rejected("字典不能切片")
        try:
            return container[key]
        except (TypeError, ValueError):
            raise Rejected("切片的起点、终点和步长必须是整数，步长不能为 0") from None
    try:
        value = container[key]
    except KeyError:
        raise Rejected(f"键 {_show(key)} 不存在") from None
    except IndexError:
        raise Rejected(f"下标 {_show(key)} 超出范围") from None
    except TypeError:
        raise Rejected(f"{type_name(container)}的下标不能是{type_name(key)}") from None
    return check_plain(value)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:29] + "…"
