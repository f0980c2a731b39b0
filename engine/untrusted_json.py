"""JSON from outside (a request body, a file of an upload), parsed within bounds.

`json.loads` accepts more than JSON itself: `NaN`, `Infinity` and `-Infinity`, numbers too large
for a float (`1e400` becomes infinity), strings holding lone UTF-16 surrogates (`"\\ud800"`), and
nesting as deep as the interpreter's recursion limit; and JSON itself allows `"\\u0000"`, which
PostgreSQL's text and jsonb cannot hold. Each of these broke something further on (SQLite's
`json_extract` on stored `NaN`, UTF-8 encoding in the event hash and the database driver, a
`RecursionError`, PostgreSQL refusing the row), so `loads` refuses them, saying where in the
document the value is.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
"""Arrays and objects nested deeper than this are refused (the document itself is level 1)."""

MAX_INTEGER = 2**63 - 1
"""Integers outside the signed 64-bit range are refused: no column or index could hold them."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL = "\x00"  # PostgreSQL holds no NUL in text or jsonb: refused before it gets there
_KEY_SHOWN = 40  # characters of a key shown in a path


class JsonRefused(ValueError):
    """Well-formed JSON with a value we do not accept. `where` is the dotted path of the value
    (`data.items.0.price`), empty for the document as a whole."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.where = where


class _Constant:
    """`NaN`, `Infinity` or `-Infinity` as parsed: refused once its place is known."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def loads(text: str | bytes) -> Any:
    """Parse `text` (bytes as UTF-8). Raises `json.JSONDecodeError` (a `ValueError`) when it is
    not JSON, `UnicodeDecodeError` when bytes are not UTF-8, and `JsonRefused` for a value out of
    bounds."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8")
    try:
        value = json.loads(text, parse_constant=_Constant)
    except RecursionError:
        raise JsonRefused(f"嵌套层数过多 (上限 {MAX_DEPTH} 层)") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer of more digits than Python converts
        raise JsonRefused(f"整数超出范围 (应在 -{MAX_INTEGER + 1} 到 {MAX_INTEGER} 之间)") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Raise `JsonRefused` for the first value out of bounds in a parsed document."""
    if not _clean(value):
        _locate(value)


def _clean(value: Any) -> bool:
    """Whether every value is within bounds: the common case, walked without building the path
    of each value (`_locate` does that, only for a document that has a problem)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind is str:
            if _NUL in node or _SURROGATE.search(node):
                return False
        elif kind is dict or kind is list:
            if depth > MAX_DEPTH:
                return False
            if kind is dict:
                for key in node:
                    if _NUL in key or _SURROGATE.search(key):
                        return False
                stack.extend((item, depth + 1) for item in node.values())
            else:
                stack.extend((item, depth + 1) for item in node)
        elif kind is float:
            if not math.isfinite(node):
                return False
        elif kind is int:
            if not -MAX_INTEGER - 1 <= node <= MAX_INTEGER:
                return False
        elif node is not None and kind is not bool:
            return False  # a _Constant (NaN, Infinity), or anything json does not make
    return True


def _locate(value: Any) -> None:
    """Raise `JsonRefused` for the first value out of bounds, with its path."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise JsonRefused(f"嵌套层数过多 (上限 {MAX_DEPTH} 层)", where)
            if isinstance(node, dict):
                for key, item in node.items():
                    path = _join(where, _shown(key))
                    if _SURROGATE.search(key):
                        raise JsonRefused("名称含有无效的 Unicode 字符 (孤立的代理项)", path)
                    if _NUL in key:
                        raise JsonRefused("名称含有 NUL 字符 (\\u0000)", path)
                    stack.append((item, path, depth + 1))
            else:
                stack.extend((item, _join(where, str(i)), depth + 1) for i, item in enumerate(node))
        elif isinstance(node, str):
            if _SURROGATE.search(node):
                raise JsonRefused("含有无效的 Unicode 字符 (孤立的代理项, 如 \\ud800)", where)
            if _NUL in node:
                raise JsonRefused("含有 NUL 字符 (\\u0000), 不能保存", where)
        elif isinstance(node, _Constant) or (isinstance(node, float) and not math.isfinite(node)):
            shown = node.name if isinstance(node, _Constant) else "超出范围的数字"
            raise JsonRefused(f"不接受 {shown}: 数字必须是有限的", where)
        elif isinstance(node, int) and not isinstance(node, bool):
            if not -MAX_INTEGER - 1 <= node <= MAX_INTEGER:
                raise JsonRefused(
                    f"整数超出范围 (应在 -{MAX_INTEGER + 1} 到 {MAX_INTEGER} 之间)", where
                )


def _join(where: str, part: str) -> str:
    return f"{where}.{part}" if where else part


def _shown(key: str) -> str:
    """A key as it may appear in a message: surrogates escaped, long keys cut."""
    text = key.encode("utf-8", "backslashreplace").decode("utf-8").replace(_NUL, "\\u0000")
    return text if len(text) <= _KEY_SHOWN else text[:_KEY_SHOWN] + "…"
