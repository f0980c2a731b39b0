"""JUEL compatibility: rewrites Camunda-style syntax into Python syntax, token by token.

An optional ``${...}`` or ``#{...}`` wrapper around the whole text is dropped. Outside string
literals, ``&&`` becomes ``and``, ``||`` becomes ``or``, ``true``/``false``/``null`` become
``True``/``False``/``None``, and a ``!`` that does not start ``!=`` becomes ``~``: the compiler
reads a ``~`` that came from ``!`` as a logical not binding as tightly as JUEL's (``!a == b``
means ``(not a) == b``), and rejects every other ``~``. Line breaks, other white space and ``#``
comments become spaces, so a condition may span several lines. Text inside string literals is
copied untouched, and every character of the result remembers where it came from.

Inside the wrapper the text is JUEL (``Translation.juel``): its word operators ``eq ne lt gt le ge
div mod`` become their symbols, ``not`` a ``~`` like ``!`` (Python's ``not in`` and ``is not``
stay), ``empty`` a ``~`` the compiler reads as JUEL's ``empty``; and the compiler gives
comparisons and logic JUEL's coercions (el.py).

Two things Python only warns about are errors here, so that acceptance never depends on the
warning filters: an invalid escape in a string (``"\\d"``) and a number run into a word (``1or 2``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .errors import ExpressionError

_QUOTES = "'\""
_STRING_PREFIXES = frozenset({"r", "u", "b", "f", "br", "rb", "fr", "rf"})
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_WRAPPERS = ("${", "#{")
_JUEL_WORDS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": " / ",
    "mod": " % ",
    "not": "",
    "empty": "",
}
_ESCAPES = frozenset("\n\r\\'\"abfnrtvx01234567")
_TEXT_ESCAPES = frozenset("NuU")
_OCTAL = frozenset("01234567")
_NUMBER_WORD = re.compile(
    r"0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
    r"|[0-9](?:_?[0-9])*(?:[eE](?:[0-9](?:_?[0-9])*)?)?[jJ]?"
)


@dataclass(frozen=True, slots=True)
class Translation:
    """Python-syntax ``text`` plus the way back to the user's text."""

    text: str
    origin: tuple[int, ...]
    """``origin[i]``: index in the user's text of ``text[i]``; one extra entry for the end."""
    bangs: frozenset[int]
    """Indices in ``text`` of the ``~`` that stand for a JUEL ``!``."""
    line_starts: tuple[int, ...]
    juel: bool = False
    """Whether the text was wrapped in ``${...}`` / ``#{...}``: its operators then mean what
    JUEL says (engine/expressions/el.py)."""
    empties: frozenset[int] = frozenset()
    """Indices in ``text`` of the ``~`` that stand for JUEL's ``empty``."""

    def index(self, lineno: int | None, col: int | None, *, utf8: bool = True) -> int:
        """Index in ``text`` of a 1-based line and 0-based column (UTF-8 bytes, as in ``ast``)."""
        line = min(max(lineno or 1, 1), len(self.line_starts))
        start = self.line_starts[line - 1]
        column = max(col or 0, 0)
        if utf8:
            end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
            column = len(self.text[start:end].encode()[:column].decode("utf-8", "ignore"))
        return min(start + column, len(self.text))

    def span(self, node: ast.expr | ast.keyword) -> tuple[int, int]:
        """Start and end of ``node`` in the user's text."""
        start = self.index(node.lineno, node.col_offset)
        end = self.index(node.end_lineno, node.end_col_offset)
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1

    def is_bang(self, node: ast.expr) -> bool:
        """Whether ``node`` starts with a ``~`` written as ``!`` (or JUEL's ``not``)."""
        return self.index(node.lineno, node.col_offset) in self.bangs

    def is_empty(self, node: ast.expr) -> bool:
        """Whether ``node`` starts with a ``~`` written as JUEL's ``empty``."""
        return self.index(node.lineno, node.col_offset) in self.empties


class _Output:
    """The translated text being built, with the origin of each character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.origin: list[int] = []
        self.bangs: set[int] = set()
        self.empties: set[int] = set()

    def copy(self, source: str, start: int, end: int) -> None:
        self.parts.append(source[start:end])
        self.origin.extend(range(start, end))

    def put(self, text: str, at: int, *, same_length: bool = False) -> None:
        """Emit ``text`` for the user's token at ``at`` (char by char when of the same length)."""
        self.parts.append(text)
        if same_length:
            self.origin.extend(range(at, at + len(text)))
        else:
            self.origin.extend([at] * len(text))

    def bang(self, at: int) -> None:
        self.bangs.add(len(self.origin))
        self.put("~", at)

    def empty(self, at: int) -> None:
        self.empties.add(len(self.origin))
        self.put("~", at)

    def last(self) -> str:
        """The last character emitted that is not a space."""
        for part in reversed(self.parts):
            stripped = part.rstrip()
            if stripped:
                return stripped[-1]
        return ""


def unwrap(source: str) -> tuple[int, int]:
    """Start and end of the expression inside an optional ``${...}`` / ``#{...}`` wrapper."""
    start = len(source) - len(source.lstrip())
    end = len(source.rstrip())
    if end - start >= 3 and source.startswith(_WRAPPERS, start) and source[end - 1] == "}":
        return start + 2, end - 1
    return 0, len(source)


