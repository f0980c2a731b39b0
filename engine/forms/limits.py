"""Server-side limits on every value written into a case, whatever its form allows.

A form's schema says what its designer wants; these limits hold whatever the designer wrote,
for the API and the pages alike: a string without a `maxLength` is at most `string_length`
characters, an attachment (a data URL in a file field) at most `attachment_bytes` decoded, the
case data at most `case_data_bytes` as JSON with its attachments left out, and all its
attachments together at most `attachments_bytes`. Values the database or the event hash cannot
hold are refused too: non-finite numbers (NaN passes every min/max check), integers beyond 64
bits, lone surrogates and NUL characters, nesting deeper than `depth`, keys over `key_length`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from engine.domain.form_fields import is_attachment

MAX_INT = 2**63 - 1
Lookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class InputLimits:
    string_length: int = 10_000  # characters, for strings whose form gives no maxLength
    attachment_bytes: int = 2 * 1024 * 1024  # one attachment, decoded
    case_data_bytes: int = 1024 * 1024  # the case data as JSON, attachments left out
    attachments_bytes: int = 20 * 1024 * 1024  # every attachment of a case, decoded
    depth: int = 32  # objects and arrays inside each other
    key_length: int = 200  # characters of an object key

    @classmethod
    def from_environment(cls) -> InputLimits:
        """The defaults, each overridable by its `LIANBAN_MAX_*` variable."""
        names = {
            "string_length": "LIANBAN_MAX_STRING_LENGTH",
            "attachment_bytes": "LIANBAN_MAX_ATTACHMENT_BYTES",
            "case_data_bytes": "LIANBAN_MAX_CASE_DATA_BYTES",
            "attachments_bytes": "LIANBAN_MAX_CASE_ATTACHMENTS_BYTES",
        }
        given = {field: os.environ.get(var) for field, var in names.items()}
        return cls(**{field: int(value) for field, value in given.items() if value})


def attachment_size(value: str) -> int | None:
    """The decoded size of an attachment value (a data URL, or plain base64); None when it is
    neither."""
    if value.startswith("data:"):
        header, comma, payload = value.partition(",")
        if not comma:
            return None
        if not header.endswith(";base64"):
            return len(unquote_to_bytes(payload))
    else:
        payload = value
    try:
        return len(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class ValueProblem:
    field: str
    message: str


def value_problems(
    data: Mapping[str, Any], schema_of: Lookup, limits: InputLimits
) -> list[ValueProblem]:
    """Every value of `data` over a limit. `schema_of(field)` gives a top-level field's schema
    (its form's declaration), None for an undeclared field."""
    walker = _Walker(limits)
    problems = []
    for key, value in data.items():
        problems += walker.key(str(key), str(key))
        problems += walker.value(value, schema_of(str(key)), str(key), 1)
    if walker.attachments > limits.attachments_bytes:
        problems.append(
            ValueProblem("(表单)", f"附件合计不能超过 {_size(limits.attachments_bytes)}")
        )
    return problems


def data_size(data: Mapping[str, Any], attachments: frozenset[str]) -> int:
    """The size of case data as stored (UTF-8 JSON), the `attachments` fields counted empty."""
    lean = {k: ("" if k in attachments and isinstance(v, str) else v) for k, v in data.items()}
    return len(json.dumps(lean, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def case_data_problem(
    data: Mapping[str, Any], attachments: frozenset[str], limits: InputLimits
) -> ValueProblem | None:
    """The case data as a whole over `case_data_bytes` (attachments left out), or None."""
    if data_size(data, attachments) <= limits.case_data_bytes:
        return None
    return ValueProblem(
        "(表单)", f"办件数据总量超过上限 {_size(limits.case_data_bytes)} (不含附件), 请精简填写内容"
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} 字节"


class _Walker:
    def __init__(self, limits: InputLimits) -> None:
        self.limits = limits
        self.attachments = 0

    def key(self, key: str, where: str) -> list[ValueProblem]:
        if len(key) > self.limits.key_length:
            return [ValueProblem(where[:60], f"字段名不能超过 {self.limits.key_length} 个字符")]
        return [ValueProblem(where, m) for m in _text_problems(key)]

    def value(
        self, value: Any, schema: Mapping[str, Any] | None, where: str, depth: int
    ) -> list[ValueProblem]:
        if isinstance(value, str):
            return self.string(value, schema, where)
        if isinstance(value, bool) or value is None:
            return []
        if isinstance(value, int):
            return [] if -MAX_INT <= value <= MAX_INT else [ValueProblem(where, "数字超出范围")]
        if isinstance(value, float):
            return [] if math.isfinite(value) else [ValueProblem(where, "应为有限的数字")]
        if depth > self.limits.depth:
            return [ValueProblem(where, f"嵌套层数不能超过 {self.limits.depth}")]
        if isinstance(value, Mapping):
            found = []
            for key, inner in value.items():
                path = f"{where}.{key}"
                found += self.key(str(key), path)
                found += self.value(inner, _property(schema, str(key)), path, depth + 1)
            return found
        if isinstance(value, list):
            found = []
            for i, inner in enumerate(value):
                found += self.value(inner, _item(schema, i), f"{where}.{i}", depth + 1)
            return found
        return [ValueProblem(where, "不是可以保存的值")]

    def string(
        self, value: str, schema: Mapping[str, Any] | None, where: str
    ) -> list[ValueProblem]:
        found = [ValueProblem(where, m) for m in _text_problems(value)]
        if is_attachment(schema):
            size = attachment_size(value)
            if size is None:
                found.append(ValueProblem(where, "附件格式不正确 (应为 data URL 或 base64)"))
            elif size > self.limits.attachment_bytes:
                limit = _size(self.limits.attachment_bytes)
                found.append(ValueProblem(where, f"文件不能超过 {limit}"))
            else:
                self.attachments += size
        elif not (isinstance(schema, Mapping) and "maxLength" in schema):
            if len(value) > self.limits.string_length:
                most = self.limits.string_length
                found.append(ValueProblem(where, f"长度不能超过 {most} 个字符"))
        return found


def _text_problems(text: str) -> Iterator[str]:
    if "\x00" in text:
        yield "不能包含空字符 (NUL)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        yield "包含无效的字符 (孤立的代理项)"


def _property(schema: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    found = props.get(key) if isinstance(props, Mapping) else None
    return found if isinstance(found, Mapping) else None


def _item(schema: Mapping[str, Any] | None, index: int) -> Mapping[str, Any] | None:
    if not isinstance(schema, Mapping):
        return None
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        first = prefix[index]
        return first if isinstance(first, Mapping) else None
    items = schema.get("items")
    return items if isinstance(items, Mapping) else None
