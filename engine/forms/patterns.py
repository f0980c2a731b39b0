"""Regular expressions from uploaded forms, run by RE2: linear time whatever the pattern.

A form's `pattern` comes from whoever uploaded the bundle; Python's backtracking `re` takes
seconds on `^(a+)+$` and a few dozen characters. RE2 (google-re2) has no backtracking, so a
match costs time linear in the text. RE2 lacks backreferences and lookaround: a pattern using
them is refused at upload (`pattern_problem`), so every stored pattern compiles here.

JSON Schema patterns are ECMA-262 expressions; the difference that matters in Chinese forms is
the `\\uXXXX` escape (`[\\u4e00-\\u9fa5]`), which RE2 spells `\\x{XXXX}` and is rewritten so.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the designer, not to stderr
_HEX = frozenset("0123456789abcdefABCDEF")


def _rewritten(pattern: str) -> str:
    """`\\uXXXX` as RE2's `\\x{XXXX}`; everything else as written."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            digits = pattern[i + 2 : i + 6]
            if escaped == "u" and len(digits) == 4 and set(digits) <= _HEX:
                out.append("\\x{" + digits + "}")
                i += 6
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """The RE2 program of a pattern; raises ValueError saying why RE2 refuses it."""
    try:
        return re2.compile(_rewritten(pattern), options=_OPTIONS)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(text) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema's `pattern`: unanchored)."""
    return compiled(pattern).search(text) is not None


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern cannot be used (in Chinese), or None."""
    try:
        compiled(pattern)
    except ValueError as err:
        return f"正则表达式无法使用 (不支持反向引用和环视): {err}"
    return None


def fullmatch(pattern: str, text: str) -> bool:
    """Whether `pattern` matches the whole of `text`."""
    return compiled(pattern).fullmatch(text) is not None