def translate(source: str) -> Translation:
    """The Python-syntax form of ``source`` (see the module docstring)."""
    start, end = unwrap(source)
    juel = (start, end) != (0, len(source))
    out = _Output()
    previous = ""  # the last word, for JUEL's `not` (not after `is`, not before `in`)
    i = start
    while i < end:
        char = source[i]
        following = source[i + 1] if i + 1 < end else ""
        if char in _QUOTES:
            stop = _string_end(source, i, end)
            _check_escapes(source, i, stop, "")
            out.copy(source, i, stop)
            i = stop
        elif _is_word_char(char):
            stop = i + 1
            while stop < end and _is_word_char(source[stop]):
                stop += 1
            word = source[i:stop]
            if stop < end and source[stop] in _QUOTES and word.lower() in _STRING_PREFIXES:
                opening = stop
                stop = _string_end(source, opening, end)
                _check_escapes(source, opening, stop, word.lower())
                out.copy(source, i, stop)
            else:
                if "0" <= char <= "9" and not _NUMBER_WORD.fullmatch(word):
                    raise ExpressionError.at("表达式语法错误", source, i, "数字写法不正确")
                if juel and word in _JUEL_WORDS and out.last() != ".":
                    _juel_word(out, word, i, previous, _next_word(source, stop, end))
                else:
                    out.put(_LITERALS.get(word, word), i, same_length=True)
            previous = word
            i = stop
            continue
        elif char == "&" and following == "&":
            out.put(" and ", i)
            i += 2
        elif char == "|" and following == "|":
            out.put(" or ", i)
            i += 2
        elif char == "!" and following != "=":
            out.bang(i)
            i += 1
        elif char == "#":
            stop = source.find("\n", i, end)
            stop = end if stop < 0 else stop
            out.put(" " * (stop - i), i, same_length=True)
            i = stop
        elif char == "\\" and following in ("\n", "\r"):
            out.put("  ", i, same_length=True)
            i += 2
        elif char.isspace():
            out.put(" ", i)
            i += 1
        else:
            out.copy(source, i, i + 1)
            i += 1
        if not char.isspace():
            previous = ""
    text = "".join(out.parts)
    indent = len(text) - len(text.lstrip(" "))  # Python would see an unexpected indent
    text = text[indent:]
    origin = (*out.origin[indent:], end)
    bangs = frozenset(n - indent for n in out.bangs)
    empties = frozenset(n - indent for n in out.empties)
    line_starts = (0, *(n + 1 for n, c in enumerate(text) if c == "\n"))
    return Translation(text, origin, bangs, line_starts, juel, empties)


def _juel_word(out: _Output, word: str, at: int, previous: str, following: str) -> None:
    """JUEL's word operators: ``eq ne lt gt le ge div mod`` as their symbols, ``not`` as ``!``
    (Python's ``not in`` and ``is not`` stay), ``empty`` as its own unary operator."""
    if word == "empty":
        out.empty(at)
    elif word == "not" and previous != "is" and following != "in":
        out.bang(at)
    elif word == "not":
        out.put(word, at, same_length=True)
    else:
        symbol = _JUEL_WORDS[word]
        out.put(symbol, at, same_length=len(symbol) == len(word))


def _next_word(source: str, start: int, end: int) -> str:
    """The word starting after the white space at ``start``, or ''."""
    i = start
    while i < end and source[i].isspace():
        i += 1
    stop = i
    while stop < end and _is_word_char(source[stop]):
        stop += 1
    return source[i:stop]


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or ("a" + char).isidentifier()


def _string_end(source: str, start: int, end: int) -> int:
    """Index just after the string literal opening at ``start`` (or where it breaks off)."""
    quote = source[start]
    delimiter = quote * 3 if source.startswith(quote * 3, start) else quote
    i = start + len(delimiter)
    while i < end:
        char = source[i]
        if char == "\\":
            i += 2
        elif source.startswith(delimiter, i):
            return i + len(delimiter)
        elif char == "\n" and len(delimiter) == 1:
            return i
        else:
            i += 1
    return end


def _check_escapes(source: str, start: int, end: int, prefix: str) -> None:
    """Reject the escapes Python would only warn about in the literal ``source[start:end]``."""
    if "r" in prefix:
        return
    i = source.find("\\", start, end)
    while 0 <= i < end - 1:
        char = source[i + 1]
        valid = char in _ESCAPES or (char in _TEXT_ESCAPES and "b" not in prefix)
        if char in _OCTAL:
            digits = char
            while len(digits) < 3 and i + 1 + len(digits) < end:
                if source[i + 1 + len(digits)] not in _OCTAL:
                    break
                digits += source[i + 1 + len(digits)]
            valid = int(digits, 8) <= 0o377
        if not valid:
            detail = f"字符串中的转义序列 '\\{char}' 无效(反斜杠本身要写成 '\\\\')"
            raise ExpressionError.at("表达式语法错误", source, i, detail)
        i = source.find("\\", i + 2, end)
