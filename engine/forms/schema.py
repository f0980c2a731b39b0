"""A form file at upload: a JSON Schema object we can check data against safely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .patterns import pattern_problem
from .validation import describe_error

# Keywords whose values are data, not schemas: a "pattern" key inside them is not a pattern.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
# Keywords whose values map names (of fields, definitions) to schemas.
_NAMED_SCHEMAS = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})


class FormFileInvalid(ValueError):
    """A form file that is not a usable JSON Schema."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"不允许 {name} (只允许有限的数字)")


def load_form(content: bytes) -> dict[str, Any]:
    """Parse and check a form file; raise FormFileInvalid saying what is wrong."""
    try:
        schema = json.loads(content.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise FormFileInvalid(f"不是有效的 JSON: {err}") from None
    except RecursionError:
        raise FormFileInvalid("不是有效的 JSON: 嵌套层数过多") from None
    if not isinstance(schema, dict):
        raise FormFileInvalid("表单文件必须是一个 JSON Schema 对象")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(根)"
        _, what = describe_error(err)
        value = json.dumps(err.instance, ensure_ascii=False)
        value = value if len(value) <= 60 else value[:59] + "…"
        raise FormFileInvalid(f"不是有效的 JSON Schema ({where}): {what} (现为 {value})") from None
    except RecursionError:
        raise FormFileInvalid("不是有效的 JSON Schema: 嵌套层数过多") from None
    if schema.get("type", "object") != "object":
        raise FormFileInvalid("表单的 JSON Schema 顶层类型必须是 object")
    for where, keyword, value in _keywords(schema, ""):
        if keyword == "patternProperties":
            raise FormFileInvalid(
                f"表单不支持 patternProperties ({where or '(根)'}): 字段须在 properties 中逐一声明"
            )
        if keyword == "pattern" and isinstance(value, str):
            problem = pattern_problem(value)
            if problem is not None:
                raise FormFileInvalid(f"{where or '(根)'} 的 pattern {problem}")
    return schema


def _keywords(node: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(path, keyword, value) of every keyword in a schema, subschemas included."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            yield from _keywords(value, f"{where}/{i}")
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        key = str(key)
        path = f"{where}/{key}" if where else key
        yield where, key, value
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _keywords(sub, f"{path}/{name}")
        elif key not in _DATA_KEYWORDS:
            yield from _keywords(value, path)
