"""Which fields a form declares (and so which a task may write), and the RE2 patterns."""

from __future__ import annotations

import json
import time

import pytest

from engine.domain.form_fields import declared_fields, field_schema, is_attachment
from engine.forms import FormFileInvalid, load_form, validate_form_data
from engine.forms.patterns import pattern_problem, search


def test_a_form_declares_its_properties_and_those_it_combines() -> None:
    schema = {
        "type": "object",
        "properties": {"decision": {"type": "string"}},
        "allOf": [
            {
                "if": {"properties": {"decision": {"const": "no"}}},
                "then": {"properties": {"why": {}}},
            },
            {"$ref": "#/$defs/contact"},
        ],
        "dependentSchemas": {"agent": {"properties": {"agent_phone": {}}}},
        "$defs": {"contact": {"properties": {"phone": {}}, "allOf": [{"$ref": "#/$defs/contact"}]}},
        "patternProperties": {"^x_": {"type": "string"}},
        "additionalProperties": {"type": "string"},
    }
    assert declared_fields(schema) == {"decision", "why", "phone", "agent_phone"}
    assert declared_fields(None) == frozenset()
    assert field_schema(schema, "phone") == {}
    assert field_schema(schema, "nothing") is None


def test_file_fields() -> None:
    assert is_attachment({"type": "string", "format": "data-url"})
    assert is_attachment({"type": "string", "contentMediaType": "image/png"})
    assert is_attachment({"type": "string", "contentEncoding": "base64"})
    assert not is_attachment({"type": "string"}) and not is_attachment(None)


def test_patterns_run_in_linear_time() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}}
    started = time.perf_counter()
    errors = validate_form_data(schema, {"a": "a" * 5000 + "b"})
    assert time.perf_counter() - started < 0.5  # Python's re: hours at this length
    assert [(e.field, e.message) for e in errors] == [("a", "格式不正确")]
    assert validate_form_data(schema, {"a": "aaa"}) == []


def test_ecma_unicode_escapes_work_as_in_json_schema() -> None:
    chinese_name = "^[\\u4e00-\\u9fa5]{2,4}$"
    assert search(chinese_name, "张三") and not search(chinese_name, "Zhang")
    assert search("a\\\\u0041", "a\\u0041")  # an escaped backslash is not an escape
    assert pattern_problem(chinese_name) is None


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"properties": {"a": {"type": "string", "pattern": "(a)\\1"}}}, "properties/a 的 pattern"),
        ({"properties": {"a": {"type": "string", "pattern": "(?=a)b"}}}, "不支持反向引用和环视"),
        ({"patternProperties": {"^x": {}}}, "patternProperties"),
    ],
)
def test_forms_refused_at_upload(schema: dict[str, object], message: str) -> None:
    with pytest.raises(FormFileInvalid, match=message):
        load_form(json.dumps({"type": "object", **schema}).encode())


def test_a_field_named_like_a_keyword_is_just_a_field() -> None:
    schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "patternProperties": {"type": "string"}},
        "examples": [{"pattern": "(a)\\1"}],
    }
    assert load_form(json.dumps(schema).encode()) == schema


@pytest.mark.parametrize("text", [b'{"type": "object", "maximum": NaN}', b"[" * 100_000])
def test_form_files_that_are_not_plain_json(text: bytes) -> None:
    with pytest.raises(FormFileInvalid, match="不是有效的 JSON"):
        load_form(text)
