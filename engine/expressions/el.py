"""JUEL's meaning of operators, for texts written ``${...}`` / ``#{...}`` as Camunda 7 and
Flowable write them: the coercion rules of the Java Unified Expression Language (EL 2.2, sections
1.8 to 1.10 and 1.18), which JUEL implements and the engines of those modelers evaluate with.

- ``==`` / ``!=`` (``eq`` / ``ne``): equal objects are equal; ``null`` equals only ``null``; if
  either side is a decimal number both are compared as decimals, else if either is an integer
  both as integers, else if either is a boolean both as booleans, else if either is text both as
  text; otherwise as values. So ``true == 'true'``, ``1000 == '1000'`` are true and
  ``1 == 'abc'`` is an error (the text is no number).
- ``<  >  <=  >=`` (``lt gt le ge``): ``null`` on either side gives false (``<=`` and ``>=`` of
  two nulls give true); then decimals, integers and text as above (text by character order);
  otherwise the values' own order, else an error.
- ``&&  ||  !`` (``and or not``): each operand becomes a boolean first: ``null`` and ``''`` are
  false, text is true only when it is ``true`` in any case, any other type is an error. The
  result is a boolean.
- ``empty x``: true for ``null``, empty text, an empty list or map; false otherwise. A variable
  the case does not have counts as ``null`` here (the one place JUEL would fail instead).
- ``a.equals(b)``: Java's ``equals``: values of the same type and equal, no coercion;
  ``a.equalsIgnoreCase(b)``: text equal ignoring case.

Conversions that fail are evaluation errors saying, in Chinese, which value could not become
what; the caller adds where.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .closures import Site
from .errors import Rejected
from .values import Evaluator, Functions, Variables, check_plain, type_name

_LONG = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[dDfF]?)"
)
_LONG_LIMIT = 2**63
_CONTAINERS = (str, list, tuple, dict, set, frozenset)

ElOperation = Callable[[Any, Any], bool]


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else to_text(value)
    return text if len(text) <= 30 else text[:29] + "…"


def _cannot(value: object, target: str) -> Rejected:
    return Rejected(f"{type_name(value)} {_show(value)} 不能转换为{target}")


def _is_double(value: object) -> bool:
    return type(value) is float


def _is_long(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_boolean(value: Any) -> bool:
    """EL 1.18.5: null and '' are false, text is true when it reads ``true`` in any case."""
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise _cannot(value, "布尔值")


def to_long(value: Any) -> int:
    """EL 1.18.3 to an integer (Java ``Long``): null and '' are 0, text must be an integer."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise _cannot(value, "整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _cannot(value, "整数")
        return int(value)  # Java's longValue(): towards zero
    if isinstance(value, str) and _LONG.fullmatch(value):
        number = int(value)
        if -_LONG_LIMIT <= number < _LONG_LIMIT:
            return number
    raise _cannot(value, "整数")


