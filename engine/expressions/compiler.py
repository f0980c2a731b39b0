"""Checks a parsed expression against the language and compiles it into a tree of closures."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from . import closures as leaf
from . import combinators as combine
from . import el
from . import operators as ops
from .closures import Site
from .combinators import NO_VALUE, Operation, Step
from .errors import ExpressionError
from .juel import Translation
from .limits import MAX_INT
from .values import SCALAR_TYPES, Evaluator

_ARITHMETIC: dict[type[ast.operator], tuple[Operation, str]] = {
    ast.Add: (ops.add, "相加"),
    ast.Sub: (ops.subtract, "相减"),
    ast.Mult: (ops.multiply, "相乘"),
    ast.Div: (ops.divide, "相除"),
    ast.FloorDiv: (ops.floor_divide, "整除"),
    ast.Mod: (ops.modulo, "取余"),
    ast.Pow: (ops.power, "做乘方"),
}
_BITWISE: dict[type[ast.operator], str] = {
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
}
_COMPARISONS: dict[type[ast.cmpop], tuple[Operation, str]] = {
    ast.Eq: (operator.eq, "比较"),
    ast.NotEq: (operator.ne, "比较"),
    ast.Lt: (operator.lt, "比较大小"),
    ast.LtE: (operator.le, "比较大小"),
    ast.Gt: (operator.gt, "比较大小"),
    ast.GtE: (operator.ge, "比较大小"),
    ast.In: (ops.contains, "in"),
    ast.NotIn: (ops.not_contains, "in"),
    ast.Is: (operator.is_, "比较"),
    ast.IsNot: (operator.is_not, "比较"),
}
_EL_COMPARISONS: dict[type[ast.cmpop], el.ElOperation] = {
    ast.Eq: el.equal,
    ast.NotEq: el.not_equal,
    ast.Lt: el.less,
    ast.LtE: el.less_equal,
    ast.Gt: el.greater,
    ast.GtE: el.greater_equal,
}
"""In a ``${...}`` text, comparisons follow JUEL's coercions (engine/expressions/el.py)."""
_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Lambda: "不允许使用 lambda 表达式",
    ast.ListComp: "不允许使用推导式",
    ast.SetComp: "不允许使用推导式",
    ast.DictComp: "不允许使用推导式",
    ast.GeneratorExp: "不允许使用生成器表达式",
    ast.NamedExpr: "不允许使用赋值表达式(:=)",
    ast.Starred: "不允许使用星号展开(*)",
    ast.JoinedStr: "不允许使用 f-string",
    ast.FormattedValue: "不允许使用 f-string",
    ast.Await: "不允许使用 await",
    ast.Yield: "不允许使用 yield",
    ast.YieldFrom: "不允许使用 yield",
    ast.Slice: "切片只能直接写在方括号中",
}
_CONSTANT_KINDS: dict[type, str] = {bytes: "字节串", complex: "复数"}
_DISPLAYS: dict[type[ast.expr], Callable[[list[Any]], Any]] = {
    ast.List: list,
    ast.Tuple: tuple,
    ast.Set: set,
}


OPTIONAL_READ = "get"
"""``get("field", default)``: a case field that may be absent, read with a default. A form of the
language, not a function: its first argument names the field, so it must be a string literal.
A variable called ``get`` is still read as a variable; only a call is the form."""
_GET_USAGE = 'get("字段名", 默认值), 如 get("tobacco_decision", "")'


