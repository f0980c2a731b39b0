"""The expression language: literals, operators, names, functions, JUEL aliases and errors.

Forbidden constructs and resource limits are in test_expressions_safety.py.
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from engine.expressions import (
    DEFAULT_FUNCTIONS,
    EvaluationError,
    Expression,
    ExpressionError,
    check_expression,
    compile_expression,
)


def evaluate(source: str, **variables: Any) -> Any:
    return compile_expression(source).evaluate(variables)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'abc'", "abc"),
        ('"中文"', "中文"),
        ("42", 42),
        ("-7", -7),
        ("3.5", 3.5),
        ("1_000", 1000),
        ("0x1f", 31),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 'a', None]", [1, "a", None]),
        ("[]", []),
        ("(1, 2)", (1, 2)),
        ("(1,)", (1,)),
        ("()", ()),
        ("{'a': 1, 'b': [2]}", {"a": 1, "b": [2]}),
        ("{}", {}),
        ("{1, 2, 2}", {1, 2}),
        (r"'\u4e2d\n'", "中\n"),
        (r"r'\d+'", "\\d+"),
        ("'a' 'b'", "ab"),
    ],
)
def test_literals(source: str, expected: Any) -> None:
    result = evaluate(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a + b", 10),
        ("a - b", 4),
        ("a * b", 21),
        ("a / b", 7 / 3),
        ("a // b", 2),
        ("a % b", 1),
        ("a ** 2", 49),
        ("2 ** -1", 0.5),
        ("-a", -7),
        ("+a", 7),
        ("-(a - 10)", 3),
        ("a + b * 2", 13),
        ("(a + b) * 2", 20),
        ("x + 0.5", 2.0),
        ("'ab' + 'cd'", "abcd"),
        ("'ab' * 2", "abab"),
        ("2 * [0]", [0, 0]),
        ("[1] + [2]", [1, 2]),
        ("(1,) + (2,)", (1, 2)),
    ],
)
def test_arithmetic(source: str, expected: Any) -> None:
    assert evaluate(source, a=7, b=3, x=1.5) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a == 7", True),
        ("a == 8", False),
        ("a != 8", True),
        ("a != 7", False),
        ("a < 8", True),
        ("a < 7", False),
        ("a <= 7", True),
        ("a <= 6", False),
        ("a > 6", True),
        ("a > 7", False),
        ("a >= 7", True),
        ("a >= 8", False),
        ("1 < a < 10", True),
        ("1 < a < 5", False),
        ("1 < a > 10", False),
        ("'b' in s", True),
        ("'z' in s", False),
        ("'z' not in s", True),
        ("a in [1, 7]", True),
        ("a in (1, 2)", False),
        ("a in {7, 8}", True),
        ("a not in [1, 2]", True),
        ("'k' in d", True),
        ("'v' in d", False),
        ("n is None", True),
        ("a is None", False),
        ("a is not None", True),
        ("None is n", True),
        ("[1, 2] == [1, 2]", True),
        ("s == 'abc'", True),
        ("day > date('2024-01-01')", True),
        ("day == date('2024-05-01')", True),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    variables = {"a": 7, "s": "abc", "d": {"k": "v"}, "n": None, "day": datetime.date(2024, 5, 1)}
    assert compile_expression(source).evaluate(variables) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("t and f", False),
        ("t and 5", 5),
        ("0 and missing", 0),
        ("t or missing", True),
        ("f or 0 or 'x'", "x"),
        ("f or 0", 0),
        ("t and t and 3", 3),
        ("not t", False),
        ("not ''", True),
        ("not not 5", True),
        ("'yes' if t else missing", "yes"),
        ("missing if f else 'no'", "no"),
        ("n is not None and n['k']", False),
    ],
)
def test_logic_short_circuits_like_python(source: str, expected: Any) -> None:
    assert evaluate(source, t=True, f=False, n=None) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("d['k']", 1),
        ("d['list'][1]", 20),
        ("l[-1]", 30),
        ("t[0]", "x"),
        ("s[1]", "b"),
        ("l[1:]", [20, 30]),
        ("l[:-1]", [10, 20]),
        ("l[::2]", [10, 30]),
        ("s[::-1]", "cba"),
        ("t[0:1]", ("x",)),
        ("d['list'][i]", 20),
    ],
)
def test_subscripts_and_slices(source: str, expected: Any) -> None:
    variables = {"d": {"k": 1, "list": [10, 20]}, "l": [10, 20, 30], "t": ("x", "y"), "s": "abc"}
    assert compile_expression(source).evaluate({**variables, "i": 1}) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len(l)", 3),
        ("len(s)", 5),
        ("min(l)", 1),
        ("max(l)", 3),
        ("min(4, 2, 8)", 2),
        ("abs(-2.5)", 2.5),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("round(1234, -2)", 1200),
        ("int('42')", 42),
        ("int(3.9)", 3),
        ("float('1.5')", 1.5),
        ("str(12)", "12"),
        ("str(date('2024-05-01'))", "2024-05-01"),
        ("bool('')", False),
        ("sum(l)", 6),
        ("sum([0.5, 1], 10)", 11.5),
        ("any([0, 1])", True),
        ("all([0, 1])", False),
        ("sorted([3, 1, 2])", [1, 2, 3]),
        ("date('2024-05-01')", datetime.date(2024, 5, 1)),
        ("date('2024-05-01T08:30:00')", datetime.date(2024, 5, 1)),
        ("date(moment)", datetime.date(2024, 5, 1)),
    ],
)
def test_default_functions(source: str, expected: Any) -> None:
    moment = datetime.datetime(2024, 5, 1, 8, 30)
    assert evaluate(source, l=[1, 2, 3], s="hello", moment=moment) == expected


def test_default_functions_are_read_only_and_have_no_clock() -> None:
    assert "today" not in DEFAULT_FUNCTIONS and "now" not in DEFAULT_FUNCTIONS
    assert "range" not in DEFAULT_FUNCTIONS
    with pytest.raises(TypeError):
        DEFAULT_FUNCTIONS["today"] = datetime.date.today  # type: ignore[index]
    with pytest.raises(ExpressionError, match="不允许调用函数 'today'"):
        compile_expression("today()")


def test_names_are_the_variables_read() -> None:
    expr = compile_expression("len(items) > limit and form['a'] == true and 名称 != null")
    assert expr.names == frozenset({"items", "limit", "form", "名称"})
    assert compile_expression("1 + 2").names == frozenset()


def test_source_is_kept_verbatim() -> None:
    text = "  ${ a &&  b }\n"
    assert compile_expression(text).source == text


def test_undefined_variable() -> None:
    expr = compile_expression("a == 1 and missing > 2")
    with pytest.raises(EvaluationError) as caught:
        expr.evaluate({"a": 1})
    assert "变量 'missing' 未定义" in caught.value.message
    assert caught.value.offset == 11
    assert caught.value.source == "a == 1 and missing > 2"
    assert expr.evaluate({"a": 2}) is False  # never read


def test_chinese_variable_names() -> None:
    assert evaluate("金额 >= 1000 and 类别 == '个体'", 金额=1200, 类别="个体") is True


def test_list_results_are_fresh_on_every_evaluation() -> None:
    expr = compile_expression("[1, [2]]")
    first = expr.evaluate({})
    first[1].append(3)
    first.append(4)
    assert expr.evaluate({}) == [1, [2]]


def test_case_data_mappings_other_than_dict() -> None:
    from collections import ChainMap

    variables = ChainMap({"a": 1}, {"b": 2})
    assert compile_expression("a + b").evaluate(variables) == 3


# --- JUEL (Camunda Modeler) syntax ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${approved == true && amount > 5}", True),
        ("#{approved == true && amount > 5}", True),
        ("  ${ approved }  ", True),
        ("${approved == false || amount > 100}", False),
        ("${!approved}", False),
        ("${!(amount > 100)}", True),
        ("approved&&amount>5", True),
        ("amount != 6", False),
        ("${amount!=6}", False),
        ("${note == null}", True),
        ("${note != null || !approved}", False),
        ("${!!approved}", True),
    ],
)
def test_juel_aliases(source: str, expected: bool) -> None:
    assert evaluate(source, approved=True, amount=6, note=None) is expected


def test_juel_bang_binds_tighter_than_comparison_like_in_juel() -> None:
    # JUEL: (!a) == b. Python's `not a == b` stays Python: not (a == b).
    assert evaluate("!a == b", a="x", b=True) is False
    assert evaluate("not a == b", a="x", b=True) is True


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('s == "a && b"', "a && b"),
        ("s == 'x || y'", "x || y"),
        ("s == '!done'", "!done"),
        ('s == "true false null"', "true false null"),
        ("s == '${x}'", "${x}"),
        ("${s == '}'}", "}"),
        ('s == """a && b\n || c"""', "a && b\n || c"),
        (r"s == 'it\'s && !'", "it's && !"),
    ],
)
def test_juel_translation_never_touches_string_literals(source: str, value: str) -> None:
    assert evaluate(source, s=value) is True
    assert evaluate(source, s=value + "?") is False


def test_words_containing_juel_literals_are_names() -> None:
    assert evaluate("truest or nullable", truest=0, nullable=5) == 5


def test_multi_line_condition_with_comment() -> None:
    source = "${\n  amount > 5   # 金额\n  && approved\n}"
    assert evaluate(source, amount=6, approved=True) is True


def test_single_ampersand_and_bar_are_not_aliases() -> None:
    assert isinstance(check_expression("a & b"), ExpressionError)
    assert isinstance(check_expression("a | b"), ExpressionError)


def test_error_offsets_point_into_the_original_text() -> None:
    error = check_expression("${ x.y }")
    assert error is not None and error.offset == 5
    error = check_expression("${a && b.c}")
    assert error is not None and error.offset == 9
    error = check_expression("名称 == '张三' and 金额.b")
    assert error is not None
    assert error.offset == 18
    assert error.message == "不允许访问属性(第 19 列): 金额.b"


def test_multi_line_errors_name_line_and_column() -> None:
    error = check_expression("a > 1\n  and b.c")
    assert error is not None
    assert error.offset == 14
    assert error.message.startswith("不允许访问属性(第 2 行第 9 列)")


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("a +", "表达式语法错误(第 "),
        ("(a", "括号没有闭合"),
        ("a)", "括号不匹配"),
        ("'abc", "字符串缺少结束引号"),
        ("x == （1）", "全角"),
        ("", "表达式为空"),
        ("${}", "表达式为空"),
        ("   ", "表达式为空"),
        (r"'\d' == x", r"转义序列 '\d' 无效"),
        ("1or 2", "数字写法不正确"),
        ("a\x00", "表达式语法错误"),
        ("${a} && ${b}", "表达式语法错误"),
    ],
)
def test_syntax_errors(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert fragment in caught.value.message
    assert caught.value.source == source


def test_syntax_error_offset() -> None:
    error = check_expression("a == b c")
    assert error is not None
    assert error.offset == 7
    assert error.message == "表达式语法错误(第 8 列)"


@pytest.mark.parametrize(
    ("source", "variables", "fragment"),
    [
        ("a + s", {"a": 1, "s": "x"}, "整数与文本不能相加"),
        ("a / z", {"a": 1, "z": 0}, "除数为零"),
        ("a // z", {"a": 1, "z": 0}, "除数为零"),
        ("a % z", {"a": 1, "z": 0}, "除数为零"),
        ("s < 1", {"s": "x"}, "文本与整数不能比较大小"),
        ("1 in s", {"s": "x"}, "无法判断整数是否在文本中"),
        ("-s", {"s": "x"}, "文本不能取负"),
        ("d['x']", {"d": {}}, "键 'x' 不存在"),
        ("l[5]", {"l": [1]}, "下标 5 超出范围"),
        ("l['x']", {"l": [1]}, "列表的下标不能是文本"),
        ("a[0]", {"a": 1}, "整数不能取下标"),
        ("d[1:2]", {"d": {}}, "字典不能切片"),
        ("l[::0]", {"l": [1]}, "步长不能为 0"),
        ("int(s)", {"s": "abc"}, "函数 'int' 出错，参数的值不正确"),
        ("len(a)", {"a": 1}, "函数 'len' 出错，参数的类型或个数不正确"),
        ("max(l)", {"l": []}, "函数 'max' 出错"),
        ("date(s)", {"s": "2024-13-01"}, "函数 'date' 出错"),
        ("sum(l)", {"l": [[1]]}, "函数 'sum' 出错"),
        ("{l}", {"l": [1]}, "集合的元素不能是列表、字典或集合"),
        ("{l: 1}", {"l": [1]}, "字典的键不能是列表、字典或集合"),
        ("d1 - d2", {"d1": datetime.date(2024, 1, 2), "d2": datetime.date(2024, 1, 1)}, "不受支持"),
        ("x", {"x": object()}, "变量 'x' 的值类型 object 不受支持"),
        ("l[0]", {"l": [object()]}, "值类型 object 不受支持"),
    ],
)
def test_evaluation_errors(source: str, variables: dict[str, Any], fragment: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_expression(source).evaluate(variables)
    assert fragment in caught.value.message
    assert caught.value.source == source


def test_evaluation_error_names_the_construct() -> None:
    with pytest.raises(EvaluationError) as caught:
        evaluate("ok and total / count > 3", ok=True, total=10, count=0)
    assert caught.value.message == "除数为零(第 8 列): total / count"
    assert caught.value.offset == 7


def test_errors_are_distinct_value_errors_and_pickle() -> None:
    assert issubclass(ExpressionError, ValueError) and issubclass(EvaluationError, ValueError)
    assert not issubclass(EvaluationError, ExpressionError)
    assert not issubclass(ExpressionError, EvaluationError)
    error = check_expression("a.b")
    assert error is not None
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.source, copy.offset) == (error.message, "a.b", 2)
    assert str(copy) == error.message


def test_check_expression() -> None:
    assert check_expression("a > 1") is None
    error = check_expression("a.b")
    assert isinstance(error, ExpressionError)
    assert error.message == "不允许访问属性(第 3 列): a.b"
    assert check_expression("workdays(d) > 3") is not None
    assert check_expression("workdays(d) > 3", {"workdays": len}) is None


def test_source_must_be_text() -> None:
    with pytest.raises(TypeError):
        compile_expression(None)  # type: ignore[arg-type]


# --- functions supplied by the caller -----------------------------------------------------


def _workdays(start: datetime.date, end: datetime.date) -> int:
    return sum(
        1 for n in range((end - start).days) if (start + datetime.timedelta(days=n)).weekday() < 5
    )


def test_functions_extended_by_the_caller() -> None:
    functions = {**DEFAULT_FUNCTIONS, "workdays": _workdays}
    with pytest.raises(ExpressionError, match="不允许调用函数 'workdays'"):
        compile_expression("workdays(date(a), date(b)) > 3")
    expr = compile_expression("workdays(date(a), date(b)) > 3", functions)
    assert expr.names == frozenset({"a", "b"})
    assert expr.evaluate({"a": "2024-05-06", "b": "2024-05-13"}) is True  # 5 workdays
    assert expr.evaluate({"a": "2024-05-06", "b": "2024-05-08"}) is False


def test_evaluation_time_functions_replace_the_compile_time_ones() -> None:
    expr = compile_expression("now() + 1", {"now": lambda: 1})
    assert expr.evaluate({}) == 2
    assert expr.evaluate({}, {"now": lambda: 41}) == 42
    with pytest.raises(EvaluationError, match="函数 'now' 不可用"):
        expr.evaluate({}, DEFAULT_FUNCTIONS)


def test_compiled_expression_keeps_a_snapshot_of_the_functions() -> None:
    functions: dict[str, Callable[..., Any]] = {"f": lambda: 1}
    expr = compile_expression("f()", functions)
    functions["f"] = lambda: 2
    assert expr.evaluate({}) == 1


def test_caller_function_errors() -> None:
    def bad_value(x: Any) -> Any:
        raise ValueError("nope")

    def broken(x: Any) -> Any:
        raise RuntimeError("database down")

    functions: dict[str, Callable[..., Any]] = {"bad": bad_value, "broken": broken}
    functions["weird"] = lambda: object()
    with pytest.raises(EvaluationError, match="函数 'bad' 出错") as caught:
        compile_expression("bad(1)", functions).evaluate({})
    assert isinstance(caught.value.__cause__, ValueError)
    with pytest.raises(RuntimeError, match="database down"):  # not a data problem: propagates
        compile_expression("broken(1)", functions).evaluate({})
    with pytest.raises(EvaluationError, match="函数 'weird' 返回的值类型 object 不受支持"):
        compile_expression("weird()", functions).evaluate({})


def test_function_names_are_not_values() -> None:
    with pytest.raises(EvaluationError, match="变量 'len' 未定义"):
        evaluate("sorted(l) == len", l=[1])


# --- reuse --------------------------------------------------------------------------------


def test_compiled_expressions_are_immutable() -> None:
    expr = compile_expression("a > 1")
    with pytest.raises(AttributeError):
        expr.source = "a > 0"  # type: ignore[misc]
    assert isinstance(expr, Expression)


def test_expression_reused_across_threads() -> None:
    expr = compile_expression("${form['amount'] * rate > limit && kind in ['a', 'b']}")

    def run(worker: int) -> list[bool]:
        results = []
        for n in range(2000):
            variables = {"form": {"amount": n}, "rate": worker, "limit": 1000, "kind": "a"}
            results.append(expr.evaluate(variables))
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, range(1, 9)))
    for worker, results in enumerate(outcomes, start=1):
        assert results == [n * worker > 1000 for n in range(2000)]
