"""Forms as other modelers write them, at upload (docs/bundles.md, Forms).

- `generated`: Camunda's generated task forms (`camunda:formData`) and Flowable's / Activiti's
  `formProperty` lists become JSON Schema forms (engine/bpmn/task_forms.py), checked by
  `load_form` like any form file and stored with the version's forms under
  `camunda:formData/<element id>` (`flowable:formProperty/<element id>`...).
- `missing_message`: a form key naming a kind of form we cannot show (an HTML page, a Camunda
  Forms `.form`, `embedded:`/`app:` keys) says so instead of "不存在".
- `after_forms`: SpiffArena's UI schema file (`formUiSchemaFilename`) is read and stored with its
  form (`x-ui-schema`), and what our renderer can use of it folded into the form; SpiffArena's
  instructions are bounded in size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from lxml import etree

from engine import untrusted_json
from engine.bpmn import manifest, task_forms
from engine.bpmn.namespaces import BPMN, tag
from engine.domain.bundle_versions import HumanTaskInfo
from engine.forms import FormFileInvalid, load_form

from .problems import Problem

UI_SCHEMA_PROPERTY = "formUiSchemaFilename"
# Form keys of forms that are no JSON Schema: HTML pages (Camunda's embedded forms, JSF),
# Camunda Forms (.form, camunda-forms:), an application's own pages (app:, embedded:app:).
_UNSUPPORTED = re.compile(
    r"^(embedded:|camunda-forms:|app:|deployment:|https?:)|\.(html?|xhtml|jsf|jsp|form)$",
    re.IGNORECASE,
)
_WIDGETS = {"textarea": "textarea", "radio": "radio"}


class _Files(Protocol):
    def get(self, key: str) -> bytes | None: ...


def generated(documents: Mapping[str, etree._ElementTree], forms: dict[str, Any]) -> list[Problem]:
    """Add the form of every element that lists its fields in the XML (and uses them: a form
    key it also names wins) to `forms`; the problems of those that cannot be one."""
    found: list[Problem] = []
    for path, tree in documents.items():
        for node in _with_field_lists(tree.getroot()):
            form = task_forms.generated_form(node)
            if form is None or manifest.form_key(node) != form.key or form.key in forms:
                continue
            element = node.get("id", "")
            where = f"'{node.get('name') or element}' 的表单: "
            found.extend(Problem(where + p, element, node.sourceline, path) for p in form.problems)
            if form.problems:
                continue
            try:
                forms[form.key] = load_form(json.dumps(form.schema, ensure_ascii=False).encode())
            except FormFileInvalid as err:
                found.append(Problem(f"{where}无效: {err}", element, node.sourceline, path))
    return found


def _shows_a_form(node: etree._Element) -> bool:
    """A human task, or the start event of a process (whose forms the compiler collects)."""
    name = etree.QName(node).localname
    if name == "startEvent":
        parent = node.getparent()
        return parent is not None and parent.tag == tag(BPMN, "process")
    return manifest.is_human_task(node)


def _with_field_lists(root: etree._Element) -> Iterator[etree._Element]:
    """The human tasks and start events listing their form's fields."""
    seen: set[int] = set()
    for listed in root.iter(*task_forms.FIELD_LIST_TAGS):
        extensions = listed.getparent()
        node = extensions.getparent() if extensions is not None else None
        if node is not None and id(node) not in seen and _shows_a_form(node):
            seen.add(id(node))
            yield node


def is_generated(key: str) -> bool:
    """Whether a form key names a form synthesized from the XML (its problems are said by
    `generated`, never "不存在")."""
    return task_forms.is_generated(key)


def missing_message(label: str, key: str) -> str:
    """What to say of a form key no file answers: a kind of form we cannot show, or a JSON
    Schema file that does not exist."""
    if _UNSUPPORTED.search(key.strip()):
        return f"'{label}' 的表单: 此类表单 ({key}) 不支持, 请使用 JSON Schema 表单 (.json)"
    return f"'{label}' 引用的表单 '{key}' 不存在"


def after_forms(
    human_tasks: Mapping[str, HumanTaskInfo],
    task_files: Mapping[str, str],
    forms: dict[str, Any],
    files: _Files,
) -> list[Problem]:
    """SpiffArena's UI schema files, read into their forms; instructions not too long."""
    found: list[Problem] = []
    done: set[str] = set()
    for info in human_tasks.values():
        file = task_files.get(info.element)
        if info.instructions and len(info.instructions) > task_forms.MAX_INSTRUCTIONS:
            found.append(
                Problem(
                    f"'{info.name}' 的说明 (instructionsForEndUser) 过长 "
                    f"({len(info.instructions)} 个字符, 上限 {task_forms.MAX_INSTRUCTIONS})",
                    info.element,
                    info.line,
                    file,
                )
            )
        name = info.properties.get(UI_SCHEMA_PROPERTY, "").strip()
        if not name or not info.form or info.form not in forms or info.form in done:
            continue
        done.add(info.form)
        content = files.get(name)
        where = f"'{info.name}' 的界面定义 ({UI_SCHEMA_PROPERTY}) '{name}'"
        if content is None:
            found.append(Problem(f"{where} 不存在", info.element, info.line, file))
            continue
        try:
            ui = untrusted_json.loads(content)
        except (ValueError, RecursionError) as err:
            found.append(Problem(f"{where} 不是有效的 JSON: {err}", info.element, info.line, file))
            continue
        if not isinstance(ui, dict):
            found.append(Problem(f"{where} 应为 JSON 对象", info.element, info.line, file))
            continue
        forms[info.form] = with_ui_schema(forms[info.form], ui)
    return found


def with_ui_schema(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its UI schema stored (`x-ui-schema`) and what our renderer shows folded in:
    `ui:order` (the fields' order, `*` for the rest), `ui:widget` textarea or radio, `ui:help`
    and `ui:description` (the hint under a field), `ui:title` (its label). The rest (autofocus,
    placeholder, readonly, options...) is kept but not used."""
    out = {**schema, "x-ui-schema": ui}
    props = schema.get("properties")
    if not isinstance(props, dict):
        return out
    new_props = dict(props)
    for name, prop in props.items():
        hints = ui.get(name)
        if not isinstance(prop, dict) or not isinstance(hints, dict):
            continue
        prop = dict(prop)
        widget = hints.get("ui:widget")
        if isinstance(widget, str) and widget in _WIDGETS:
            prop["x-widget"] = _WIDGETS[widget]
        for hint in ("ui:help", "ui:description"):
            if isinstance(hints.get(hint), str) and hints[hint].strip():
                prop["description"] = hints[hint].strip()
                break
        if isinstance(hints.get("ui:title"), str) and hints["ui:title"].strip():
            prop["title"] = hints["ui:title"].strip()
        new_props[name] = prop
    out["properties"] = new_props
    order = ui.get("ui:order")
    if isinstance(order, list) and all(isinstance(n, str) for n in order):
        at = order.index("*") if "*" in order else len(order)
        before = [n for n in order[:at] if n in props]
        after = [n for n in order[at:] if n in props]
        rest = [n for n in props if n not in before and n not in after]
        out["x-order"] = list(dict.fromkeys([*before, *rest, *after]))
    return out
