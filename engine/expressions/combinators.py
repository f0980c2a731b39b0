"""Closures combining sub-expressions: operators, comparisons, ``and``/``or``/``not`` and
``a if c else b``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .closures import Site
from .errors import Rejected
from .values import Evaluator, Functions, Variables, type_name

Operation = Callable[[Any, Any], Any]
Step = tuple[Operation, Evaluator, str]
"""One link of a comparison chain: the test, the right operand and the verb for messages."""

NO_VALUE = object()


def binary(
    operation: Operation, verb: str, left: Evaluator, right: Evaluator, site: Site
) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> Any:
        a = left(variables, functions)
        b = right(variables, functions)
        try:
            return operation(a, b)
        except Rejected as exc:
            raise site.error(exc.what) from None
        except ZeroDivisionError:
            raise site.error("除数为零") from None
        except OverflowError:
            raise site.error("数值过大") from None
        except (TypeError, ValueError) as exc:
            raise site.error(f"{type_name(a)}与{type_name(b)}不能{verb}") from exc

    return run


def unary(operation: Callable[[Any], Any], verb: str, operand: Evaluator, site: Site) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> Any:
        value = operand(variables, functions)
        try:
            return operation(value)
        except (TypeError, ValueError) as exc:
            raise site.error(f"{type_name(value)}不能{verb}") from exc

    return run


def negation(operand: Evaluator) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> bool:
        return not operand(variables, functions)

    return run


def compare_error(site: Site, verb: str, left: Any, right: Any) -> Exception:
    if verb == "in":
        return site.error(f"无法判断{type_name(left)}是否在{type_name(right)}中")
    return site.error(f"{type_name(left)}与{type_name(right)}不能{verb}")


def comparison(
    left: Evaluator, steps: Sequence[Step], site: Site, constant: Any = NO_VALUE
) -> Evaluator:
    """``left op1 right1 op2 right2 ...``; ``constant`` is the right operand of a single
    comparison when known at compile time (saves a call on the hot path)."""
    if len(steps) == 1:
        test, right, verb = steps[0]
        if constant is not NO_VALUE:

            def run_constant(variables: Variables, functions: Functions) -> Any:
                a = left(variables, functions)
                try:
                    return test(a, constant)
                except TypeError:
                    raise compare_error(site, verb, a, constant) from None

            return run_constant

        def run_single(variables: Variables, functions: Functions) -> Any:
            a = left(variables, functions)
            b = right(variables, functions)
            try:
                return test(a, b)
            except TypeError:
                raise compare_error(site, verb, a, b) from None

        return run_single

    def run_chain(variables: Variables, functions: Functions) -> Any:
        a = left(variables, functions)
        result: Any = True
        for test, right, verb in steps:
            b = right(variables, functions)
            try:
                result = test(a, b)
            except TypeError:
                raise compare_error(site, verb, a, b) from None
            if not result:
                return result
            a = b
        return result

    return run_chain


def both(operands: Sequence[Evaluator]) -> Evaluator:
    """``a and b and ...``: the first falsy value, else the last value."""
    if len(operands) == 2:
        first, second = operands

        def run_two(variables: Variables, functions: Functions) -> Any:
            value = first(variables, functions)
            return second(variables, functions) if value else value

        return run_two

    def run(variables: Variables, functions: Functions) -> Any:
        value: Any = None
        for operand in operands:
            value = operand(variables, functions)
            if not value:
                return value
        return value

    return run


def either(operands: Sequence[Evaluator]) -> Evaluator:
    """``a or b or ...``: the first truthy value, else the last value."""
    if len(operands) == 2:
        first, second = operands

        def run_two(variables: Variables, functions: Functions) -> Any:
            value = first(variables, functions)
            return value if value else second(variables, functions)

        return run_two

    def run(variables: Variables, functions: Functions) -> Any:
        value: Any = None
        for operand in operands:
            value = operand(variables, functions)
            if value:
                return value
        return value

    return run


def conditional(test: Evaluator, body: Evaluator, orelse: Evaluator) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> Any:
        if test(variables, functions):
            return body(variables, functions)
        return orelse(variables, functions)

    return run
