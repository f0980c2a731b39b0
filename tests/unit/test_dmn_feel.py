"""FEEL unary tests (engine/bpmn/dmn_feel.py) and hit policies (engine/bpmn/dmn_model.py), run
by the real safe evaluator: each entry becomes one expression of our language, and nothing else
decides whether a value passes."""

from __future__ import annotations

import datetime
from collections import ChainMap
from typing import Any

import pytest

from engine.bpmn import dmn, dmn_model
from engine.bpmn.dmn_feel import INPUT, UnaryTestError, split_tests, unary_test
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.script_engine import SafeScriptEngine
from engine.expressions import EvaluationError

ENV = SafeScriptEngine(ENGINE_FUNCTIONS).environment


def passes(entry: str, value: Any, **data: Any) -> bool:
    expression = unary_test(entry)
    if expression is None:
        return True
    scope = ChainMap({INPUT: value, "cellInput": value}, data)
    return bool(ENV.compile(expression).evaluate(scope, ENV.functions))


@pytest.mark.parametrize(
    ("entry", "yes", "no"),
    [
        ("-", [1, "a", None], []),
        ("", [1, None], []),
        ('"a"', ["a"], ["b", 1, None]),
        ("5", [5, 5.0], [4, "5"]),
        ("true", [True], [False, None]),
        ("null", [None], [0, ""]),
        ("< 10", [9, -1, 9.99], [10, 11]),
        ("<= 10", [10], [10.5]),
        ("> 3", [4], [3]),
        (">= 3", [3], [2]),
        ("!= 3", [2], [3]),
        ("[250..1000]", [250, 600, 1000], [249, 1001]),
        ("]1..5[", [2, 4.9], [1, 5]),
        ("(1..5)", [2], [1, 5]),
        ("[1..5[", [1], [5]),
        ("]1..5]", [5], [1]),
        ("[1.5..2.5]", [1.5, 2], [1.4]),
        ('"a","b"', ["a", "b"], ["c"]),
        ('"a", "b", "c,d"', ["c,d"], ["c", "d"]),
        ("< 0, > 10", [-1, 11], [0, 5, 10]),
        ("[1..2], [5..6]", [1, 6], [3]),
        ('not("a","b")', ["c"], ["a", "b"]),
        ("not([1..5])", [0, 6], [1, 5]),
        ("not(null)", [0], [None]),
        ('["x", "y"]', [["x", "y"]], ["x"]),
        ('date("2026-01-01")', [datetime.date(2026, 1, 1)], [datetime.date(2026, 1, 2)]),
        (
            '[date("2026-01-01")..date("2026-12-31")]',
            [datetime.date(2026, 6, 1)],
            [datetime.date(2027, 1, 1)],
        ),
        ('? in ["a", "b"]', ["a"], ["c"]),  # lianban's own form, as before
        ("0 < ? <= 100", [100], [0]),
        ("${cellInput > 5}", [6], [5]),  # Camunda's JUEL entries
    ],
)
def test_unary_tests(entry: str, yes: list[Any], no: list[Any]) -> None:
    for value in yes:
        assert passes(entry, value), (entry, value)
    for value in no:
        assert not passes(entry, value), (entry, value)


def test_endpoints_may_read_case_data() -> None:
    assert passes("<= max_area", 100, max_area=100)
    assert not passes("[low..high]", 9, low=10, high=20)
    assert passes("limit", 3, limit=3)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("[1..5", "区间缺少结束的括号"),
        ("[1..5] x", "多个条件请用逗号分隔"),
        ('"a",,"b"', "逗号之间缺少条件"),
        ("not()", "not() 中没有任何条件"),
        ("= 5", "相等不写 ="),
        ("(1", "括号没有闭合"),
        ('"a', "引号没有闭合"),
        ("1)", "没有对应的左括号"),
        ("<", "缺少比较的值"),
    ],
)
def test_what_is_not_a_unary_test_is_said_plainly(entry: str, says: str) -> None:
    with pytest.raises(UnaryTestError) as err:
        unary_test(entry)
    assert says in err.value.message


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("> a.b", "不允许访问属性"),
        ('"a", __import__("os")', "下划线"),
        ('[1..open("x")]', "不允许调用函数 'open'"),
        ('not("a", b.c)', "不允许访问属性"),
        ("in [1]", "? in [...]"),
    ],
)
def test_every_endpoint_is_checked_as_an_expression_of_the_language(entry: str, says: str) -> None:
    problem = dmn.input_entry_problem(entry)
    assert problem is not None and says in problem, problem


def test_an_endpoint_cannot_reach_outside_its_parentheses() -> None:
    # `1) or (1` is no expression by itself: refused, never glued into `INPUT == (1) or (1)`
    assert dmn.input_entry_problem("1) or (1") is not None


def test_split_tests_keeps_commas_inside_brackets_and_strings() -> None:
    assert split_tests('max(a, b), "x,y", [1, 2], ]1..5[') == [
        "max(a, b)",
        '"x,y"',
        "[1, 2]",
        "]1..5[",
    ]


# Hit policies --------------------------------------------------------------------------------


