"""JSON Schema forms in HTML: schema -> fields for the `render_form` macro, posted form -> JSON data.

`form_fields(schema, values, errors)` turns a JSON Schema object's properties into a list of
`Field`s (label, hint, widget, current value, options, inline error) that
web/templates/macros/form.html renders. `parse_form(schema, form, files)` reads a posted form back
into typed JSON data by the same schema: numbers become numbers, booleans booleans, arrays lists;
empty inputs are left out so "required" reports them. Field names are the property names, joined
with "." for nested objects, the same paths engine.forms.validate_form_data reports errors on.

Attachments: a string property with `"format": "data-url"`, `contentMediaType` or
`"contentEncoding": "base64"` is a file input (`engine.forms.is_attachment`); the uploaded file
is stored in the form data as a data URL string `data:<type>;name=<url-quoted file
name>;base64,<content>`, at most the server's attachment limit (`InputLimits.attachment_bytes`).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from engine import config
from engine.forms import InputLimits, is_attachment
from engine.forms.conditions import active_fields, client_rules, controlled_fields
from engine.forms.validation import condition_validator

MAX_ATTACHMENT_BYTES = InputLimits().attachment_bytes
# inputs every posted page form carries besides its fields
FORM_CONTROLS = frozenset({"csrf_token"})
TEXTAREA_OVER = 200
_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.S)


@dataclass
class Option:
    value: str
    label: str
    checked: bool = False


@dataclass
class Field:
    name: str
    id: str
    label: str
    widget: str  # text textarea number date datetime-local email url select radio checkbox
    #              checkboxes lines file fieldset
    type: str
    hint: str = ""
    required: bool = False
    value: str = ""
    options: list[Option] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    error: str = ""
    children: list[Field] = field(default_factory=list)
    file_name: str = ""
    file_size: int = 0
    hidden: bool = False  # a field its form's conditions do not let apply now (conditions.py)

    @property
    def described_by(self) -> str:
        ids = []
        if self.hint:
            ids.append(self.id + "-hint")
        if self.error:
            ids.append(self.id + "-error")
        return " ".join(ids)


# ---------------------------------------------------------------- schema -> fields


def _type_of(prop: Mapping[str, Any]) -> str:
    t = prop.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t:
        return str(t)
    if "properties" in prop:
        return "object"
    if "items" in prop:
        return "array"
    opts = _options_of(prop)
    if opts and all(isinstance(v, bool) for v, _ in opts):
        return "boolean"
    return "string"


def _options_of(prop: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, label) pairs: enum (+ enumNames) or oneOf/anyOf of const + title."""
    if isinstance(prop.get("enum"), list):
        names = prop.get("enumNames") or []
        return [
            (v, str(names[i]) if i < len(names) else _text(v)) for i, v in enumerate(prop["enum"])
        ]
    for key in ("oneOf", "anyOf"):
        alts = prop.get(key)
        if (
            isinstance(alts, list)
            and alts
            and all(isinstance(a, dict) and "const" in a for a in alts)
        ):
            return [(a["const"], str(a.get("title") or _text(a["const"]))) for a in alts]
    if "const" in prop and not isinstance(prop["const"], bool):
        return [(prop["const"], _text(prop["const"]))]
    return []


