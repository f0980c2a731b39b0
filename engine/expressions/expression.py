"""Compiled expressions: compiled (and checked) once, evaluated many times from any thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .compiler import Compiler
from .errors import EvaluationError, ExpressionError
from .functions import DEFAULT_FUNCTIONS
from .parser import parse
from .values import Evaluator, Functions, Variables


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """An immutable, checked expression; make one with ``compile_expression``."""

    source: str
    """The original text."""
    names: frozenset[str]
    """The variables the expression reads (function names excluded), optional ones included."""
    optional: frozenset[str]
    """Those of ``names`` it reads only where their absence is allowed: ``get("x", default)``
    and JUEL's ``empty x``. A case without them still evaluates."""
    _run: Evaluator = field(repr=False)
    _functions: Functions = field(repr=False)

    @property
    def required(self) -> frozenset[str]:
        """The variables the case must have for the expression to evaluate."""
        return self.names - self.optional

    def evaluate(self, variables: Variables, functions: Functions | None = None) -> Any:
        """The value of the expression on ``variables``. ``functions`` supplies the
        implementations of the functions it calls (default: those it was compiled with); an
        allowed name missing from it is an EvaluationError."""
        try:
            return self._run(variables, self._functions if functions is None else functions)
        except EvaluationError:
            raise
        except RecursionError:
            raise EvaluationError("表达式或数据嵌套过深", self.source) from None
        except MemoryError:
            raise EvaluationError("结果过大，内存不足", self.source) from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:  # defensive
            raise EvaluationError("表达式无法求值", self.source) from exc


def compile_expression(source: str, functions: Functions | None = None) -> Expression:
    """Check ``source`` and compile it. ``functions`` (default ``DEFAULT_FUNCTIONS``) are the only
    names that may be called. Raises ExpressionError for syntax errors, forbidden constructs and
    exceeded limits; nothing in the text is ever run by Python."""
    if not isinstance(source, str):
        raise TypeError(f"expression source must be str, not {type(source).__name__}")
    allowed: Functions = (
        DEFAULT_FUNCTIONS if functions is None else MappingProxyType(dict(functions))
    )
    root, translation = parse(source)
    compiler = Compiler(source, translation, frozenset(allowed))
    try:
        run = compiler.compile(root)
    except RecursionError:
        raise ExpressionError.at("表达式嵌套过深", source) from None
    optional = frozenset(compiler.optional - compiler.required)
    return Expression(source, frozenset(compiler.names), optional, run, allowed)


def check_expression(source: str, functions: Functions | None = None) -> ExpressionError | None:
    """The ExpressionError ``compile_expression`` would raise for ``source``, or None."""
    try:
        compile_expression(source, functions)
    except ExpressionError as exc:
        return exc
    return None


__all__ = ["Expression", "check_expression", "compile_expression"]
