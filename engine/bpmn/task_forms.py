"""Forms and instructions other modelers write inside a task, read from the BPMN XML.

- Camunda's "generated task forms" (`camunda:formData` with `camunda:formField`s) and
  Flowable's / Activiti's `flowable:formProperty` / `activiti:formProperty` become a JSON Schema
  form, stored under a key naming the element (`camunda:formData/<element id>`), so that it is
  validated and rendered like any form file.
- SpiffArena's `spiffworkflow:instructionsForEndUser` (markdown shown above the task's form) is
  kept as written: the task page renders it (web/instructions.py).

Nothing here runs: an expression a form field carries (`${...}` as a default, Flowable's
`expression`) is never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from .namespaces import ACTIVITI, BPMN, CAMUNDA, FLOWABLE, SPIFF, tag

_PREFIXES = {CAMUNDA: "camunda", FLOWABLE: "flowable", ACTIVITI: "activiti"}
_EXTENSIONS = tag(BPMN, "extensionElements")
FIELD_LIST_TAGS = (tag(CAMUNDA, "formData"), *(tag(ns, "formProperty") for ns in _PREFIXES))
GENERATED_PREFIXES = ("camunda:formData/", *(f"{p}:formProperty/" for p in _PREFIXES.values()))

# Camunda 7 and Flowable parse a date field with `dd/MM/yyyy` unless it names a `datePattern`.
DEFAULT_DATE_PATTERN = "dd/MM/yyyy"
_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "long": {"type": "integer"},
    "integer": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "enum": {"type": "string"},
}
_TYPE_NAMES = "string、long、double、boolean、date、enum"
_CONSTRAINTS = ("required", "minlength", "maxlength", "min", "max", "readonly")
_TRUE = frozenset({"true", "yes", "on", "enabled", "active"})
_FALSE = frozenset({"false", "no", "off", "disabled", "inactive"})
MAX_INSTRUCTIONS = 20_000


@dataclass
class GeneratedForm:
    """A form synthesized from a task's field list: its JSON Schema and what is wrong with it
    (messages naming the field; the caller adds the element)."""

    key: str
    schema: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def _extension_children(node: etree._Element, *tags: str) -> list[etree._Element]:
    return [
        child
        for extensions in node.iterchildren(_EXTENSIONS)
        for child in extensions.iterchildren(*tags)
    ]


def _form_data(node: etree._Element) -> etree._Element | None:
    found = _extension_children(node, tag(CAMUNDA, "formData"))
    return found[0] if found else None


def _form_properties(node: etree._Element) -> list[etree._Element]:
    return _extension_children(node, *(tag(ns, "formProperty") for ns in _PREFIXES))


def generated_key(node: etree._Element) -> str | None:
    """`camunda:formData/<id>` (or `flowable:formProperty/<id>`...) when the element lists its
    form's fields in the XML; None otherwise."""
    element = node.get("id", "")
    if _form_data(node) is not None:
        return f"camunda:formData/{element}"
    props = _form_properties(node)
    if props:
        namespace = etree.QName(props[0]).namespace or CAMUNDA
        return f"{_PREFIXES.get(namespace, 'camunda')}:formProperty/{element}"
    return None


def is_generated(key: str) -> bool:
    return key.startswith(GENERATED_PREFIXES)


