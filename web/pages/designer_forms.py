"""The designer's form editor: the live preview of a JSON Schema form.

`POST /designer/forms/preview` with JSON `{"schema": {...}}` answers the HTML fragment of the form
exactly as the clerk's task page renders it (the `render_form` macro, the same decision fields shown
as a row of choices, the defaults filled in). With `"values": [[name, value], ...]` (what the preview
form holds) it also checks them as the clerk page does on 提交办理: the posted form read back by the
schema (`parse_form`), checked (`validate_form_data`) and shown with the inline errors.

A schema that a deploy would refuse answers 422 `{"message", "errors": [{"message"}]}`: the same
check (`engine.forms.load_form`) the upload runs on every form file, in the same words.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, render_template_string, request
from werkzeug.datastructures import MultiDict

from engine.domain.users import Role
from engine.forms import FormFileInvalid, load_form, validate_form_data

from ..auth import role_required
from ..forms_render import decision_fields, field_errors, field_names, parse_form

bp = Blueprint("designer_forms", __name__, url_prefix="/designer/forms")

# At most this many name/value pairs are read from a preview's "values".
MAX_VALUES = 500

# The clerk's task page (clerk/task.html) around its form, without the task around it.
_PREVIEW = """{% from "macros/form.html" import render_form %}
<div class="card task-form form-preview-card">
  <h2>{{ schema.title or "表单" }}</h2>
  {% if schema.description %}<p class="hint form-intro">{{ schema.description }}</p>{% endif %}
  <form class="stack schema" novalidate data-preview-form>
    {% if schema.properties %}
      {{ render_form(schema, values, errors, radios=radios) }}
    {% else %}
      <p class="muted">本环节没有表单字段, 确认后提交即可。</p>
    {% endif %}
    <div class="row actions">
      <button type="submit" class="primary" data-preview-check>提交办理 (试填校验)</button>
      <span class="muted small">带 <span class="required"></span> 的为必填项</span>
    </div>
    {% if checked and not errors %}<p class="flash flash-success" data-preview-ok>试填内容符合表单要求</p>{% endif %}
  </form>
</div>
"""


def _refused(message: str, problems: list[str], status: int = 422) -> Any:
    response = jsonify({"message": message, "errors": [{"message": p} for p in problems]})
    response.status_code = status
    return response


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """The values the clerk page starts with (clerk._render_task): each field's `default`."""
    return {
        k: p["default"]
        for k, p in (schema.get("properties") or {}).items()
        if isinstance(p, dict) and "default" in p
    }


def _posted(raw: Any) -> MultiDict[str, str] | None:
    """The preview form's [[name, value], ...] as a posted form; None when not that shape."""
    if not isinstance(raw, list) or len(raw) > MAX_VALUES:
        return None
    pairs: list[tuple[str, str]] = []
    for pair in raw:
        if not (isinstance(pair, list) and len(pair) == 2):
            return None
        name, value = pair
        if not isinstance(name, str) or not isinstance(value, str):
            return None
        pairs.append((name, value))
    return MultiDict(pairs)


@bp.post("/preview")
@role_required(Role.DESIGNER)
def preview() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("schema"), dict):
        return _refused('预览请求应为 JSON 对象 {"schema": {...}}', ["缺少表单的 JSON Schema 对象"])
    try:
        schema = load_form(json.dumps(body["schema"], ensure_ascii=False).encode("utf-8"))
    except FormFileInvalid as err:
        return _refused("表单无效, 保存时会被拒绝", [str(err)])
    values: dict[str, Any] = _defaults(schema)
    errors: dict[str, str] = {}
    checked = "values" in body
    if checked:
        posted = _posted(body["values"])
        if posted is None:
            return _refused("试填内容格式不对", ['"values" 应为 [[字段名, 值], ...] 的列表'])
        known = field_names(schema)
        posted = MultiDict([(k, v) for k, v in posted.items(multi=True) if k in known])
        values = parse_form(schema, posted)
        problems = validate_form_data(schema, values)
        errors = field_errors(p.to_dict() for p in problems)
    # a property may be any schema, `true` included; only objects are fields with options
    props = schema.get("properties") or {}
    fields_only = {**schema, "properties": {k: v for k, v in props.items() if isinstance(v, dict)}}
    html = render_template_string(
        _PREVIEW,
        schema=schema,
        values=values,
        errors=errors,
        radios=decision_fields(fields_only),
        checked=checked,
    )
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
