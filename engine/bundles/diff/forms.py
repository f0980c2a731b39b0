"""What changed in the forms: fields added, removed, required, relabelled, retyped."""

from __future__ import annotations

from typing import Any

from .elements import Element
from .model import Change, show


def _options(schema: dict[str, Any]) -> list[str] | None:
    """A field's choices as `value 标题`, from enum or oneOf/anyOf consts (also of array items)."""
    for source in (schema, schema.get("items") or {}):
        if not isinstance(source, dict):
            continue
        if "enum" in source:
            return [show(v) for v in source["enum"]]
        for key in ("oneOf", "anyOf"):
            choices = source.get(key)
            if isinstance(choices, list) and all(
                isinstance(c, dict) and "const" in c for c in choices
            ):
                return [f"{show(c['const'])} {c.get('title', '')}".strip() for c in choices]
    return None


def _field_label(key: str, schema: dict[str, Any]) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return f"字段 '{title}' ({key})" if title else f"字段 {key}"


_FIELD_FACETS = {"title": "标题", "type": "类型", "format": "格式", "description": "说明"}


def _field_changes(form: str, key: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    label = _field_label(key, new)
    changes = []
    for facet, name in _FIELD_FACETS.items():
        if old.get(facet) != new.get(facet):
            changes.append(
                Change(
                    "forms",
                    "changed",
                    f"表单 {form}: {label} {name}变更",
                    f"{form}#{key}",
                    show(old[facet]) if facet in old else None,
                    show(new[facet]) if facet in new else None,
                )
            )
    options_old, options_new = _options(old), _options(new)
    if options_old != options_new:
        changes.append(
            Change(
                "forms",
                "changed",
                f"表单 {form}: {label} 可选值变更",
                f"{form}#{key}",
                "、".join(options_old) if options_old is not None else None,
                "、".join(options_new) if options_new is not None else None,
            )
        )
    shown = set(_FIELD_FACETS) | {"enum", "oneOf", "anyOf", "items"}
    rest_old = {k: v for k, v in old.items() if k not in shown}
    rest_new = {k: v for k, v in new.items() if k not in shown}
    items_old, items_new = old.get("items"), new.get("items")
    if options_old == options_new and items_old != items_new:
        rest_old["items"], rest_new["items"] = items_old, items_new
    if rest_old != rest_new:
        changes.append(
            Change(
                "forms",
                "changed",
                f"表单 {form}: {label} 校验规则变更",
                f"{form}#{key}",
                show(rest_old),
                show(rest_new),
            )
        )
    return changes


def _users_of(form: str, elements: dict[str, Element]) -> str:
    names = [
        e.values.get("name") or e.id for e in elements.values() if e.values.get("form") == form
    ]
    return "、".join(names)


def form_changes(
    a: dict[str, dict[str, Any]],
    b: dict[str, dict[str, Any]],
    elements_a: dict[str, Element],
    elements_b: dict[str, Element],
) -> list[Change]:
    changes: list[Change] = []
    for form in sorted(a.keys() | b.keys()):
        old, new = a.get(form), b.get(form)
        if old == new:
            continue
        if old is None or new is None:
            schema = new if new is not None else old
            assert schema is not None
            used = _users_of(form, elements_b if new is not None else elements_a)
            title = schema.get("title") or form
            kind = "added" if new is not None else "removed"
            verb = "新增" if kind == "added" else "删除"
            changes.append(
                Change(
                    "forms",
                    kind,
                    f"{verb}表单 '{title}' ({form})" + (f", 用于 {used}" if used else ""),
                    form,
                )
            )
            continue
        if old.get("title") != new.get("title"):
            changes.append(
                Change(
                    "forms",
                    "changed",
                    f"表单 {form}: 标题变更",
                    form,
                    old.get("title"),
                    new.get("title"),
                )
            )
        fields_old = old.get("properties") or {}
        fields_new = new.get("properties") or {}
        required_old = set(old.get("required") or [])
        required_new = set(new.get("required") or [])
        for key in sorted(
            fields_old.keys() | fields_new.keys(), key=_position(fields_old, fields_new)
        ):
            f_old, f_new = fields_old.get(key), fields_new.get(key)
            if f_old is None and f_new is not None:
                mark = " (必填)" if key in required_new else ""
                changes.append(
                    Change(
                        "forms",
                        "added",
                        f"表单 {form}: 新增{_field_label(key, f_new)}{mark}",
                        f"{form}#{key}",
                    )
                )
                continue
            if f_new is None and f_old is not None:
                changes.append(
                    Change(
                        "forms",
                        "removed",
                        f"表单 {form}: 删除{_field_label(key, f_old)}",
                        f"{form}#{key}",
                    )
                )
                continue
            assert f_old is not None and f_new is not None
            if isinstance(f_old, dict) and isinstance(f_new, dict):
                changes.extend(_field_changes(form, key, f_old, f_new))
            if (key in required_old) != (key in required_new):
                now = "改为必填" if key in required_new else "改为选填"
                changes.append(
                    Change(
                        "forms",
                        "changed",
                        f"表单 {form}: {_field_label(key, f_new)} {now}",
                        f"{form}#{key}",
                        "必填" if key in required_old else "选填",
                        "必填" if key in required_new else "选填",
                    )
                )
        rest = ("title", "properties", "required", "$schema", "description")
        others_old = {k: v for k, v in old.items() if k not in rest}
        others_new = {k: v for k, v in new.items() if k not in rest}
        if others_old != others_new:
            changes.append(
                Change(
                    "forms",
                    "changed",
                    f"表单 {form}: 联动规则或其他设置变更",
                    form,
                    show(others_old),
                    show(others_new),
                )
            )
        if old.get("description") != new.get("description"):
            changes.append(
                Change(
                    "forms",
                    "changed",
                    f"表单 {form}: 说明变更",
                    form,
                    old.get("description"),
                    new.get("description"),
                )
            )
    return changes


def _position(a: dict[str, Any], b: dict[str, Any]) -> Any:
    """Fields in the order the newer form lists them, then the removed ones."""
    order = {k: i for i, k in enumerate(list(b) + [k for k in a if k not in b])}
    return lambda key: order[key]
