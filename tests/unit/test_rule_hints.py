"""Messages a designer can act on: `&&` in XML, `=` for `==`, schema errors of forms and
bundle.json in Chinese, a misspelled form path with the nearest existing one."""

from __future__ import annotations

import pytest

from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import from_upload
from tests.fixtures import bpmn

NO_LIBRARY = FormLibrary(None)


def refused(name: str, data: bytes) -> list[Problem]:
    with pytest.raises(BundleInvalid) as caught:
        compile_bundle(from_upload(name, data), NO_LIBRARY)
    return caught.value.problems


def test_double_ampersand_in_xml_explains_and_or_escaping() -> None:
    (problem,) = refused("d.bpmn", bpmn.decision("a == 1 && b == 2"))
    assert problem.message.startswith("XML 格式错误")
    assert "and" in problem.message and "&amp;&amp;" in problem.message
    assert problem.line is not None and problem.file == "d.bpmn"


def test_escaped_double_ampersand_is_accepted() -> None:
    compiled = compile_bundle(
        from_upload("d.bpmn", bpmn.decision("a == 1 &amp;&amp; b == 2")), NO_LIBRARY
    )
    assert compiled.key == "p"


def test_single_equals_in_a_condition_suggests_double() -> None:
    (problem,) = refused("d.bpmn", bpmn.decision('decision = "accept"'))
    assert problem.element == "yes"
    assert "`==`" in problem.message


def test_comparisons_get_no_equals_hint() -> None:
    (problem,) = refused("d.bpmn", bpmn.decision("a &lt;= (1"))
    assert "`==`" not in problem.message


def test_form_schema_errors_are_in_chinese() -> None:
    upload = bpmn.zipped(
        {
            "p.bpmn": bpmn.linear('camunda:candidateGroups="g" camunda:formKey="f.json"'),
            "forms/f.json": {"type": "object", "properties": {"a": {"type": "strin"}}},
        }
    )
    (problem,) = refused("b.zip", upload)
    assert "properties/a/type" in problem.message and "取值不在允许的范围内" in problem.message
    assert "is not valid" not in problem.message


def test_bundle_json_schema_errors_are_in_chinese() -> None:
    upload = bpmn.zipped(
        {"p.bpmn": bpmn.linear(), "bundle.json": {"name": 3, "time_limits": {"foo": 1}}}
    )
    messages = sorted(p.message for p in refused("b.zip", upload))
    assert messages == [
        "元数据字段 name 不符合要求: 应为文本",
        "元数据字段 time_limits 不符合要求: 不认识的字段 foo",
    ]


def test_a_misspelled_form_path_suggests_the_nearest() -> None:
    upload = bpmn.zipped(
        {
            "p.bpmn": bpmn.linear(
                'camunda:candidateGroups="g" camunda:formKey="pharmacy/reveiw.json"'
            ),
            "forms/pharmacy/review.json": {"type": "object", "properties": {}},
        }
    )
    (problem,) = refused("b.zip", upload)
    assert "'pharmacy/reveiw.json' 不存在" in problem.message
    assert "您是否想写 'pharmacy/review.json'?" in problem.message
