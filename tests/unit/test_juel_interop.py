"""JUEL as Camunda 7 and Flowable evaluate it: the EL coercion rules (EL 2.2, 1.8-1.10, 1.18)
for texts written ``${...}``, through the safe expression language (engine/expressions/el.py).

Each row: the expression, the case data, the value JUEL gives (or the error, in Chinese)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from engine.expressions import EvaluationError, ExpressionError, compile_expression


def juel(source: str, **data: Any) -> Any:
    return compile_expression(source).evaluate(data)


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        # == / != between a boolean and text: the text becomes a boolean (1.8.2, 1.18.5)
        ("${vacationApproved == 'true'}", {"vacationApproved": True}, True),
        ("${vacationApproved == 'true'}", {"vacationApproved": False}, False),
        ("${vacationApproved == 'TRUE'}", {"vacationApproved": True}, True),
        ("${vacationApproved == 'yes'}", {"vacationApproved": True}, False),  # not "true"
        ("${vacationApproved != 'true'}", {"vacationApproved": False}, True),
        ("${vacationApproved == 'false'}", {"vacationApproved": False}, True),
        ("${vacationApproved == ''}", {"vacationApproved": False}, True),  # '' is false
        ("${'true' == vacationApproved}", {"vacationApproved": True}, True),
        # a number and text: the text becomes a number (1.8.2, 1.18.3)
        ("${amount == '1000'}", {"amount": 1000}, True),
        ("${amount == '+1000'}", {"amount": 1000}, True),
        ("${amount == '1000'}", {"amount": 999}, False),
        ("${amount == '1000.0'}", {"amount": 1000.0}, True),  # a decimal: both decimals
        ("${amount == ''}", {"amount": 0}, True),  # '' is 0
        ("${amount != '5'}", {"amount": 6}, True),
        ("${1 == 1.0}", {}, True),
        # two texts: compared as text
        ("${status == 'approved'}", {"status": "approved"}, True),
        ("${'01' == '1'}", {}, False),
        # null (1.8.2: null equals only null)
        ("${note == null}", {"note": None}, True),
        ("${note == null}", {"note": ""}, False),
        ("${note != null}", {"note": "x"}, True),
        ("${amount == null}", {"amount": 0}, False),
        ("${flag == null}", {"flag": False}, False),
        # word forms
        ("${amount eq 5}", {"amount": 5}, True),
        ("${amount ne 5}", {"amount": 5}, False),
        ("${amount lt 5}", {"amount": 4}, True),
        ("${amount gt 5}", {"amount": 4}, False),
        ("${amount le 5}", {"amount": 5}, True),
        ("${amount ge 6}", {"amount": 5}, False),
        ("${a gt 1 and b lt 1}", {"a": 2, "b": 0}, True),
        ("${a gt 1 or b lt 1}", {"a": 0, "b": 5}, False),
        ("${not approved}", {"approved": False}, True),
        ("${amount div 4 eq 2.5}", {"amount": 10}, True),
        ("${amount mod 3 == 1}", {"amount": 10}, True),
        # relational operators with text: numbers win, else text order (1.8.1)
        ("${amount > '1000'}", {"amount": 1500}, True),
        ("${amount > '1000'}", {"amount": 500}, False),
        ("${amount >= '1000.5'}", {"amount": 1000.5}, True),
        ("${amount < '1e3'}", {"amount": 999.5}, True),
        ("${'1500' > 1000}", {}, True),
        ("${'b' > 'a'}", {}, True),
        ("${'10' > '9'}", {}, False),  # two texts: by character, as in Java
        ("${amount > null}", {"amount": 5}, False),
        ("${amount < null}", {"amount": 5}, False),
        ("${null <= null}", {}, True),
        ("${null >= amount}", {"amount": 5}, False),
        (
            "${day < other}",
            {"day": datetime.date(2026, 1, 1), "other": datetime.date(2026, 2, 1)},
            True,
        ),
        # ! and not: the operand becomes a boolean (1.18.5), binding tighter than ==
        ("${!approved}", {"approved": True}, False),
        ("${!approved}", {"approved": False}, True),
        ("${!approved}", {"approved": "false"}, True),
        ("${!approved}", {"approved": "true"}, False),
        ("${!approved}", {"approved": None}, True),
        ("${!approved}", {"approved": ""}, True),
        ("${not approved == false}", {"approved": True}, True),  # (not approved) == false
        ("${! approved && ok}", {"approved": False, "ok": "TRUE"}, True),
        # && and ||: operands become booleans, the result is a boolean
        ("${a && b}", {"a": "true", "b": True}, True),
        ("${a && b}", {"a": "yes", "b": True}, False),
        ("${a || b}", {"a": None, "b": "false"}, False),
        ("${a || b}", {"a": "", "b": "True"}, True),
        # empty (1.10)
        ("${empty comment}", {"comment": None}, True),
        ("${empty comment}", {"comment": ""}, True),
        ("${empty comment}", {"comment": " "}, False),
        ("${empty comment}", {"comment": "太长"}, False),
        ("${empty items}", {"items": []}, True),
        ("${empty items}", {"items": [0]}, False),
        ("${empty form}", {"form": {}}, True),
        ("${empty form}", {"form": {"a": 1}}, False),
        ("${empty amount}", {"amount": 0}, False),
        ("${empty flag}", {"flag": False}, False),
        ("${empty comment}", {}, True),  # a field the case lacks is empty
        ("${!empty comment}", {"comment": "好"}, True),
        ("${not empty comment}", {"comment": ""}, False),
        ("${empty comment || approved}", {"comment": "x", "approved": True}, True),
        ("${empty form['a']}", {"form": {"a": ""}}, True),
        # .equals and .equalsIgnoreCase on text (Java: no coercion for equals)
        ("${status.equals('approved')}", {"status": "approved"}, True),
        ("${status.equals('approved')}", {"status": "rejected"}, False),
        ("${!status.equals('approved')}", {"status": "rejected"}, True),
        ("${status.equals(1)}", {"status": "1"}, False),
        ("${count.equals(1)}", {"count": 1}, True),
        ("${status.equalsIgnoreCase('APPROVED')}", {"status": "approved"}, True),
        ("${status.equals(other)}", {"status": "a", "other": None}, False),
        # outside ${...} the language stays Python's
        ("approved == 'true'", {"approved": True}, False),
        ("not approved == False", {"approved": True}, True),  # not (approved == False)
        ("eq", {"eq": 3}, 3),  # a field named like an operator
        # Python's `in` and `is` keep their meaning inside ${...}
        ("${kind not in ['a', 'b']}", {"kind": "c"}, True),
        ("${note is not null}", {"note": 1}, True),
    ],
)
def test_el_coercion(source: str, data: dict[str, Any], expected: Any) -> None:
    assert juel(source, **data) == expected
    assert type(juel(source, **data)) is type(expected)


@pytest.mark.parametrize(
    ("source", "data", "message"),
    [
        ("${amount == 'abc'}", {"amount": 5}, "无法比较, 文本 'abc' 不能转换为整数"),
        ("${amount > 'x'}", {"amount": 1.5}, "无法比较, 文本 'x' 不能转换为数字"),
        ("${amount == '1.5'}", {"amount": 1}, "文本 '1.5' 不能转换为整数"),  # Long.valueOf
        ("${flag == 1}", {"flag": True}, "布尔值 true 不能转换为整数"),
        ("${items == 1}", {"items": [1]}, "列表 [1] 不能转换为整数"),
        ("${!count}", {"count": 1}, "不能作为条件, 整数 1 不能转换为布尔值"),
        ("${count && true}", {"count": 0}, "整数 0 不能转换为布尔值"),
        ("${a < b}", {"a": [1], "b": {"x": 1}}, "列表与字典不能比较大小"),
        ("${status.equals('a')}", {"status": None}, "空值不能调用 equals"),
        ("${approved == 'true'}", {}, "变量 'approved' 未定义"),
    ],
)
def test_el_errors_say_what_is_wrong(source: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        juel(source, **data)
    assert message in caught.value.message
    assert "(第 " in caught.value.message  # where in the text


def test_error_names_the_column_of_the_comparison() -> None:
    with pytest.raises(EvaluationError) as caught:
        juel("${ok && amount > 'many'}", ok=True, amount=3)
    assert caught.value.message.startswith("无法比较, 文本 'many' 不能转换为整数(第 9 列)")


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("${a.b}", "不允许访问属性"),  # no property access, no other method
        ("${s.toUpperCase()}", "不允许访问属性"),
        ("${s.equals('a', 'b')}", "不允许访问属性"),
        ("${empty}", "表达式语法错误"),
        ("${a eq}", "表达式语法错误"),
    ],
)
def test_what_stays_refused(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert fragment in caught.value.message


def test_empty_reads_its_variable() -> None:
    expression = compile_expression("${empty comment && !approved}")
    assert expression.names == frozenset({"comment", "approved"})


def test_words_inside_text_and_after_a_dot_are_not_operators() -> None:
    assert juel("${s == 'not empty eq'}", s="not empty eq") is True
    assert juel("${form['lt'] gt 1}", form={"lt": 2}) is True
