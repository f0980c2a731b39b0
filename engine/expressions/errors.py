"""Errors of the expression language; messages are short plain Chinese sentences."""

from __future__ import annotations

from typing import Self

from .limits import MAX_SNIPPET_CHARS


class _ExpressionProblem(ValueError):
    """Shared shape: ``message``, the user's ``source``, a 0-based ``offset`` into it or None."""

    def __init__(self, message: str, source: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = offset

    @classmethod
    def at(
        cls, what: str, source: str, offset: int | None = None, snippet: str | None = None
    ) -> Self:
        """An error whose message names the problem, its position and the offending text."""
        return cls(describe(what, source, offset, snippet), source, offset)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[Self], tuple[str, str, int | None]]:
        return (type(self), (self.message, self.source, self.offset))


class ExpressionError(_ExpressionProblem):
    """The text is not a valid expression of the language; raised before anything runs."""


class EvaluationError(_ExpressionProblem):
    """A valid expression could not be evaluated on the given data."""


class Rejected(Exception):
    """Internal: a safe operation refused its operands. ``what`` says why; the caller adds where."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def position(source: str, offset: int | None) -> str:
    """``(第 N 列)``, or ``(第 L 行第 C 列)`` for a text of several lines; 1-based, for people."""
    if offset is None:
        return ""
    if "\n" not in source:
        return f"(第 {offset + 1} 列)"
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return f"(第 {line} 行第 {column} 列)"


def shorten(text: str) -> str:
    """``text`` on one line, cut to ``MAX_SNIPPET_CHARS`` characters."""
    text = " ".join(text.split())
    if len(text) > MAX_SNIPPET_CHARS:
        return text[: MAX_SNIPPET_CHARS - 1] + "…"
    return text


def describe(what: str, source: str, offset: int | None, snippet: str | None) -> str:
    """``what(第 N 列): snippet``, leaving out the parts that are unknown."""
    text = what + position(source, offset)
    if snippet:
        text += ": " + shorten(snippet)
    return text
