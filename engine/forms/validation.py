"""Form data against its form's JSON Schema: one plain Chinese message per field, so the UI can
show each next to its input. Patterns run on RE2 (`patterns.py`), never on Python's `re`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .conditions import Controlled, active_fields, controlled_fields, describe, is_filled
from .patterns import search

_TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "object": "对象",
    "array": "列表",
    "null": "空值",
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _pattern(
    validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(str(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12 with `pattern` on RE2. Form files with `patternProperties` (the other keyword
# that runs patterns) are refused at upload (schema.py).
_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    return _Validator(json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


# A deployed version's schemas are the same objects for the life of the process (the runtime
# cache keeps the version): found by identity first, without serializing the schema each step.
_BY_IDENTITY: dict[int, tuple[Mapping[str, Any], Any, dict[str, Controlled]]] = {}


def _validator_of(schema: Mapping[str, Any]) -> tuple[Any, dict[str, Controlled]]:
    """The schema's validator and its controlled fields (conditions.py)."""
    found = _BY_IDENTITY.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1], found[2]
    validator = _validator(json.dumps(schema, sort_keys=True))
    controlled = controlled_fields(schema)
    if len(_BY_IDENTITY) >= 1024:
        _BY_IDENTITY.clear()
    # holding the schema keeps its id unique
    _BY_IDENTITY[id(schema)] = (schema, validator, controlled)
    return validator, controlled


def condition_validator(schema: Any) -> Any:
    """A validator for a condition's `if` schema (cached by its JSON)."""
    return _validator(json.dumps(schema, sort_keys=True))


def _field(err: ValidationError) -> str:
    path = [str(p) for p in err.absolute_path]
    if err.validator in ("required", "dependentRequired"):
        missing = err.message.split("'")[1] if "'" in err.message else ""
        path.append(missing)
    return ".".join(path) or "(表单)"


def _message(err: ValidationError) -> str:
    v, arg = err.validator, err.validator_value
    if v == "required":
        return "必填"
    if v == "dependentRequired":
        return "必填 (已填写相关字段)"
    if v == "type":
        names = arg if isinstance(arg, list) else [arg]
        return "应为" + "或".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)
    if v in ("enum", "const", "oneOf", "anyOf"):
        return "取值不在允许的范围内"
    if v == "maxLength":
        return f"长度不能超过 {arg} 个字符"
    if v == "minLength":
        return "不能为空" if arg == 1 else f"长度不能少于 {arg} 个字符"
    if v == "pattern":
        return "格式不正确"
    if v == "format":
        return {"date": "应为日期, 如 2026-01-31", "email": "应为电子邮箱地址"}.get(
            str(arg), f"格式不正确 ({arg})"
        )
    if v == "minimum":
        return f"不能小于 {arg}"
    if v == "exclusiveMinimum":
        return f"必须大于 {arg}"
    if v == "maximum":
        return f"不能大于 {arg}"
    if v == "exclusiveMaximum":
        return f"必须小于 {arg}"
    if v == "minItems":
        return f"至少需要 {arg} 项"
    if v == "maxItems":
        return f"最多 {arg} 项"
    if v == "additionalProperties":
        return "包含表单未定义的字段"
    return f"不符合表单要求: {err.message}"


def describe_error(err: ValidationError) -> tuple[str, str]:
    """(the dotted path of what is wrong, what is wrong with it in plain Chinese) of any
    jsonschema error: of form data, or of a form file or bundle.json against its schema."""
    path = _field(err)
    return ("" if path == "(表单)" else path), _message(err)


def validate_form_data(schema: Mapping[str, Any], data: Any) -> list[FieldError]:
    """Every way `data` fails the form, one entry per field, in field order."""
    validator, controlled = _validator_of(schema)
    best: dict[str, ValidationError] = {}
    for err in validator.iter_errors(data):
        field = _field(err)
        if field not in best or _RANK.get(err.validator, 9) < _RANK.get(best[field].validator, 9):
            best[field] = err
    messages = {field: _message(err) for field, err in best.items()}
    if controlled and isinstance(data, Mapping):
        messages.update(hidden_values(schema, data, controlled))
    return [FieldError(field, messages[field]) for field in sorted(messages)]


def hidden_values(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    controlled: Mapping[str, Controlled] | None = None,
) -> dict[str, str]:
    """{field: why} for each value given for a field that none of its conditions lets apply
    (a field the page hides): refused, never silently dropped. An empty value (null, "", [])
    is taken as not filled in. A field shown always (`"x-show": "always"`) is never hidden."""
    controlled = controlled_fields(schema) if controlled is None else controlled
    candidates = {
        name: c
        for name, c in controlled.items()
        if not c.always_shown and is_filled(data.get(name))
    }
    if not candidates:
        return {}
    active = active_fields(candidates, data, condition_validator)
    return {
        name: f"仅在{describe(schema, c)}时填写"
        for name, c in candidates.items()
        if name not in active
    }


# When one field fails several ways, say the most basic: missing, then wrong type.
_RANK = {"required": 0, "dependentRequired": 0, "type": 1}
