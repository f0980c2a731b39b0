"""The expression language against hostile input: forbidden constructs and resource limits.

Every case must end in a clean ExpressionError (before anything runs) or EvaluationError; the
global pytest timeout catches a hang.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

import pytest

from engine.expressions import (
    DEFAULT_FUNCTIONS,
    EvaluationError,
    ExpressionError,
    check_expression,
    compile_expression,
)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("a.b", "不允许访问属性"),
        ("a.__class__", "不允许访问属性(第 3 列): a.__class__"),
        ("().__class__.__base__.__subclasses__()", "不允许访问属性(第 4 列): ().__class__"),
        ("''.join(x)", "不允许访问属性"),
        ("d['k'].get", "不允许访问属性"),
        ("len(x).real", "不允许访问属性"),
        ("__import__('os').system('id')", "不允许使用以下划线开头的名称(第 1 列): __import__"),
        ("__class__", "不允许使用以下划线开头的名称"),
        ("__builtins__", "不允许使用以下划线开头的名称"),
        ("_private == 1", "不允许使用以下划线开头的名称"),
        ("lambda: 1", "不允许使用 lambda 表达式"),
        ("(lambda: 1)()", "不允许使用 lambda 表达式"),
        ("[x for x in y]", "不允许使用推导式"),
        ("{x for x in y}", "不允许使用推导式"),
        ("{k: 1 for k in y}", "不允许使用推导式"),
        ("any(x for x in y)", "不允许使用生成器表达式"),
        ("(x := 1)", "不允许使用赋值表达式(:=)"),
        ("len(x, key=1)", "不允许使用关键字参数"),
        ("sorted(x, reverse=True)", "不允许使用关键字参数"),
        ("len(**d)", "不允许使用星号展开(**)"),
        ("len(*x)", "不允许使用星号展开(*)"),
        ("[*x]", "不允许使用星号展开(*)"),
        ("{**d}", "不允许使用星号展开(**)"),
        ("open('/etc/passwd')", "不允许调用函数 'open'"),
        ("eval('1')", "不允许调用函数 'eval'"),
        ("exec('1')", "不允许调用函数 'exec'"),
        ("compile('1', '', 'eval')", "不允许调用函数 'compile'"),
        ("getattr(x, 'y')", "不允许调用函数 'getattr'"),
        ("globals()", "不允许调用函数 'globals'"),
        ("range(10)", "不允许调用函数 'range'"),
        ("type(x)", "不允许调用函数 'type'"),
        ("x[0]()", "只能直接调用函数名"),
        ("(a or b)(1)", "只能直接调用函数名"),
        ("f'{x}'", "不允许使用 f-string"),
        ('f"{x.__class__}"', "不允许使用 f-string"),
        ("await x", "不允许使用 await"),
        ("(yield)", "不允许使用 yield"),
        ("a & b", "不允许使用运算符 '&'"),
        ("a | b", "不允许使用运算符 '|'"),
        ("a ^ b", "不允许使用运算符 '^'"),
        ("1 << 10**9", "不允许使用运算符 '<<'"),
        ("a >> 1", "不允许使用运算符 '>>'"),
        ("a @ b", "不允许使用运算符 '@'"),
        ("~a", "不允许使用运算符 '~'"),
        ("x is y", "'is' 只能用于和 None 比较"),
        ("x is not 1", "'is' 只能用于和 None 比较"),
        ("b'bytes'", "不支持字节串"),
        ("1j", "不支持复数"),
        ("...", "不支持这种常量"),
        ("x[1:2, 3]", "切片只能直接写在方括号中"),
        ("1" + "0" * 101, "整数过大"),
    ],
)
def test_forbidden_constructs_fail_at_compile_time(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert fragment in caught.value.message
    assert caught.value.offset is not None
    assert check_expression(source) is not None


def test_a_name_in_the_functions_is_still_not_an_attribute_gateway() -> None:
    # Even an allowed function's result has no attributes to reach.
    with pytest.raises(ExpressionError, match="不允许访问属性"):
        compile_expression("str(1).__class__.__mro__")


def test_user_text_never_reaches_eval_exec_or_bytecode_compile(monkeypatch: Any) -> None:
    real_compile = builtins.compile

    def ast_only_compile(source: Any, filename: Any, mode: str, flags: int = 0, **kw: Any) -> Any:
        assert flags & ast.PyCF_ONLY_AST, "user text compiled to bytecode"
        return real_compile(source, filename, mode, flags, **kw)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    expr = compile_expression("${a > 1 && len(s) == 3 && s[0] in ['x', 'y']}")
    assert expr.evaluate({"a": 2, "s": "xyz"}) is True
    assert check_expression("__import__('os').system('id')") is not None


@pytest.mark.parametrize(
    ("source", "variables", "fragment"),
    [
        ("9**9**9", {}, "指数过大"),
        ("2**65", {}, "指数过大"),
        ("2**-65", {}, "指数过大"),
        ("x ** 64", {"x": 10**50}, "整数过大"),
        ("10**64 * 10**64", {}, "整数过大"),
        ("x + x", {"x": 10**100}, "整数过大"),
        ("-x - x", {"x": 10**100}, "整数过大"),
        ("x ** 0.5", {"x": -8}, "结果不是实数"),
        ("1e300 ** 64", {}, "数值过大"),
        ("'a'*10**9", {}, "结果过大"),
        ("10**9 * 'a'", {}, "结果过大"),
        ("[1]*10**8", {}, "结果过大"),
        ("(1, 2) * 10**8", {}, "结果过大"),
        ("[] * x", {"x": 10**99}, "结果过大"),
        ("[[1]*100000]*100000 == [[1]*100000]*100000", {}, "结果过大"),
        ("[s] * 2", {"s": "a" * 60000}, "结果过大"),
        ("s + s", {"s": "a" * 60000}, "结果过大"),
        ("l + l", {"l": [0] * 60000}, "结果过大"),
        ("[l, l]", {"l": [0] * 60000}, "结果过大"),
        ("str(l)", {"l": [10**40] * 5000}, "函数 'str' 返回的结果过大"),
        ("'%*d' % (10**9, 1)", {}, "不支持用 % 格式化文本"),
        ("'%s' % s", {"s": "x"}, "不支持用 % 格式化文本"),
        ("round(5, -10**9)", {}, "函数 'round' 出错"),
        ("round(x, 10**9)", {"x": 1.5}, "函数 'round' 出错"),
        ("int('9' * 5000)", {}, "函数 'int' 出错"),
        ("int(1e300)", {}, "函数 'int' 返回的整数过大"),
        ("sum([[1]] * 1000, [])", {}, "函数 'sum' 出错"),
        ("sorted(l)", {"l": [0] * 100001}, "函数 'sorted' 返回的结果过大"),
    ],
)
def test_resource_limits_at_evaluation(
    source: str, variables: dict[str, Any], fragment: str
) -> None:
    expr = compile_expression(source)
    with pytest.raises(EvaluationError) as caught:
        expr.evaluate(variables)
    assert fragment in caught.value.message


def test_values_just_inside_the_limits() -> None:
    assert compile_expression("2 ** 64").evaluate({}) == 2**64
    assert compile_expression("10 ** 50 * 10 ** 50").evaluate({}) == 10**100
    assert len(compile_expression("'ab' * 50000").evaluate({})) == 100_000
    assert len(compile_expression("[0] * 100000").evaluate({})) == 100_000
    assert compile_expression("2 ** -64").evaluate({}) == 2.0**-64


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("(" * 10_000 + "1" + ")" * 10_000, "表达式过长"),
        ("not " * 10_000 + "x", "表达式过长"),
        ("x" * 5_000, "表达式过长"),
        ("a == '" + "x" * 4_000 + "'", "表达式过长"),
        ("(" * 1_999 + "1" + ")" * 1_999, "嵌套过深"),
        ("[" * 1_999 + "]" * 1_999, "嵌套过深"),
        ("not " * 999 + "x", "表达式"),
        ("not " * 150 + "x", "嵌套过深(超过 100 层)"),
        ("-" * 3_999 + "1", "表达式"),
        ("!" * 3_999 + "a", "表达式"),
        ("a" + " + a" * 110, "嵌套过深"),
        ("[" + "1, " * 600 + "]", "过于复杂(超过 500 个语法节点)"),
        ("f(" + "x, " * 600 + ")", "过于复杂"),
    ],
)
def test_resource_limits_at_compile_time(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, {**DEFAULT_FUNCTIONS, "f": len})
    assert fragment in caught.value.message


def test_limits_leave_room_for_real_expressions() -> None:
    long_list = "[" + ", ".join(f"'{n:03}'" for n in range(200)) + "]"
    assert compile_expression(f"code in {long_list}").evaluate({"code": "199"}) is True
    chain = " or ".join(f"x == {n}" for n in range(150))
    assert compile_expression(chain).evaluate({"x": 149}) is True
    assert compile_expression("not " * 90 + "x").evaluate({"x": True}) is True


def test_deeply_nested_case_data_is_a_clean_error() -> None:
    nested: list[Any] = []
    other: list[Any] = []
    for _ in range(100_000):
        nested, other = [nested], [other]
    with pytest.raises(EvaluationError, match="嵌套过深"):
        compile_expression("a == b").evaluate({"a": nested, "b": other})