def _text(value: Any) -> str:
    """A JSON value as the string an HTML input carries."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _widget(prop: Mapping[str, Any], kind: str, radios: bool) -> str:
    opts = _options_of(prop)
    if kind == "object":
        return "fieldset"
    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        return "checkboxes" if _options_of(items) else "lines"
    if kind == "boolean":
        return "radio" if len(_options_of(prop)) == 2 else "checkbox"
    if opts:
        return "radio" if radios or prop.get("x-widget") == "radio" else "select"
    if kind in ("integer", "number"):
        return "number"
    if is_attachment(prop):
        return "file"
    fmt = prop.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime-local"
    if fmt in ("email", "uri"):
        return "email" if fmt == "email" else "url"
    if fmt == "textarea" or prop.get("x-widget") == "textarea":
        return "textarea"
    if int(prop.get("maxLength") or 0) > TEXTAREA_OVER:
        return "textarea"
    return "text"


def _number_attrs(prop: Mapping[str, Any], kind: str) -> dict[str, str]:
    attrs = {"step": "1" if kind == "integer" else "any"}
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if isinstance(low, int | float) and not isinstance(low, bool):
        attrs["min"] = _text(low)
    if isinstance(high, int | float) and not isinstance(high, bool):
        attrs["max"] = _text(high)
    return attrs


def _datetime_local(value: Any) -> str:
    """An ISO date-time as a datetime-local input value (local wall time, minutes)."""
    if not isinstance(value, str):
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(_zone())
    return moment.strftime("%Y-%m-%dT%H:%M")


def _zone() -> ZoneInfo:
    try:
        return config.timezone()
    except Exception:  # noqa: BLE001 - a bad setting must not break a form
        return ZoneInfo("Asia/Shanghai")


def attachment_label(value: Any) -> str | None:
    """How an attachment stored in case data is shown: its name and size, never its bytes."""
    name, size = describe_data_url(value)
    if not name and not size:
        return None
    return f"附件: {name or '未命名'} ({size / 1024:.1f} KB)"


def without_attachments(value: Any) -> Any:
    """`value` with every attachment replaced by its label (for printed pages)."""
    if isinstance(value, dict):
        return {k: without_attachments(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_attachments(v) for v in value]
    return attachment_label(value) or value


def describe_data_url(value: Any) -> tuple[str, int]:
    """(file name, size in bytes) of an attachment stored as a data URL; ("", 0) otherwise."""
    if not isinstance(value, str):
        return "", 0
    m = _DATA_URL.match(value)
    if not m:
        return "", 0
    name = ""
    for param in m.group(2).split(";"):
        if param.startswith("name="):
            name = unquote(param[5:])
    body = value[m.end() :]
    size = len(body) * 3 // 4 - body[-2:].count("=") if "base64" in m.group(2) else len(body)
    return name or "附件", size


def form_fields(
    schema: Mapping[str, Any] | None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    radios: Iterable[str] = (),
    prefix: str = "",
) -> list[Field]:
    """The fields of a JSON Schema object, with current values and inline errors."""
    schema = schema or {}
    values = values if isinstance(values, Mapping) else {}
    errors = errors or {}
    radio_names = set(radios)
    required = set(schema.get("required") or [])
    # Fields the form's conditions control (engine/forms/conditions.py): required while one of
    # their conditions holds for the current values, hidden (and disabled) otherwise unless
    # shown always; form_conditions.js keeps this up to date as the clerk fills the form.
    controlled = controlled_fields(schema) if not prefix else {}
    active = active_fields(controlled, values, condition_validator) if controlled else set()
    out: list[Field] = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        name = f"{prefix}{key}"
        kind = _type_of(prop)
        widget = _widget(prop, kind, name in radio_names)
        current = values.get(key)
        f = Field(
            name=name,
            id="f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name),
            label=str(prop.get("title") or key),
            widget=widget,
            type=kind,
            hint=str(prop.get("description") or ""),
            required=key in required or key in active,
            error=str(errors.get(name) or ""),
            hidden=key in controlled and key not in active and not controlled[key].always_shown,
        )
        if widget == "fieldset":
            f.children = form_fields(prop, current, errors, radio_names, prefix=name + ".")
        elif widget == "checkboxes":
            chosen = {_text(v) for v in current} if isinstance(current, list) else set()
            f.options = [
                Option(_text(v), lbl, _text(v) in chosen) for v, lbl in _options_of(prop["items"])
            ]
        elif widget in ("select", "radio"):
            f.value = _text(current)
            f.options = [
                Option(_text(v), lbl, _text(v) == f.value and current is not None)
                for v, lbl in _options_of(prop)
            ]
        elif widget == "checkbox":
            f.value = "true"
            f.options = [Option("true", f.label, current is True)]
        elif widget == "lines":
            f.value = (
                "\n".join(_text(v) for v in current)
                if isinstance(current, list)
                else _text(current)
            )
        elif widget == "datetime-local":
            f.value = _datetime_local(current)
        elif widget == "file":
            f.value = current if isinstance(current, str) else ""
            f.file_name, f.file_size = describe_data_url(current)
            if prop.get("contentMediaType"):
                f.attrs["accept"] = str(prop["contentMediaType"])
        else:
            f.value = _text(current)
        if widget == "number":
            f.attrs.update(_number_attrs(prop, kind))
        if widget in ("text", "textarea", "email", "url") and isinstance(
            prop.get("maxLength"), int
        ):
            f.attrs["maxlength"] = str(prop["maxLength"])
        if widget in ("text", "textarea") and prop.get("examples"):
            f.attrs["placeholder"] = "例: " + _text(prop["examples"][0])
        out.append(f)
    return out


def form_conditions(schema: Mapping[str, Any] | None) -> str:
    """The form's conditions as JSON for form_conditions.js ("" when it has none)."""
    rules = client_rules(schema)
    return json.dumps(rules, ensure_ascii=False, separators=(",", ":")) if rules else ""


