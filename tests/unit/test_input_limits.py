"""The server's own limits on submitted values (engine/forms/limits.py)."""

from __future__ import annotations

import base64

import pytest

from engine.forms import InputLimits
from engine.forms.limits import attachment_size, case_data_problem, data_size, value_problems

LIMITS = InputLimits(
    string_length=10, attachment_bytes=8, case_data_bytes=60, depth=3, key_length=5
)
FILE = {"type": "string", "format": "data-url"}


def problems(data: dict[str, object], schemas: dict[str, object] | None = None) -> dict[str, str]:
    found = value_problems(data, lambda name: (schemas or {}).get(name), LIMITS)  # type: ignore[arg-type,return-value]
    return {p.field: p.message for p in found}


def test_strings_without_a_max_length_get_the_default() -> None:
    assert problems({"a": "x" * 10}) == {}
    assert problems({"a": "x" * 11}) == {"a": "长度不能超过 10 个字符"}
    # the form's own maxLength decides (the schema check reports it), larger or smaller
    assert problems({"a": "x" * 50}, {"a": {"type": "string", "maxLength": 100}}) == {}
    # nested strings too, through the schema's properties and items
    nested = {"type": "object", "properties": {"l": {"type": "array", "items": {"maxLength": 99}}}}
    assert problems({"o": {"l": ["y" * 20]}}, {"o": nested}) == {}
    assert problems({"o": {"m": ["y" * 20]}}, {"o": nested}) == {"o.m.0": "长度不能超过 10 个字符"}


def test_values_the_database_cannot_hold() -> None:
    assert problems({"n": float("nan"), "i": float("-inf"), "big": -(2**63), "ok": 2**63 - 1}) == {
        "n": "应为有限的数字",
        "i": "应为有限的数字",
        "big": "数字超出范围",
    }
    assert problems({"s": "\udc00", "z": "\x00"}) == {
        "s": "包含无效的字符 (孤立的代理项)",
        "z": "不能包含空字符 (NUL)",
    }
    assert problems({"\ud800": 1}) == {"\ud800": "包含无效的字符 (孤立的代理项)"}
    assert problems({"toolong": 1}) == {"toolong": "字段名不能超过 5 个字符"}
    assert problems({"d": [[[[1]]]]}) == {"d.0.0.0": "嵌套层数不能超过 3"}
    assert problems({"d": [[[1]]]}) == {}  # three containers inside each other


def test_attachments() -> None:
    def url(n: int) -> str:
        return "data:text/plain;name=a.txt;base64," + base64.b64encode(b"x" * n).decode()

    assert attachment_size(url(8)) == 8
    assert attachment_size("data:text/plain,%41%42") == 2
    assert attachment_size(base64.b64encode(b"abc").decode()) == 3
    assert attachment_size("data:no-comma") is None and attachment_size("not base64!") is None
    assert problems({"f": url(8)}, {"f": FILE}) == {}  # over the string default, but a file
    assert problems({"f": url(9)}, {"f": FILE}) == {"f": "文件不能超过 8 字节"}
    assert problems({"f": "?"}, {"f": FILE}) == {"f": "附件格式不正确 (应为 data URL 或 base64)"}
    many = {f"f{i}": url(8) for i in range(3)}
    limits = InputLimits(attachment_bytes=8, attachments_bytes=20)
    found = value_problems(many, lambda _: FILE, limits)
    assert [(p.field, p.message) for p in found] == [("(表单)", "附件合计不能超过 20 字节")]


def test_the_case_data_total_leaves_attachments_out() -> None:
    data = {"a": "x" * 40, "f": "data:," + "y" * 1000}
    assert data_size(data, frozenset({"f"})) == len('{"a":"' + "x" * 40 + '","f":""}')
    assert case_data_problem(data, frozenset({"f"}), LIMITS) is None
    over = case_data_problem({**data, "b": "z" * 20}, frozenset({"f"}), LIMITS)
    assert over is not None and over.field == "(表单)" and "60 字节" in over.message


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANBAN_MAX_STRING_LENGTH", "123")
    monkeypatch.setenv("LIANBAN_MAX_CASE_DATA_BYTES", "4567")
    limits = InputLimits.from_environment()
    assert (limits.string_length, limits.case_data_bytes) == (123, 4567)
    assert limits.attachment_bytes == 2 * 1024 * 1024
