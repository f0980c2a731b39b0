"""Form files are checked at upload; form data errors are one plain message per field."""

from __future__ import annotations

import json

import pytest

from engine.forms import FormFileInvalid, load_form, validate_form_data

SCHEMA = {
    "type": "object",
    "required": ["name", "area", "kind"],
    "properties": {
        "name": {"type": "string", "maxLength": 4},
        "area": {"type": "number", "exclusiveMinimum": 0},
        "kind": {"oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]},
        "day": {"type": "string", "format": "date"},
        "phone": {"type": "string", "pattern": "^1[0-9]{10}$"},
    },
}


def test_valid_data_has_no_errors() -> None:
    assert (
        validate_form_data(SCHEMA, {"name": "张三", "area": 1, "kind": "a", "day": "2026-01-31"})
        == []
    )


def test_each_field_gets_one_plain_message() -> None:
    errors = validate_form_data(
        SCHEMA, {"name": "一二三四五", "area": 0, "kind": "c", "day": "31/01/2026", "phone": "12"}
    )
    assert {e.field: e.message for e in errors} == {
        "name": "长度不能超过 4 个字符",
        "area": "必须大于 0",
        "kind": "取值不在允许的范围内",
        "day": "应为日期, 如 2026-01-31",
        "phone": "格式不正确",
    }
    missing = validate_form_data(SCHEMA, {})
    assert [(e.field, e.message) for e in missing] == [
        ("area", "必填"),
        ("kind", "必填"),
        ("name", "必填"),
    ]
    assert validate_form_data(SCHEMA, {"name": 5, "area": 1, "kind": "a"})[0].message == "应为文本"


def test_bad_form_files_say_what_is_wrong() -> None:
    with pytest.raises(FormFileInvalid, match="JSON"):
        load_form(b"{")
    with pytest.raises(FormFileInvalid, match="JSON Schema"):
        load_form(json.dumps({"type": "object", "required": "name"}).encode())
    with pytest.raises(FormFileInvalid, match="object"):
        load_form(json.dumps({"type": "array"}).encode())
    assert load_form(json.dumps(SCHEMA).encode()) == SCHEMA


def test_a_field_required_by_another_is_named() -> None:
    schema = {"type": "object", "dependentRequired": {"agent_name": ["agent_id_number"]}}
    [error] = validate_form_data(schema, {"agent_name": "王五"})
    assert error.field == "agent_id_number" and error.message.startswith("必填")