def _valid_name(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_") and len(name) <= 64


def _boolean(text: str | None) -> bool | None:
    value = (text or "").strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _date_regex(pattern: str) -> re.Pattern[str] | None:
    """A regular expression reading a date written in a Java date pattern made of dd, MM, yyyy
    and separators; None for any other pattern (a time part, month names)."""
    out = ""
    rest = pattern
    while rest:
        for token, group in (("yyyy", r"(?P<y>\d{4})"), ("MM", r"(?P<m>\d{1,2})")):
            if rest.startswith(token):
                out += group
                rest = rest[len(token) :]
                break
        else:
            if rest.startswith("dd"):
                out += r"(?P<d>\d{1,2})"
                rest = rest[2:]
            elif rest[0] in "/-. ":
                out += re.escape(rest[0])
                rest = rest[1:]
            else:
                return None
    return re.compile(out) if all(g in out for g in ("?P<y>", "?P<m>", "?P<d>")) else None


def iso_date(text: str, pattern: str | None) -> str | None:
    """A date written in the field's date pattern (Camunda's default `dd/MM/yyyy`) or ISO, as
    ISO `2026-01-31`; None when it is neither."""
    regex = _date_regex(pattern or DEFAULT_DATE_PATTERN)
    found = regex.fullmatch(text.strip()) if regex else None
    try:
        if found:
            return date(int(found["y"]), int(found["m"]), int(found["d"])).isoformat()
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def _default(
    raw: str, prop: dict[str, Any], pattern: str | None, where: str
) -> tuple[Any, str | None]:
    """A default value as the field's JSON type; (None, problem) when it does not convert. A
    default that is an expression (`${...}`) is not evaluated: it is left out."""
    text = raw.strip()
    if not text or "${" in text or "#{" in text:
        return None, None
    kind = prop.get("type")
    if prop.get("format") == "date":
        converted = iso_date(text, pattern)
        if converted is None:
            return (
                None,
                f"{where}的默认值 '{raw}' 不是日期 (应为 {pattern or DEFAULT_DATE_PATTERN})",
            )
        return converted, None
    if kind == "integer":
        try:
            return int(text), None
        except ValueError:
            return None, f"{where}的默认值 '{raw}' 不是整数"
    if kind == "number":
        number = _number(text)
        if number is None:
            return None, f"{where}的默认值 '{raw}' 不是数字"
        return number, None
    if kind == "boolean":
        value = _boolean(text)
        if value is None:
            return None, f"{where}的默认值 '{raw}' 应为 true 或 false"
        return value, None
    options = [o["const"] for o in prop.get("oneOf", [])]
    if options and text not in options:
        return None, f"{where}的默认值 '{raw}' 不在选项中 ({'、'.join(options)})"
    return text, None


def _number(config: str | None) -> int | float | None:
    try:
        number = float((config or "").strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() else number


def _apply_constraint(
    name: str, config: str | None, prop: dict[str, Any], where: str
) -> str | None:
    """Add one `camunda:constraint` to the field's schema; a problem when it cannot be."""
    kind = prop.get("type")
    if name in ("minlength", "maxlength"):
        number = _number(config)
        if not isinstance(number, int) or number < 0:
            return f"{where}的校验 {name} 的 config 应为非负整数 (现为 '{config or ''}')"
        if kind != "string" or "oneOf" in prop:
            return f"{where}的校验 {name} 只能用于文本字段 (string)"
        prop["minLength" if name == "minlength" else "maxLength"] = number
    elif name in ("min", "max"):
        number = _number(config)
        if number is None:
            return f"{where}的校验 {name} 的 config 应为数字 (现为 '{config or ''}')"
        if kind not in ("integer", "number"):
            return f"{where}的校验 {name} 只能用于数字字段 (long、double)"
        prop["minimum" if name == "min" else "maximum"] = number
    return None


def _enum_values(node: etree._Element, prop: dict[str, Any], where: str) -> list[str]:
    """The options of an enum field (`camunda:value` / `flowable:value` id and name)."""
    problems = []
    options = []
    for value in node.iterchildren(*(tag(ns, "value") for ns in _PREFIXES)):
        ident = (value.get("id") or "").strip()
        if not ident:
            problems.append(f"{where}的选项缺少 id")
            continue
        options.append({"const": ident, "title": (value.get("name") or ident).strip()})
    if not options:
        problems.append(f"{where}是 enum 类型, 但没有选项 (value)")
    else:
        prop["oneOf"] = options
    return problems


def _read_field(
    node: etree._Element, label: str, kind: str, where: str
) -> tuple[dict[str, Any] | None, list[str]]:
    if kind not in _TYPES:
        return None, [f"{where}的类型 '{kind}' 不支持 (只支持 {_TYPE_NAMES})"]
    prop: dict[str, Any] = {"title": label, **_TYPES[kind]}
    problems = _enum_values(node, prop, where) if kind == "enum" else []
    return prop, problems


def _camunda_fields(form_data: etree._Element, element: str) -> GeneratedForm:
    """camunda:formData -> a JSON Schema form."""
    form = GeneratedForm(f"camunda:formData/{element}", {"type": "object", "properties": {}})
    properties: dict[str, Any] = form.schema["properties"]
    required: list[str] = []
    for node in form_data.iterchildren(tag(CAMUNDA, "formField")):
        name = (node.get("id") or "").strip()
        where = f"表单字段 '{name}' "
        if not _valid_name(name):
            form.problems.append(
                f"表单字段 id '{name}' 不是有效的字段名 (字母、数字、下划线, 不以数字或下划线开头)"
            )
            continue
        if name in properties:
            form.problems.append(f"表单字段 '{name}' 重复")
            continue
        label = (node.get("label") or name).strip()
        kind = (node.get("type") or "string").strip()
        prop, problems = _read_field(node, label, kind, where)
        form.problems.extend(problems)
        if prop is None:
            continue
        readonly = False
        for constraint in node.iter(tag(CAMUNDA, "constraint")):
            which = (constraint.get("name") or "").strip()
            if which not in _CONSTRAINTS:
                form.problems.append(
                    f"{where}的校验 '{which}' 不支持 (只支持 {'、'.join(_CONSTRAINTS)})"
                )
            elif which == "required":
                required.append(name)
            elif which == "readonly":
                readonly = True
            else:
                problem = _apply_constraint(which, constraint.get("config"), prop, where)
                if problem:
                    form.problems.append(problem)
        if node.get("defaultValue") is not None:
            value, problem = _default(
                node.get("defaultValue", ""), prop, node.get("datePattern"), where
            )
            if problem:
                form.problems.append(problem)
            elif value is not None:
                prop["default"] = value
        if not readonly:  # Camunda refuses any value submitted for a readonly field
            properties[name] = prop
    _finish(form, required)
    return form


def _property_fields(nodes: list[etree._Element], key: str) -> GeneratedForm:
    """flowable:formProperty / activiti:formProperty -> a JSON Schema form."""
    form = GeneratedForm(key, {"type": "object", "properties": {}})
    properties: dict[str, Any] = form.schema["properties"]
    required: list[str] = []
    for node in nodes:
        ident = (node.get("id") or "").strip()
        name = (node.get("variable") or ident).strip()
        where = f"表单字段 '{ident}' "
        if not _valid_name(name):
            form.problems.append(
                f"表单字段 id '{name}' 不是有效的字段名 (字母、数字、下划线, 不以数字或下划线开头)"
            )
            continue
        if name in properties:
            form.problems.append(f"表单字段 '{name}' 重复")
            continue
        if node.get("expression"):
            form.problems.append(
                f"{where}的 expression 不支持 (表单的值不经表达式写入): 请删除, 需要时用 variable"
            )
            continue
        flags = {}
        for attribute in ("required", "readable", "writable"):
            text = node.get(attribute)
            flags[attribute] = _boolean(text) if text is not None else attribute != "required"
            if flags[attribute] is None:
                form.problems.append(f"{where}的 {attribute} 应为 true 或 false (现为 '{text}')")
        kind = (node.get("type") or "string").strip()
        label = (node.get("name") or ident).strip()
        prop, problems = _read_field(node, label, kind, where)
        form.problems.extend(problems)
        if prop is None or not flags["readable"] or not flags["writable"]:
            continue  # a field the task may not write is no field of its form
        if node.get("default") is not None:
            value, problem = _default(node.get("default", ""), prop, node.get("datePattern"), where)
            if problem:
                form.problems.append(problem)
            elif value is not None:
                prop["default"] = value
        if flags["required"]:
            required.append(name)
        properties[name] = prop
    _finish(form, required)
    return form


def _finish(form: GeneratedForm, required: list[str]) -> None:
    names = list(form.schema["properties"])
    if required:
        form.schema["required"] = [n for n in dict.fromkeys(required) if n in names]
    # the fields' order, kept where the database keeps no key order (PostgreSQL's JSONB)
    form.schema["x-order"] = names


def generated_form(node: etree._Element) -> GeneratedForm | None:
    """The form an element's field list (formData / formProperty) describes, or None."""
    element = node.get("id", "")
    form_data = _form_data(node)
    if form_data is not None:
        return _camunda_fields(form_data, element)
    props = _form_properties(node)
    key = generated_key(node)
    return _property_fields(props, key) if props and key else None


def instructions(node: etree._Element) -> str | None:
    """SpiffArena's `spiffworkflow:instructionsForEndUser` (markdown), as written; None when
    the element has none."""
    found = _extension_children(node, tag(SPIFF, "instructionsForEndUser"))
    text = "".join(found[0].itertext()) if found else ""
    return text.strip() or None