def table(policy: str, rules: list[tuple[str, Any]], **extra: Any) -> dmn_model.Decisions:
    """One decision `t` on input `n`, one output `out`; each rule (entry, output entry)."""
    decision = {
        "id": "t",
        "name": "测试",
        "required": [],
        "table": True,
        "hit_policy": policy,
        "aggregation": None,
        "inputs": ["n"],
        "outputs": ["out"],
        "output_values": [None],
        "rules": [
            {"id": f"r{i}", "inputs": [entry], "outputs": [out]}
            for i, (entry, out) in enumerate(rules, 1)
        ],
    }
    decision.update(extra)
    return {"t": decision}


def run(decisions: dmn_model.Decisions, **data: Any) -> dict[str, Any]:
    return dmn_model.evaluate(decisions, "t", data, ENV)


OVERLAP = [("> 0", '"a"'), ("> 5", '"b"'), ("> 8", '"a"')]


def test_unique_refuses_two_matches_and_gives_null_for_none() -> None:
    assert run(table("UNIQUE", OVERLAP), n=3) == {"out": "a"}
    with pytest.raises(EvaluationError) as err:
        run(table("UNIQUE", OVERLAP), n=6)
    assert "决策 't' (测试)" in err.value.message and "UNIQUE" in err.value.message
    assert "r1、r2" in err.value.message
    assert run(table("UNIQUE", OVERLAP), n=0) == {"out": None}


def test_first_stops_at_the_first_match() -> None:
    rules = [("> 5", '"b"'), ("-", "missing_field")]  # the second rule is never reached
    assert run(table("FIRST", rules), n=6) == {"out": "b"}


def test_any_needs_every_match_to_agree() -> None:
    assert run(table("ANY", [("> 0", '"a"'), ("> 8", '"a"')]), n=9) == {"out": "a"}
    with pytest.raises(EvaluationError) as err:
        run(table("ANY", OVERLAP), n=9)
    assert "ANY" in err.value.message and "r1、r2、r3" in err.value.message
    assert run(table("ANY", OVERLAP), n=0) == {"out": None}


def test_priority_and_output_order_rank_by_output_values() -> None:
    rules = [("> 0", '"低"'), ("> 5", '"高"'), ("> 2", '"中"')]
    ranked = {"output_values": ['"高", "中", "低"']}
    assert run(table("PRIORITY", rules, **ranked), n=9) == {"out": "高"}
    assert run(table("PRIORITY", rules, **ranked), n=3) == {"out": "中"}
    assert run(table("OUTPUT ORDER", rules, **ranked), n=9) == {"out": ["高", "中", "低"]}


def test_rule_order_and_collect_give_lists() -> None:
    assert run(table("RULE ORDER", OVERLAP), n=9) == {"out": ["a", "b", "a"]}
    assert run(table("COLLECT", OVERLAP), n=6) == {"out": ["a", "b"]}
    assert run(table("COLLECT", OVERLAP), n=0) == {"out": []}


@pytest.mark.parametrize(
    ("aggregation", "n", "result"),
    [
        ("SUM", 9, 60),
        ("MIN", 9, 10),
        ("MAX", 6, 20),
        ("COUNT", 9, 3),
        ("COUNT", 0, 0),
        ("SUM", 0, None),
    ],
)
def test_collect_aggregations(aggregation: str, n: int, result: Any) -> None:
    rules = [("> 0", "10"), ("> 5", "20"), ("> 8", "30")]
    assert run(table("COLLECT", rules, aggregation=aggregation), n=n) == {"out": result}


def test_sum_of_text_fails_plainly() -> None:
    with pytest.raises(EvaluationError) as err:
        run(table("COLLECT", [("-", '"a"')], aggregation="SUM"), n=1)
    assert "只能累加数字" in err.value.message


def test_required_decisions_run_first_and_their_outputs_are_variables() -> None:
    decisions = table("UNIQUE", [("-", "level * 2")])
    decisions["t"]["required"] = ["level_of"]
    decisions["t"]["inputs"] = ["level"]
    decisions["level_of"] = {
        **table("FIRST", [("> 10", "3"), ("-", "1")])["t"],
        "id": "level_of",
        "outputs": ["level"],
    }
    assert run(decisions, n=11) == {"out": 6}  # only the top decision's outputs
    assert dmn_model.order(decisions, "t") == ["level_of", "t"]


def test_a_cycle_is_found() -> None:
    decisions = {
        "a": {"id": "a", "required": ["b"]},
        "b": {"id": "b", "required": ["c"]},
        "c": {"id": "c", "required": ["a"]},
        "d": {"id": "d", "required": ["a"]},
    }
    assert dmn_model.cycle(decisions, "a") == ["a", "b", "c"]
    assert dmn_model.cycle(decisions, "d") is None


def test_a_juel_input_expression_is_read_as_camunda_7_wrote_it() -> None:
    assert dmn.input_expression_problem("${kind}") is None
    decisions = table("FIRST", [('"a"', "1"), ("-", "2")])
    decisions["t"]["inputs"] = ["${kind}"]
    assert run(decisions, kind="a") == {"out": 1}
    assert run(decisions, kind="b") == {"out": 2}


def test_a_null_input_fails_a_comparison_instead_of_stopping_the_step() -> None:
    rules = [("< 10", '"small"'), ("[10..20]", '"mid"'), ("null", '"none"')]
    assert run(table("FIRST", rules), n=None) == {"out": "none"}
    with pytest.raises(EvaluationError) as err:  # text compared with a number still stops
        run(table("FIRST", rules), n="5")
    assert "决策 't' (测试) 的规则 'r1' 的输入条目 `< 10` 无法求值" in err.value.message
