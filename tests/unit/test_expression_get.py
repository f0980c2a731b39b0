"""`get("field", default)`: a case field that may be absent, read with a default. Compiled as a
form of the language (its first argument a string literal), evaluated lazily, treated by the
upload's rule `condition-fields` and by the editor's check as an optional read."""

from __future__ import annotations

import pytest

from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.script_engine import SafeEnvironment
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import from_upload
from engine.expressions import EvaluationError, ExpressionError, compile_expression
from engine.services import authoring
from tests.fixtures import bpmn
from tests.fixtures import optional_branch as store

NO_LIBRARY = FormLibrary(None)


def test_get_reads_the_field_or_the_default_when_absent_or_null() -> None:
    expression = compile_expression('get("tobacco_decision", "") == "deny"', ENGINE_FUNCTIONS)
    assert expression.names == {"tobacco_decision"}
    assert expression.optional == {"tobacco_decision"} and expression.required == frozenset()
    assert expression.evaluate({"tobacco_decision": "deny"}) is True
    assert expression.evaluate({"tobacco_decision": "grant"}) is False
    assert expression.evaluate({}) is False
    assert expression.evaluate({"tobacco_decision": None}) is False
    assert compile_expression('get("rooms", 0) + 1').evaluate({}) == 1
    assert compile_expression('get("rooms", 0) + 1').evaluate({"rooms": 41}) == 42


def test_the_default_is_an_expression_evaluated_only_when_the_field_is_absent() -> None:
    expression = compile_expression('get("a", b * 2)')
    assert expression.names == {"a", "b"} and expression.required == {"b"}
    assert expression.evaluate({"a": 1}) == 1  # b is not needed then
    assert expression.evaluate({"b": 4}) == 8
    with pytest.raises(EvaluationError, match="变量 'b' 未定义"):
        expression.evaluate({})
    assert compile_expression('get("a", 1 / 0)').evaluate({"a": 3}) == 3


def test_a_field_read_both_plainly_and_with_get_is_required() -> None:
    expression = compile_expression('get("a", 0) > 1 or a == 0')
    assert expression.optional == frozenset() and expression.required == {"a"}


def test_a_case_field_called_get_is_still_a_variable() -> None:
    expression = compile_expression('get == "yes" and get("get", "") == "yes"')
    assert expression.names == {"get"} and expression.required == {"get"}
    assert expression.evaluate({"get": "yes"}) is True


@pytest.mark.parametrize(
    ("text", "message", "snippet"),
    [
        ("get(field, 1)", "get() 的第一个参数必须是带引号的字段名", "field"),
        ('get("a" + "b", 1)', "get() 的第一个参数必须是带引号的字段名", '"a" + "b"'),
        ("get(1, 2)", "get() 的第一个参数必须是带引号的字段名", "1"),
        ('get("a")', "get() 需要两个参数: 字段名和默认值", 'get("a")'),
        ('get("a", 1, 2)', "get() 需要两个参数: 字段名和默认值", 'get("a", 1, 2)'),
        ('get("a", default=1)', "get() 不接受关键字参数", "default=1"),
        ('get("", 1)', "get() 的字段名为空", '""'),
        ('get("_secret", 1)', "不允许使用以下划线开头的名称", '"_secret"'),
    ],
)
def test_get_is_refused_at_compile_time_naming_what_is_wrong(
    text: str, message: str, snippet: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, ENGINE_FUNCTIONS)
    assert message in caught.value.message
    assert caught.value.message.endswith(f": {snippet}")
    if "参数" in message or "字段名为空" in message:
        assert 'get("字段名", 默认值)' in caught.value.message


def test_get_in_juel_and_next_to_juel_empty() -> None:
    expression = compile_expression('${get("kind", "retail") == "retail" && !empty shop}')
    assert expression.optional == {"kind", "shop"}
    assert expression.evaluate({"shop": "便利店"}) is True
    assert expression.evaluate({"shop": "便利店", "kind": "wholesale"}) is False
    assert expression.evaluate({"kind": "retail"}) is False


def test_get_where_the_engine_evaluates_gateways_and_loops() -> None:
    environment = SafeEnvironment(ENGINE_FUNCTIONS)
    assert environment.evaluate('get("tobacco_decision", "") == "deny"', {}) is False
    assert environment.evaluate('get("departments", ["health"])', {}) == ["health"]
    assert environment.evaluate('len(get("departments", []))', {"departments": ["a", "b"]}) == 2


def test_a_field_set_on_one_branch_only_is_refused_with_get_suggested() -> None:
    with pytest.raises(BundleInvalid) as caught:
        compile_bundle(
            from_upload("store.zip", bpmn.zipped(store.files('tobacco_decision == "deny"'))),
            NO_LIBRARY,
        )
    (problem,) = caught.value.problems
    assert problem.element == "f_denied" and problem.severity == "error"
    assert "`tobacco_decision` 只在" in problem.message and "部分路径上设置" in problem.message
    assert '`get("tobacco_decision", 默认值)`' in problem.message


def test_the_decision_after_the_optional_branch_written_with_get_uploads_clean() -> None:
    result = compile_bundle(from_upload("store.zip", bpmn.zipped(store.files())), NO_LIBRARY)
    assert result.warnings == ()


def test_get_of_a_field_nothing_declares_is_a_warning_with_a_suggestion() -> None:
    files = store.files('get("tobaco_decision", "") == "deny"')
    result = compile_bundle(from_upload("store.zip", bpmn.zipped(files)), NO_LIBRARY)
    (warning,) = result.warnings
    assert warning.element == "f_denied" and warning.severity == "warning"
    assert "`tobaco_decision`" in warning.message and "总是取默认值" in warning.message
    assert "您是否想写 `tobacco_decision`?" in warning.message


def test_a_field_never_declared_keeps_the_misspelling_message() -> None:
    with pytest.raises(BundleInvalid) as caught:
        compile_bundle(
            from_upload("store.zip", bpmn.zipped(store.files('tobaco_decision == "deny"'))),
            NO_LIBRARY,
        )
    (problem,) = caught.value.problems
    assert "没有表单或开始数据声明" in problem.message
    assert "您是否想写 `tobacco_decision`?" in problem.message


def test_the_editor_check_takes_get_as_optional() -> None:
    fields = ["shop_name", "sells_tobacco"]
    answer = authoring.check('get("tobacco_decision", "") == "deny"', fields)
    assert answer == {"ok": True, "error": None, "unknown": []}
    answer = authoring.check('tobacco_decision == "deny"', fields)
    assert [u["name"] for u in answer["unknown"]] == ["tobacco_decision"]
    answer = authoring.check("get(tobacco_decision, 1)", fields)
    assert "带引号的字段名" in answer["error"]["message"]
