"""FEEL unary tests (a decision table's input entries), turned into lianban's expression language.

An input entry is read as Camunda Modeler's users write it, in FEEL (DMN 1.3 "simple positive
unary tests", and `not(...)`), and becomes ONE expression of our safe language reading the
input's value under the name `INPUT`; the engine evaluates it like any other expression, so
nothing an upload writes is ever run by Python (`engine/expressions`).

| entry | expression |
| --- | --- |
| `-` or empty | none: any value |
| `"a"`, `5`, `true`, `null`, `date("2026-01-01")`, `max_area` | `INPUT == (e)` |
| `< 10`, `<= 10`, `> 3`, `>= 3` (and `!= e`, `== e`) | `INPUT < (10)` ... |
| `[1..5]`, `]1..5[`, `(1..5)`, `[1..5[` | `(1) <= INPUT and INPUT <= (5)` (`]`/`(` open) |
| `"a", "b"`, `< 0, > 10` | the tests joined by `or` |
| `not("a", "b")`, `not([1..5])` | `not (...)` |
| contains `?` (lianban's own form) | the entry, `?` standing for the value |
| `${...}` (Camunda's JUEL entries) | the entry, `cellInput` standing for the value |

Every endpoint is an expression of our language on its own (checked apart, so an endpoint
cannot reach outside its parentheses).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The input's value, under the name SpiffWorkflow's DMN engine gave `?` (tables written for it
# keep their meaning).
INPUT = "dmninputexpr"
# The input's value in a JUEL input entry (`${cellInput > 5}`), as Camunda 7 names it.
JUEL_INPUT = "cellInput"

_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # `?` outside quotes
_NOT = re.compile(r"not\s*\(")
_COMPARISONS = ("<=", ">=", "!=", "==", "<", ">")
_OPENERS = {"(": ")", "[": "]", "{": "}"}


class UnaryTestError(ValueError):
    """The entry is not a unary test; `message` says why in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_any(entry: str | None) -> bool:
    """Whether the entry accepts every value (`-`, or nothing written)."""
    return entry is None or entry.strip() in ("", "-")


def has_question_mark(entry: str) -> bool:
    return bool(_QUESTION.search(entry))


def unary_test(entry: str | None, check: Callable[[str], str | None] | None = None) -> str | None:
    """The expression true when the input's value (`INPUT`) passes `entry`; None for any value.

    `check(text)` says why an endpoint is not an expression of the language (or None); its
    answer is raised as UnaryTestError naming the endpoint. Raises UnaryTestError for text that
    is not a unary test."""
    if is_any(entry):
        return None
    assert entry is not None
    text = entry.strip()
    if has_question_mark(text):
        return _checked(_QUESTION.sub(INPUT, text), check)
    if text.startswith(("${", "#{")):
        return _checked(text, check)
    negated = _NOT.match(text)
    if negated and text.endswith(")") and _balanced(text[negated.end() : -1]):
        inner = text[negated.end() : -1]
        if not inner.strip():
            raise UnaryTestError("not() 中没有任何条件")
        return f"not ({_tests(inner, check)})"
    return _tests(text, check)


def _checked(text: str, check: Callable[[str], str | None] | None) -> str:
    if check is not None:
        problem = check(text)
        if problem is not None:
            raise UnaryTestError(problem)
    return text


def _tests(text: str, check: Callable[[str], str | None] | None) -> str:
    pieces = [_test(piece, check) for piece in split_tests(text)]
    return pieces[0] if len(pieces) == 1 else " or ".join(f"({p})" for p in pieces)


def _endpoint(text: str, check: Callable[[str], str | None] | None) -> str:
    text = text.strip()
    if not text:
        raise UnaryTestError("缺少比较的值")
    return f"({_checked(text, check)})"


def _test(piece: str, check: Callable[[str], str | None] | None) -> str:
    interval = _interval(piece)
    if interval is not None:
        opening, low, high, closing = interval
        lower = "<=" if opening == "[" else "<"
        upper = "<=" if closing == "]" else "<"
        return (
            f"{_endpoint(low, check)} {lower} {INPUT} and {INPUT} {upper} {_endpoint(high, check)}"
        )
    for operator in _COMPARISONS:
        if piece.startswith(operator):
            return f"{INPUT} {operator} {_endpoint(piece[len(operator) :], check)}"
    if piece.startswith("=") and not piece.startswith("=="):
        raise UnaryTestError('FEEL 中相等不写 =: 直接写值, 如 "a" 或 5')
    return f"{INPUT} == {_endpoint(piece, check)}"


def _skip_string(text: str, at: int) -> int:
    """The index after the quoted string starting at `at` (escapes honoured)."""
    quote = text[at]
    i = at + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise UnaryTestError("文本的引号没有闭合")


def _balanced(text: str) -> bool:
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            try:
                i = _skip_string(text, i)
            except UnaryTestError:
                return False
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def _scan(text: str, start: int, stop: Callable[[str, int, int], bool]) -> int:
    """The index of the first character at nesting depth 0 (from `start`) where
    `stop(char, index, depth)` holds, or len(text). Strings are skipped."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char in "\"'":
            i = _skip_string(text, i)
            continue
        if depth == 0 and stop(char, i, depth):
            return i
        if char in _OPENERS:
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise UnaryTestError(f"第 {i + 1} 个字符处的 {char} 没有对应的左括号")
        i += 1
    if depth > 0:
        raise UnaryTestError("括号没有闭合")
    return len(text)


def _interval_end(text: str, start: int) -> tuple[int, int] | None:
    """For an entry starting with `[`, `]` or `(` at `start`: (index of `..`, index of the
    closing bracket), or None when it is not an interval."""
    if text[start] not in "[](":
        return None
    dots = _scan(
        text,
        start + 1,
        lambda c, i, _d: text.startswith("..", i) or c == "," or c in ")]",
    )
    if not text.startswith("..", dots):
        return None
    closing = _scan(text, dots + 2, lambda c, _i, _d: c in "])[" or c == ",")
    if closing >= len(text) or text[closing] == ",":
        raise UnaryTestError("区间缺少结束的括号: 写作 [1..5]、]1..5[ 或 (1..5)")
    return dots, closing


def _interval(piece: str) -> tuple[str, str, str, str] | None:
    found = _interval_end(piece, 0)
    if found is None:
        return None
    dots, closing = found
    if piece[closing + 1 :].strip():
        raise UnaryTestError(f"区间 `{piece[: closing + 1]}` 之后多出了内容, 多个条件请用逗号分隔")
    opening = "[" if piece[0] == "[" else "("
    return opening, piece[1:dots], piece[dots + 2 : closing], piece[closing]


def split_tests(text: str) -> list[str]:
    """The comma-separated tests of `text` (commas inside brackets, strings and intervals do
    not separate), each stripped; UnaryTestError for an empty one."""
    pieces = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        interval = _interval_end(text, at) if at < len(text) else None
        if interval is not None:
            end = _scan(text, interval[1] + 1, lambda c, _i, _d: c == ",")
        else:
            end = _scan(text, at, lambda c, _i, _d: c == ",")
        piece = text[at:end].strip()
        if not piece:
            raise UnaryTestError("逗号之间缺少条件")
        pieces.append(piece)
        if end >= len(text):
            return pieces
        at = end + 1