class Compiler:
    """Compiles one expression; ``names`` collects the variables it reads, ``optional`` those it
    may read absent (``get(...)``, JUEL's ``empty x``), ``required`` those it reads plainly."""

    def __init__(self, source: str, translation: Translation, functions: frozenset[str]) -> None:
        self.source = source
        self.translation = translation
        self.functions = functions
        self.names: set[str] = set()
        self.optional: set[str] = set()
        self.required: set[str] = set()
        self.literals: dict[Evaluator, Any] = {}
        """Values known at compile time, by the evaluator that produces them."""

    def compile(self, node: ast.expr) -> Evaluator:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.error(_FORBIDDEN.get(type(node), "不支持这种写法"), node)
        return handler(self, node)

    def error(
        self, what: str, node: ast.expr | ast.keyword, offset: int | None = None
    ) -> ExpressionError:
        start, end = self.translation.span(node)
        at = start if offset is None else offset
        return ExpressionError.at(what, self.source, at, self.source[start:end])

    def site(self, node: ast.expr, *, snippet: bool = True) -> Site:
        start, end = self.translation.span(node)
        return Site(self.source, start, self.source[start:end] if snippet else None)

    def literal(self, value: Any) -> Evaluator:
        run = leaf.constant(value)
        self.literals[run] = value
        return run

    def check_name(self, name: str, node: ast.expr) -> None:
        if name.startswith("_"):
            raise self.error("不允许使用以下划线开头的名称", node)

    def constant(self, node: ast.Constant) -> Evaluator:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise self.error("整数过大(绝对值超过 10 的 100 次方)", node)
        if value is None or isinstance(value, bool | int | float | str):
            return self.literal(value)
        raise self.error(f"不支持{_CONSTANT_KINDS.get(type(value), '这种常量')}", node)

    def name(self, node: ast.Name) -> Evaluator:
        self.check_name(node.id, node)
        self.names.add(node.id)
        self.required.add(node.id)
        return leaf.variable(node.id, self.site(node, snippet=False))

    def attribute(self, node: ast.Attribute) -> Evaluator:
        self.compile(node.value)  # report the innermost problem first
        text = self.translation.text
        value_end = self.translation.index(node.value.end_lineno, node.value.end_col_offset)
        dot = text.find(".", value_end)
        start = dot + 1
        while 0 < start < len(text) and text[start] == " ":
            start += 1
        offset = self.translation.origin[start] if dot >= 0 else None
        raise self.error("不允许访问属性", node, offset)

    def call(self, node: ast.Call) -> Evaluator:
        function = node.func
        if (
            self.translation.juel
            and isinstance(function, ast.Attribute)
            and function.attr in el.METHODS
            and len(node.args) == 1
            and not node.keywords
        ):
            target = self.compile(function.value)
            argument = self.compile(node.args[0])
            return el.method(function.attr, target, argument, self.site(node))
        if not isinstance(function, ast.Name):
            self.compile(function)
            raise self.error("只能直接调用函数名", node)
        self.check_name(function.id, function)
        if function.id == OPTIONAL_READ:
            return self.optional_read(node)
        if function.id not in self.functions:
            raise self.error(f"不允许调用函数 '{function.id}'", node)
        arguments = [self.compile(argument) for argument in node.args]
        for keyword in node.keywords:
            what = "不允许使用星号展开(**)" if keyword.arg is None else "不允许使用关键字参数"
            raise self.error(what, keyword)
        return leaf.call(function.id, arguments, self.site(node))

    def optional_read(self, node: ast.Call) -> Evaluator:
        """``get("field", default)``: the field's value, or the default's when the case does
        not have the field (or has it null)."""
        for keyword in node.keywords:
            raise self.error(f"get() 不接受关键字参数, 请写作 {_GET_USAGE}", keyword)
        if len(node.args) != 2:
            raise self.error(f"get() 需要两个参数: 字段名和默认值, 请写作 {_GET_USAGE}", node)
        field, default = node.args
        if not isinstance(field, ast.Constant) or not isinstance(field.value, str):
            raise self.error(
                f"get() 的第一个参数必须是带引号的字段名(不能是变量或算式), 请写作 {_GET_USAGE}",
                field,
            )
        name = field.value
        if not name.strip():
            raise self.error(f"get() 的字段名为空, 请写作 {_GET_USAGE}", field)
        self.check_name(name, field)
        fallback = self.compile(default)
        self.names.add(name)
        self.optional.add(name)
        return leaf.optional_variable(name, fallback, self.site(node))

    def subscript(self, node: ast.Subscript) -> Evaluator:
        target = self.compile(node.value)
        part = node.slice
        if isinstance(part, ast.Slice):
            bounds = [
                self.compile(p) if p else self.literal(None)
                for p in (part.lower, part.upper, part.step)
            ]
            key = leaf.slice_of(*bounds)
        else:
            key = self.compile(part)
        return leaf.item(target, key, self.site(node))

    def sequence(self, node: ast.List | ast.Tuple | ast.Set) -> Evaluator:
        build = _DISPLAYS[type(node)]
        items = [self.compile(element) for element in node.elts]
        run = leaf.display(build, items, self.site(node))
        values = [self.literals.get(item, NO_VALUE) for item in items]
        if NO_VALUE not in values:
            try:
                value = build(values)
            except TypeError:  # an unhashable set element: fails when evaluated
                return run
            if isinstance(value, tuple) and _immutable(value):
                return self.literal(value)
            self.literals[run] = value  # only ever compared with, never handed out
        return run

    def dictionary(self, node: ast.Dict) -> Evaluator:
        keys: list[Evaluator] = []
        values: list[Evaluator] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise self.error("不允许使用星号展开(**)", value)
            keys.append(self.compile(key))
            values.append(self.compile(value))
        return leaf.dict_display(keys, values, self.site(node))

    def unary(self, node: ast.UnaryOp) -> Evaluator:
        if isinstance(node.op, ast.Invert) and self.translation.is_empty(node):
            inner = node.operand
            if isinstance(inner, ast.Name):  # a field the case lacks is empty, not an error
                self.check_name(inner.id, inner)
                self.names.add(inner.id)
                self.optional.add(inner.id)
                return el.emptiness(el.optional_variable(inner.id, self.site(inner)))
            return el.emptiness(self.compile(inner))
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return combine.negation(operand)
        if isinstance(node.op, ast.Invert):
            if self.translation.is_bang(node) and self.translation.juel:
                return el.negation(operand, self.site(node))
            if self.translation.is_bang(node):
                return combine.negation(operand)
            raise self.error("不允许使用运算符 '~'", node)
        negative = isinstance(node.op, ast.USub)
        sign, verb = (ops.negative, "取负") if negative else (ops.positive, "取正")
        value = self.literals.get(operand, NO_VALUE)
        if type(value) in (int, float):
            return self.literal(sign(value))
        return combine.unary(sign, verb, operand, self.site(node))

    def binary(self, node: ast.BinOp) -> Evaluator:
        left = self.compile(node.left)
        entry = _ARITHMETIC.get(type(node.op))
        if entry is None:
            raise self.error(f"不允许使用运算符 '{_BITWISE.get(type(node.op), '?')}'", node)
        right = self.compile(node.right)
        return combine.binary(entry[0], entry[1], left, right, self.site(node))

    def boolean(self, node: ast.BoolOp) -> Evaluator:
        operands = [self.compile(value) for value in node.values]
        if self.translation.juel:
            sited = [
                (run, self.site(value)) for run, value in zip(operands, node.values, strict=True)
            ]
            return el.both(sited) if isinstance(node.op, ast.And) else el.either(sited)
        return combine.both(operands) if isinstance(node.op, ast.And) else combine.either(operands)

    def compare(self, node: ast.Compare) -> Evaluator:
        if self.translation.juel and all(type(op) in _EL_COMPARISONS for op in node.ops):
            first = self.compile(node.left)
            el_steps = [
                (_EL_COMPARISONS[type(op)], self.compile(right))
                for op, right in zip(node.ops, node.comparators, strict=True)
            ]
            return el.comparison(first, el_steps, self.site(node))
        left = self.compile(node.left)
        steps: list[Step] = []
        previous = node.left
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.compile(comparator)
            against_none = _is_none(previous) or _is_none(comparator)
            if isinstance(op, ast.Is | ast.IsNot) and not against_none:
                raise self.error("'is' 只能用于和 None 比较", node)
            test, verb = _COMPARISONS[type(op)]
            steps.append((test, right, verb))
            previous = comparator
        constant = self.literals.get(steps[0][1], NO_VALUE) if len(steps) == 1 else NO_VALUE
        if isinstance(node.ops[0], ast.In | ast.NotIn):
            constant = _membership(constant)
        return combine.comparison(left, steps, self.site(node), constant)

    def conditional(self, node: ast.IfExp) -> Evaluator:
        body = self.compile(node.body)
        test = self.compile(node.test)
        return combine.conditional(test, body, self.compile(node.orelse))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _immutable(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_immutable(item) for item in value)
    return isinstance(value, SCALAR_TYPES)


def _membership(container: Any) -> Any:
    """A literal right operand of ``in`` in the form fastest to search, with the same result."""
    if isinstance(container, list):
        return tuple(container)
    if isinstance(container, set):
        return frozenset(container)
    return container


_HANDLERS: dict[type[ast.AST], Callable[[Compiler, Any], Evaluator]] = {
    ast.Constant: Compiler.constant,
    ast.Name: Compiler.name,
    ast.Attribute: Compiler.attribute,
    ast.Call: Compiler.call,
    ast.Subscript: Compiler.subscript,
    ast.List: Compiler.sequence,
    ast.Tuple: Compiler.sequence,
    ast.Set: Compiler.sequence,
    ast.Dict: Compiler.dictionary,
    ast.UnaryOp: Compiler.unary,
    ast.BinOp: Compiler.binary,
    ast.BoolOp: Compiler.boolean,
    ast.Compare: Compiler.compare,
    ast.IfExp: Compiler.conditional,
}
