"""Leaves and data closures of a compiled expression: constants, variables, calls, subscripts
and displays. Each is a small function ``(variables, functions) -> value``.

Children are evaluated before a ``try`` so that their EvaluationError passes through untouched;
Python's own errors and ``Rejected`` become an EvaluationError naming the construct.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from . import operators
from .errors import EvaluationError, Rejected, describe
from .values import (
    PLAIN_EXACT,
    Evaluator,
    Functions,
    Variables,
    check_plain,
    check_result,
    size_of,
)


class Site(NamedTuple):
    """Where a construct sits in the user's text, to name it when it fails."""

    source: str
    offset: int | None
    snippet: str | None

    def error(self, what: str) -> EvaluationError:
        return EvaluationError(
            describe(what, self.source, self.offset, self.snippet), self.source, self.offset
        )


def constant(value: Any) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> Any:
        return value

    return run


def variable(name: str, site: Site) -> Evaluator:
    plain = PLAIN_EXACT
    undefined = f"变量 '{name}' 未定义"

    def run(variables: Variables, functions: Functions) -> Any:
        try:
            value = variables[name]
        except KeyError:
            raise site.error(undefined) from None
        if type(value) in plain:
            return value
        try:
            return check_plain(value)
        except Rejected as exc:
            raise site.error(f"变量 '{name}' 的{exc.what}") from None

    return run


def optional_variable(name: str, default: Evaluator, site: Site) -> Evaluator:
    """``get("name", default)``: the variable, or the default's value when the case does not
    have it or has it null. The default is evaluated only then."""
    plain = PLAIN_EXACT

    def run(variables: Variables, functions: Functions) -> Any:
        try:
            value = variables[name]
        except KeyError:
            return default(variables, functions)
        if value is None:
            return default(variables, functions)
        if type(value) in plain:
            return value
        try:
            return check_plain(value)
        except Rejected as exc:
            raise site.error(f"变量 '{name}' 的{exc.what}") from None

    return run


def call(name: str, arguments: Sequence[Evaluator], site: Site) -> Evaluator:
    unavailable = f"函数 '{name}' 不可用"

    def run(variables: Variables, functions: Functions) -> Any:
        values = [argument(variables, functions) for argument in arguments]
        try:
            function = functions[name]
        except KeyError:
            raise site.error(unavailable) from None
        try:
            result = function(*values)
        except EvaluationError:
            raise
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise site.error(f"函数 '{name}' 出错，{_reason(exc)}") from exc
        try:
            return check_result(result)
        except Rejected as exc:
            raise site.error(f"函数 '{name}' 返回的{exc.what}") from None

    return run


def _reason(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "除数为零"
    if isinstance(exc, OverflowError):
        return "数值过大"
    if isinstance(exc, TypeError):
        return "参数的类型或个数不正确"
    return "参数的值不正确"


def item(target: Evaluator, key: Evaluator, site: Site) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> Any:
        container = target(variables, functions)
        index = key(variables, functions)
        try:
            return operators.item(container, index)
        except Rejected as exc:
            raise site.error(exc.what) from None

    return run


def slice_of(lower: Evaluator, upper: Evaluator, step: Evaluator) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> slice:
        return slice(
            lower(variables, functions), upper(variables, functions), step(variables, functions)
        )

    return run


def display(build: Callable[[list[Any]], Any], items: Sequence[Evaluator], site: Site) -> Evaluator:
    """A list, tuple or set display; ``build`` makes the container from the item values."""

    def run(variables: Variables, functions: Functions) -> Any:
        values = [element(variables, functions) for element in items]
        try:
            result = build(values)
            size_of(result)
        except Rejected as exc:
            raise site.error(exc.what) from None
        except TypeError as exc:
            raise site.error("集合的元素不能是列表、字典或集合") from exc
        return result

    return run


def dict_display(keys: Sequence[Evaluator], values: Sequence[Evaluator], site: Site) -> Evaluator:
    pairs = tuple(zip(keys, values, strict=True))

    def run(variables: Variables, functions: Functions) -> Any:
        entries = [(key(variables, functions), val(variables, functions)) for key, val in pairs]
        try:
            result = dict(entries)
            size_of(result)
        except Rejected as exc:
            raise site.error(exc.what) from None
        except TypeError as exc:
            raise site.error("字典的键不能是列表、字典或集合") from exc
        return result

    return run