def field_errors(problems: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Invalid.errors (a list of {"field", "message"}) -> {field name: message} for the macro.

    An error on an array item ("materials.0") is shown on the array; the first message wins.
    """
    out: dict[str, str] = {}
    for p in problems:
        name = str(p.get("field") or p.get("element") or "")
        parts = name.split(".")
        while len(parts) > 1 and parts[-1].isdigit():
            parts.pop()
        key = ".".join(parts)
        out.setdefault(key, str(p.get("message") or "不符合要求"))
    return out


def field_names(schema: Mapping[str, Any] | None, prefix: str = "") -> set[str]:
    """Every field name a schema's form has, nested ones included."""
    names: set[str] = set()
    for key, prop in ((schema or {}).get("properties") or {}).items():
        names.add(prefix + key)
        if isinstance(prop, dict) and _type_of(prop) == "object":
            names |= field_names(prop, prefix + key + ".")
    return names


# ---------------------------------------------------------------- posted form -> data


class AttachmentTooLarge(ValueError):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(name)
        self.field = name
        self.limit = limit

    @property
    def message(self) -> str:
        return f"文件不能超过 {self.limit / 1024 / 1024:g} MB"


def undeclared_fields(schema: Mapping[str, Any] | None, form: Any, files: Any = None) -> list[str]:
    """Names posted that are no field of the form (a forged or stale page): refused, not dropped."""
    posted = set(form.keys()) | (set(files.keys()) if files is not None else set())
    return sorted(posted - field_names(schema) - FORM_CONTROLS)


def _convert(raw: str, kind: str) -> Any:
    """A posted string as a value of a JSON type; a string that does not convert is kept as is,
    so the schema check reports it ("应为数字") and the form shows it again."""
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            try:
                number = float(raw)
            except ValueError:
                return raw
            return int(number) if number.is_integer() else number
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        if not math.isfinite(number):
            return raw
        return (
            int(number)
            if number.is_integer() and "." not in raw and "e" not in raw.lower()
            else number
        )
    if kind == "boolean":
        return {"true": True, "on": True, "1": True, "false": False, "0": False}.get(raw, raw)
    if kind == "null":
        return None
    return raw


def _option_value(raw: str, prop: Mapping[str, Any], kind: str) -> Any:
    for value, _label in _options_of(prop):
        if _text(value) == raw:
            return value
    return _convert(raw, kind)


def _iso_datetime(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    return moment.isoformat(timespec="seconds")


def _data_url(upload: Any, name: str, limit: int) -> str:
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise AttachmentTooLarge(name, limit)
    mime = (getattr(upload, "mimetype", "") or "application/octet-stream").split(";")[0]
    file_name = quote(getattr(upload, "filename", "") or "附件", safe="")
    return f"data:{mime};name={file_name};base64,{base64.b64encode(content).decode('ascii')}"


def _getlist(form: Any, name: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(name)]
    value = form.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def parse_form(
    schema: Mapping[str, Any] | None,
    form: Any,
    files: Any = None,
    prefix: str = "",
    attachment_bytes: int = MAX_ATTACHMENT_BYTES,
) -> dict[str, Any]:
    """A posted form (request.form, optionally request.files) as JSON data typed by the schema.

    Empty inputs are absent; an unticked single checkbox is `false`; raises AttachmentTooLarge
    for an uploaded file over `attachment_bytes`.
    """
    data: dict[str, Any] = {}
    for key, prop in ((schema or {}).get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        name = f"{prefix}{key}"
        kind = _type_of(prop)
        widget = _widget(prop, kind, False)
        if widget == "fieldset":
            inner = parse_form(prop, form, files, name + ".", attachment_bytes)
            if inner:
                data[key] = inner
            continue
        if widget in ("checkboxes", "lines"):
            items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
            item_kind = _type_of(items)
            raws = _getlist(form, name)
            if widget == "lines":
                raws = [line for r in raws for line in r.splitlines()]
            chosen = [_option_value(r.strip(), items, item_kind) for r in raws if r.strip()]
            if chosen:
                data[key] = chosen
            continue
        if widget == "checkbox":
            if _getlist(form, name):
                data[key] = True
            elif prop.get("const") is not True:
                # a "must tick" box left unticked stays absent, so "required" reports it
                data[key] = False
            continue
        if widget == "file":
            upload = files.get(name) if files is not None else None
            if upload is not None and getattr(upload, "filename", ""):
                data[key] = _data_url(upload, name, attachment_bytes)
                continue
        values = _getlist(form, name)
        raw = values[-1] if values else ""
        if widget != "textarea":
            raw = raw.strip()
        if not raw.strip():
            continue
        if widget in ("select", "radio"):
            data[key] = _option_value(raw, prop, kind)
        elif widget == "datetime-local":
            data[key] = _iso_datetime(raw)
        else:
            data[key] = _convert(raw, kind)
    return data


# ---------------------------------------------------------------- property order


def reorder_like(schema: Mapping[str, Any] | None, original: Any) -> Any:
    """`schema` with its properties (nested ones too) in the order `original` has them.

    PostgreSQL stores a deployed form as JSONB, which keeps no key order: the form would show
    its fields shuffled. `original` is the same form parsed from its file; when it has other
    properties than `schema`, `schema` is returned as it is. A form that says its order itself
    (`x-order`: generated forms, a SpiffArena UI schema's `ui:order`) is shown in that order."""
    declared = schema.get("x-order") if isinstance(schema, Mapping) else None
    fields = schema.get("properties") if isinstance(schema, Mapping) else None
    if (
        isinstance(declared, list)
        and isinstance(fields, Mapping)
        and declared == [k for k in declared if k in fields]
        and set(declared) == set(fields)
    ):
        inner = original.get("properties") if isinstance(original, Mapping) else None
        inner = inner if isinstance(inner, Mapping) else {}
        return {
            **schema,
            "properties": {k: reorder_like(fields[k], inner.get(k)) for k in declared},
        }
    if not isinstance(schema, Mapping) or not isinstance(original, Mapping):
        return schema
    props, order = schema.get("properties"), original.get("properties")
    if not isinstance(props, Mapping) or not isinstance(order, Mapping) or set(props) != set(order):
        return schema
    return {
        **schema,
        "properties": {k: reorder_like(props[k], order[k]) for k in order},
    }


def decision_fields(schema: dict[str, Any] | None) -> list[str]:
    """Fields a task page shows as a row of choices (受理 / 补正 / 容缺受理 / 不予受理...): the
    required ones with a few fixed options. A property written as `true` (any value) has none."""
    if not schema:
        return []
    required = set(schema.get("required") or [])
    out = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        options = prop.get("enum") or prop.get("oneOf") or []
        if key in required and isinstance(options, list) and 1 < len(options) <= 6:
            out.append(key)
    return out