def to_double(value: Any) -> float:
    """EL 1.18.3 to a decimal (Java ``Double``): null and '' are 0, text must be a number."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        raise _cannot(value, "数字")
    try:
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            text = value.strip()
            if _DOUBLE.fullmatch(text):
                return float(text.rstrip("dDfF").replace("Infinity", "inf"))
    except OverflowError:
        pass
    raise _cannot(value, "数字")


def to_text(value: Any) -> str:
    """EL 1.18.2: null is '', booleans ``true``/``false``, other values their text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def equal(a: Any, b: Any) -> bool:
    """EL 1.8.2 ``A == B``."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    if _is_double(a) or _is_double(b):
        return to_double(a) == to_double(b)
    if _is_long(a) or _is_long(b):
        return to_long(a) == to_long(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if isinstance(a, str) or isinstance(b, str):
        return to_text(a) == to_text(b)
    return bool(a == b)


def not_equal(a: Any, b: Any) -> bool:
    return not equal(a, b)


def _order(a: Any, b: Any) -> int:
    """EL 1.8.1: -1, 0 or 1 as ``a`` is below, equal to or above ``b`` (neither null)."""
    if _is_double(a) or _is_double(b):
        x: Any = to_double(a)
        y: Any = to_double(b)
    elif _is_long(a) or _is_long(b):
        x, y = to_long(a), to_long(b)
    elif isinstance(a, str) or isinstance(b, str):
        x, y = to_text(a), to_text(b)
    else:
        x, y = a, b
    try:
        return -1 if x < y else (1 if x > y else 0)
    except TypeError:
        raise Rejected(f"{type_name(a)}与{type_name(b)}不能比较大小") from None


def less(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return _order(a, b) < 0


def greater(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return _order(a, b) > 0


def less_equal(a: Any, b: Any) -> bool:
    if a is None and b is None:
        return True
    if a is None or b is None:
        return False
    return _order(a, b) <= 0


def greater_equal(a: Any, b: Any) -> bool:
    if a is None and b is None:
        return True
    if a is None or b is None:
        return False
    return _order(a, b) >= 0


def is_empty(value: Any) -> bool:
    """EL 1.10 ``empty A``."""
    if value is None:
        return True
    if isinstance(value, _CONTAINERS):
        return len(value) == 0
    return False


def java_equals(a: Any, b: Any) -> bool:
    """``a.equals(b)``: the same type and equal (Java compares an Integer with a String false)."""
    if a is None:
        raise Rejected("空值不能调用 equals")
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        return type(a) is type(b) and a == b
    return bool(a == b)


def equals_ignore_case(a: Any, b: Any) -> bool:
    """``a.equalsIgnoreCase(b)``: text only; the argument becomes text (null stays null)."""
    if not isinstance(a, str):
        raise Rejected(f"{type_name(a)}不能调用 equalsIgnoreCase")
    if b is None:
        return False
    return a.lower() == to_text(b).lower()


METHODS: dict[str, ElOperation] = {"equals": java_equals, "equalsIgnoreCase": equals_ignore_case}
"""The methods ``a.name(b)`` a JUEL text may call, each of one argument."""


# --- closures -----------------------------------------------------------------------------------

Step = tuple[ElOperation, Evaluator]


def comparison(left: Evaluator, steps: Sequence[Step], site: Site) -> Evaluator:
    """``a op b`` (and chains, which EL does not have but the syntax allows) with EL's rules."""

    def run(variables: Variables, functions: Functions) -> bool:
        a = left(variables, functions)
        for test, right in steps:
            b = right(variables, functions)
            try:
                if not test(a, b):
                    return False
            except Rejected as exc:
                raise site.error(f"无法比较, {exc.what}") from None
            a = b
        return True

    return run


def method(name: str, target: Evaluator, argument: Evaluator, site: Site) -> Evaluator:
    operation = METHODS[name]

    def run(variables: Variables, functions: Functions) -> bool:
        a = target(variables, functions)
        b = argument(variables, functions)
        try:
            return operation(a, b)
        except Rejected as exc:
            raise site.error(exc.what) from None

    return run


def _boolean(operand: Evaluator, site: Site) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> bool:
        value = operand(variables, functions)
        try:
            return to_boolean(value)
        except Rejected as exc:
            raise site.error(f"不能作为条件, {exc.what}") from None

    return run


def negation(operand: Evaluator, site: Site) -> Evaluator:
    test = _boolean(operand, site)

    def run(variables: Variables, functions: Functions) -> bool:
        return not test(variables, functions)

    return run


def both(operands: Sequence[tuple[Evaluator, Site]]) -> Evaluator:
    """``a && b && ...``: false at the first operand that is false, else true."""
    tests = [_boolean(operand, site) for operand, site in operands]

    def run(variables: Variables, functions: Functions) -> bool:
        return all(test(variables, functions) for test in tests)

    return run


def either(operands: Sequence[tuple[Evaluator, Site]]) -> Evaluator:
    """``a || b || ...``: true at the first operand that is true, else false."""
    tests = [_boolean(operand, site) for operand, site in operands]

    def run(variables: Variables, functions: Functions) -> bool:
        return any(test(variables, functions) for test in tests)

    return run


def emptiness(operand: Evaluator) -> Evaluator:
    def run(variables: Variables, functions: Functions) -> bool:
        return is_empty(operand(variables, functions))

    return run


def optional_variable(name: str, site: Site) -> Evaluator:
    """A variable read by ``empty``: null when the case does not have it."""

    def run(variables: Variables, functions: Functions) -> Any:
        value = variables.get(name)
        try:
            return check_plain(value)
        except Rejected as exc:
            raise site.error(f"变量 '{name}' 的{exc.what}") from None

    return run
