"""A case's record as a reviewer reads it: what was applied for and what each earlier step
decided, every value shown with its form's words instead of its stored code.

`labelled_data` builds it from the case's events (the start data, each `task_completed` with its
form data, actor and time, and the administrators' data corrections) and the version's forms:
the application in the start form's field order, the attachments, then each completed step with
its decision (`受理决定: 补正`, `审查结论: 准予许可`), its opinion and the other fields it wrote.
A field titled alike in two forms (审查结论) carries its task's name (审查结论 · 营业执照审查)
wherever fields are listed together (`labels`). Each business rule task that ran (a DMN
decision: 合理布局判定) is a step too, after the step that set it off: its outputs as the case data
holds them, labelled as the decision table labels them. `attachment` gives one stored file's
bytes.

Read-only: nothing here writes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from engine.bpmn import dmn_model
from engine.domain.bundle_versions import BundleVersion
from engine.domain.form_fields import declared_fields, field_schema, is_attachment
from engine.domain.model import CaseEvent, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound
from engine.persistence.unit_of_work import UnitOfWork

from . import documents, extension, follow_ups
from .case_pages import ACTOR_NAMES, element_names, local_time

if TYPE_CHECKING:
    from engine.bpmn.runtime import ProcessRuntime

    from .context import Services

_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.S)
# a field holding a step's opinion: its name ends so, or its title does
_OPINION_NAMES = ("opinion", "report", "reason")
_OPINION_TITLES = ("意见", "报告", "理由")
# a field holding a step's decision: a field with fixed choices titled so
_DECISION_TITLES = ("决定", "结论")
# media types an attachment is served as; anything else is served as bytes to download
_SHOWN_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")

# forms in their files' field order, by the version's checksum (versions never change)
_ORDERED: dict[str, dict[str, dict[str, Any]]] = {}
_ORDERED_MAX = 64
# the DMN tables' output labels ({decision id: {output name: label, "": decision name}}), by
# the version's checksum
_DMN_LABELS: dict[str, dict[str, dict[str, str]]] = {}
# the events a step of the engine runs in (what a business rule task decided is written then)
_STEP_EVENTS = (EventType.CASE_STARTED, EventType.TASK_COMPLETED, EventType.TIMER_FIRED)


# -- values in words -------------------------------------------------------------------------


def _data_url(value: Any) -> tuple[str, str, int] | None:
    """(media type, file name, size in bytes) of an attachment stored as a data URL."""
    if not isinstance(value, str):
        return None
    found = _DATA_URL.match(value)
    if not found:
        return None
    name = ""
    for param in found.group(2).split(";"):
        if param.startswith("name="):
            name = unquote(param[5:])
    body = value[found.end() :]
    base64_body = "base64" in found.group(2)
    size = len(body) * 3 // 4 - body[-2:].count("=") if base64_body else len(body)
    return found.group(1) or "application/octet-stream", name or "附件", size


def _choices(prop: Mapping[str, Any] | None) -> list[tuple[Any, str]]:
    """(value, title) of a field's fixed choices (`oneOf`/`anyOf` of titled consts)."""
    if not isinstance(prop, Mapping):
        return []
    found = []
    for key in ("oneOf", "anyOf"):
        for option in prop.get(key) or ():
            if isinstance(option, Mapping) and "const" in option:
                found.append((option["const"], str(option.get("title") or option["const"])))
    return found


def _titled(value: Any, prop: Mapping[str, Any] | None, materials: Mapping[str, str]) -> str:
    """One scalar value in words: its choice's title, 是/否, a material's name, a local time."""
    for const, title in _choices(prop):
        if const == value and type(const) is type(value):
            return title
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        if value in materials:
            return materials[value]
        if isinstance(prop, Mapping) and prop.get("format") == "date-time":
            try:
                return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
            except ValueError:
                return value
        return value
    return str(value)


def show_value(
    value: Any, prop: Mapping[str, Any] | None, materials: Mapping[str, str]
) -> dict[str, Any]:
    """A stored value as the pages show it: `text` (never a raw code), `entries` for a list,
    `attachment` (type, name, size) for a file."""
    attachment = _data_url(value)
    if attachment is not None or (is_attachment(prop) and isinstance(value, str) and value):
        kind, name, size = attachment or ("application/octet-stream", "附件", len(value) * 3 // 4)
        return {
            "text": f"{name} ({size / 1024:.1f} KB)",
            "attachment": {"type": kind, "name": name, "size": size},
        }
    if isinstance(value, list):
        items_prop = prop.get("items") if isinstance(prop, Mapping) else None
        items = [
            show_value(v, items_prop if isinstance(items_prop, Mapping) else None, materials)[
                "text"
            ]
            for v in value
        ]
        return {"text": "、".join(items) if items else "无", "entries": items}
    if isinstance(value, dict):
        inner = prop.get("properties") if isinstance(prop, Mapping) else None
        inner = inner if isinstance(inner, Mapping) else {}
        parts = []
        for key, sub in value.items():
            sub_prop = inner.get(key) if isinstance(inner.get(key), Mapping) else None
            label = str(sub_prop.get("title") or key) if sub_prop else str(key)
            parts.append(f"{label}: {show_value(sub, sub_prop, materials)['text']}")
        return {"text": "; ".join(parts) or "—"}
    return {"text": _titled(value, prop, materials)}


# -- forms -----------------------------------------------------------------------------------


def _reorder(schema: Mapping[str, Any], original: Any) -> dict[str, Any]:
    """`schema` with its top-level properties in `original`'s order (PostgreSQL's JSONB keeps
    no key order); as it is when the two differ in their properties."""
    props = schema.get("properties")
    order = original.get("properties") if isinstance(original, Mapping) else None
    declared = schema.get("x-order")  # a generated form's, a SpiffArena ui:order (bundles.md)
    if isinstance(props, Mapping) and isinstance(declared, list) and set(declared) == set(props):
        order = dict.fromkeys(declared)
    if not isinstance(props, Mapping) or not isinstance(order, Mapping) or set(props) != set(order):
        return dict(schema)
    return {**schema, "properties": {k: props[k] for k in order}}


def _ordered_forms(svc: Services, uow: UnitOfWork, version: BundleVersion) -> dict[str, Any]:
    """The version's forms with their fields in the order of their files."""
    found = _ORDERED.get(version.checksum)
    if found is not None:
        return found
    files = uow.bundles.files(version.key, version.version) or {}
    ordered = {}
    for key, schema in version.forms.items():
        raw: Any = next((t for p, t in files.items() if p in (key, f"forms/{key}")), None)
        if raw is None:
            raw = svc.forms.get(key)
        try:
            original = json.loads(raw) if raw is not None else None
        except ValueError:
            original = None
        ordered[key] = _reorder(schema, original)
    if len(_ORDERED) >= _ORDERED_MAX:
        _ORDERED.pop(next(iter(_ORDERED)))
    _ORDERED[version.checksum] = ordered
    return ordered


def _field_order(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[str]:
    """The fields to list: the form's own properties in its order, then those it declares
    elsewhere (if/then...), then the rest of `data` (a form changed since, an engine task)."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    names = [str(k) for k in props] if isinstance(props, Mapping) else []
    declared = sorted(declared_fields(schema) - set(names))
    names += declared
    names += [k for k in data if k not in names]
    return [n for n in names if n in data]


def _prop(schema: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    found = field_schema(schema, name)
    return found if isinstance(found, Mapping) else None


def _title(schema: Mapping[str, Any] | None, name: str) -> str:
    prop = _prop(schema, name)
    title = prop.get("title") if prop else None
    return str(title) if isinstance(title, str) and title else name


def _decision_field(schema: Mapping[str, Any] | None, names: list[str]) -> str | None:
    """The step's decision: the first field with fixed choices titled 决定/结论; else the first
    required yes/no choice."""
    for name in names:
        if _choices(_prop(schema, name)) and any(
            t in _title(schema, name) for t in _DECISION_TITLES
        ):
            return name
    required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
    for name in names:
        prop = _prop(schema, name)
        if name in required and prop is not None and prop.get("type") == "boolean":
            if _choices(prop):
                return name
    return None


def _opinion_field(schema: Mapping[str, Any] | None, names: list[str]) -> str | None:
    for name in names:
        title = _title(schema, name)
        if name.endswith(_OPINION_NAMES) or title.endswith(_OPINION_TITLES):
            return name
    return None


# -- who -------------------------------------------------------------------------------------


def _people(uow: UnitOfWork, actors: set[str]) -> dict[str, str]:
    """Each actor as the record names them: "张敏 (综合窗口)" when the account has a display name
    (`documents.signatures`), else the login name; 系统 and 申请人 for the engine and the
    applicant."""
    staff = documents.signatures(uow, sorted(a for a in actors if a not in ACTOR_NAMES))
    return {a: ACTOR_NAMES.get(a) or staff.get(a, a) for a in actors}


# -- the record ------------------------------------------------------------------------------


def _application(
    version: BundleVersion, forms: Mapping[str, Any], events: list[CaseEvent]
) -> dict[str, Any]:
    """The start form's fields as applied for, with the administrators' corrections applied."""
    schema = forms.get(version.start_form or "") if version.start_form else None
    start = next((e for e in events if e.type == EventType.CASE_STARTED), None)
    values: dict[str, Any] = dict((start.data.get("data") or {}) if start else {})
    own = set(_field_order(schema, values)) | declared_fields(schema)
    for event in events:
        if event.type == EventType.CASE_DATA_CORRECTED:
            for name, change in (event.data.get("fields") or {}).items():
                if name in own and isinstance(change, Mapping) and "new" in change:
                    values[name] = change["new"]
    values.pop("renewal_of", None)  # set by the engine for 无感续证, no field of the form
    return {
        "title": str(schema.get("title") or "申请表") if schema else "申请信息",
        "seq": start.seq if start else None,
        "schema": schema,
        "values": values,
    }


def _fields(
    schema: Mapping[str, Any] | None,
    values: Mapping[str, Any],
    materials: Mapping[str, str],
    seq: int | None,
    labels: Mapping[str, str],
    skip: tuple[str | None, ...] = (),
) -> list[dict[str, Any]]:
    shown = []
    for name in _field_order(schema, values):
        if name in skip:
            continue
        value = show_value(values[name], _prop(schema, name), materials)
        shown.append({"name": name, "label": labels.get(name, _title(schema, name)), **value})
        if "attachment" in value:
            value["attachment"]["seq"] = seq
            value["attachment"]["field"] = name
    return shown


def _same_titles(
    steps: list[tuple[str, Mapping[str, Any] | None, list[str]]],
) -> set[tuple[str, str]]:
    """The (element, field) pairs whose title another task's form uses too (审查结论 in both
    reviews): they are shown with their task's name."""
    owners: dict[str, set[str]] = {}
    for element, schema, names in steps:
        for name in names:
            owners.setdefault(_title(schema, name), set()).add(element)
    return {
        (element, name)
        for element, schema, names in steps
        for name in names
        if len(owners[_title(schema, name)]) > 1
    }


def _dmn_labels(uow: UnitOfWork, version: BundleVersion) -> dict[str, dict[str, str]]:
    """The output labels of every decision in the version's DMN files (read once a version)."""
    found = _DMN_LABELS.get(version.checksum)
    if found is not None:
        return found
    found = {}
    for path, text in (uow.bundles.files(version.key, version.version) or {}).items():
        if path.lower().endswith(".dmn"):
            found.update(dmn_model.output_labels(text))
    if len(_DMN_LABELS) >= _ORDERED_MAX:
        _DMN_LABELS.pop(next(iter(_DMN_LABELS)))
    _DMN_LABELS[version.checksum] = found
    return found


def _decision_steps(
    svc: Services,
    runtime: ProcessRuntime,
    dmn_labels: Mapping[str, Mapping[str, str]],
    forms: Mapping[str, Any],
    data: Mapping[str, Any],
    events: list[CaseEvent],
    materials: Mapping[str, str],
) -> list[tuple[CaseEvent | None, dict[str, Any]]]:
    """What each business rule task that ran decided: the event of the step it ran in (the
    last step that opened a human task after it; None when no step did) and the record's step.
    A decision writes its outputs into the case data (`CaseWorkflow.decisions`), so one that
    ran has all of them there; the values are the latest run's."""
    found: list[tuple[CaseEvent | None, dict[str, Any]]] = []
    tasks = runtime.decision_tasks()
    if not tasks:
        return found
    titles: dict[str, set[str]] = {}  # a text code → the titles the forms give it
    for schema in forms.values():
        for name in declared_fields(schema):
            prop = _prop(schema, name)
            items = prop.get("items") if prop else None
            for choices in (
                _choices(prop),
                _choices(items if isinstance(items, Mapping) else None),
            ):
                for const, title in choices:
                    if isinstance(const, str):
                        titles.setdefault(const, set()).add(title)
    for task in tasks:
        outputs = [task["result_variable"]] if task["result_variable"] else task["outputs"]
        if not outputs or any(name not in data for name in outputs):
            continue
        after = set(task["next"])
        ran_in = next(
            (
                e
                for e in reversed(events)
                if e.type in _STEP_EVENTS and after & set(e.data.get("opened") or ())
            ),
            None,
        )
        labels = dmn_labels.get(task["decision"]) or {}
        decision_name = labels.get("") or task["decision_name"]
        fields = []
        for name in outputs:
            # a form's field of the same name gives its choices' titles; else a code the forms
            # title one way only (the rule "urban_street" is the survey's 城区街道)
            prop = next((p for p in (_prop(f, name) for f in forms.values()) if p), None)
            label = decision_name if name == task["result_variable"] else labels.get(name, name)
            value = data[name]
            if prop is None and isinstance(value, str) and len(titles.get(value, ())) == 1:
                shown = {"text": next(iter(titles[value]))}
            else:
                shown = show_value(value, prop, materials)
            fields.append({"name": name, "label": label, **shown})
        found.append(
            (
                ran_in,
                {
                    "seq": None,  # no event of its own: `after` is the step it ran in
                    "after": ran_in.seq if ran_in is not None else None,
                    "kind": "decision",
                    "element": task["element"],
                    "task": task["name"],
                    "decision_table": decision_name,
                    "actor": "system",
                    "who": ACTOR_NAMES["system"],
                    "at": local_time(svc, ran_in.at) if ran_in is not None else "",
                    "decision": None,
                    "opinion": None,
                    "fields": fields,
                    "undone": None,
                    "note": f"决策表「{decision_name}」自动判定的结果",
                },
            )
        )
    return found


def labelled_data(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """A case's data for reading: the application, the attachments and the completed steps,
    each value in words. For the task pages, the case page, the auditor's history and the
    办件档案 (clerks, auditors, administrators).

    Returns `application` ({title, fields}), `attachments` (each {label, task, seq, field, name,
    size, type}), `steps` (each {seq, element, task, actor, who, at, decision, opinion, fields,
    note}; a business rule task's has `kind` "decision", `decision_table`, no seq and `after`,
    the seq of the step it ran in), `decisions` (element → the latest step's decision text), `labels` (field →
    title, with the task's name where two forms use the same title), `value_titles` (for the
    step slider), `element_names` and `event_labels`."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
        forms = _ordered_forms(svc, uow, version)
        completed = [e for e in events if e.type == EventType.TASK_COMPLETED]
        people = _people(uow, {e.actor for e in completed})
        dmn_labels = _dmn_labels(uow, version)
    names = element_names(runtime)
    materials = {m.code: m.name for m in version.meta.materials}

    application = _application(version, forms, events)
    app_schema = application.pop("schema")
    app_values = application.pop("values")

    # each completed step's form and the fields it wrote
    written: list[tuple[CaseEvent, Mapping[str, Any] | None, dict[str, Any], list[str]]] = []
    for event in completed:
        info = version.human_tasks.get(event.element or "")
        schema = forms.get(info.form) if info and info.form else None
        if schema is None and event.data.get("kind"):  # 整改, 回访: the engine's own forms
            schema = follow_ups.engine_form(event.data["kind"])
            schema = schema or extension.engine_form(event.data["kind"])  # 延期审批 (Art. 42)
        data = event.data.get("form")
        data = dict(data) if isinstance(data, Mapping) else {}
        written.append((event, schema, data, _field_order(schema, data)))
    twins = _same_titles(
        [(e.element or "", s, n) for e, s, _, n in written]
        + [("", app_schema, _field_order(app_schema, app_values))]
    )

    def label(element: str, schema: Mapping[str, Any] | None, name: str) -> str:
        if (element, name) not in twins:
            return _title(schema, name)
        return f"{_title(schema, name)} · {names.get(element, element) if element else '申请'}"

    labels: dict[str, str] = {}
    app_labels = {n: label("", app_schema, n) for n in _field_order(app_schema, app_values)}
    application["fields"] = _fields(
        app_schema, app_values, materials, application["seq"], app_labels
    )
    for name in declared_fields(app_schema):
        labels.setdefault(name, _title(app_schema, name))

    # 退回/撤回 undo the steps completed after the point they rewound to: such a step stays in
    # the record, marked with the event that undid it
    rewinds = [e for e in events if e.type in (EventType.TASK_SENT_BACK, EventType.TASK_RECALLED)]

    def undone(seq: int) -> dict[str, Any] | None:
        for rewind in rewinds:
            if rewind.seq > seq and int(rewind.data.get("rewound_to", seq)) < seq:
                return {
                    "seq": rewind.seq,
                    "label": f"已{rewind.type.label.removesuffix('任务')}, 作废",
                }
        return None

    steps: list[dict[str, Any]] = []
    decisions: dict[str, str] = {}
    for event, schema, data, order in written:
        element = event.element or ""
        step_labels = {n: label(element, schema, n) for n in order}
        for name in declared_fields(schema) | set(order):
            labels.setdefault(name, label(element, schema, name))
        decision = _decision_field(schema, order)
        opinion = _opinion_field(schema, order)
        retry = event.data.get("retry")
        step: dict[str, Any] = {
            "seq": event.seq,
            "element": element,
            "task": names.get(element, element),
            "actor": event.actor,
            "who": people.get(event.actor, event.actor),
            "at": local_time(svc, event.at),
            "decision": None,
            "opinion": None,
            "fields": _fields(schema, data, materials, event.seq, step_labels, (decision, opinion)),
            "undone": undone(event.seq),
            "note": (
                f"{retry.get('note', '代为重试')}: 管理员 {retry.get('by')} 代 {retry.get('for')}"
                if isinstance(retry, Mapping)
                else None
            ),
        }
        if decision is not None:
            shown = show_value(data[decision], _prop(schema, decision), materials)
            step["decision"] = {"name": decision, "label": _title(schema, decision), **shown}
            if step["undone"] is None:
                decisions[element] = shown["text"]
        if opinion is not None:
            shown = show_value(data[opinion], _prop(schema, opinion), materials)
            step["opinion"] = {"name": opinion, "label": _title(schema, opinion), **shown}
        steps.append(step)
    # the business rule tasks' decisions, each after the step it ran in
    position = {id(step): (step["seq"], 0) for step in steps}
    for ran_in, step in _decision_steps(
        svc, runtime, dmn_labels, forms, case.data, events, materials
    ):
        step["undone"] = undone(ran_in.seq) if ran_in is not None else None
        position[id(step)] = (ran_in.seq, 1) if ran_in is not None else (1 << 62, 1)
        steps.append(step)
    steps.sort(key=lambda step: position[id(step)])

    attachments = [
        {"label": f["label"], "task": application["title"], **f["attachment"]}
        for f in application["fields"]
        if "attachment" in f
    ]
    for step in steps:
        for f in step["fields"]:
            if "attachment" in f:
                attachments.append({"label": f["label"], "task": step["task"], **f["attachment"]})
    return {
        "case_id": case_id,
        "application": application,
        "attachments": attachments,
        "steps": steps,
        "decisions": decisions,
        "labels": labels,
        "value_titles": _value_titles(version, forms),
        # for the 办件档案's event log: elements and event types by name
        "element_names": names,
        "event_labels": {str(t): t.label for t in EventType},
    }


def _value_titles(version: BundleVersion, forms: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """For the auditor's step slider (its script shows whole case data): field → {the value as
    JSON → its title}, for every field with fixed choices, booleans and material codes."""
    titles: dict[str, dict[str, str]] = {}
    materials = {m.code: m.name for m in version.meta.materials}
    for schema in forms.values():
        for name in declared_fields(schema):
            prop = _prop(schema, name)
            found = titles.setdefault(name, {})
            for const, title in _choices(prop):
                found.setdefault(json.dumps(const, ensure_ascii=False), title)
            items = prop.get("items") if prop else None
            for const, title in _choices(items if isinstance(items, Mapping) else None):
                found.setdefault(json.dumps(const, ensure_ascii=False), title)
            if prop is not None and prop.get("type") == "boolean":
                found.setdefault("true", "是")
                found.setdefault("false", "否")
            if not found:
                titles.pop(name)
    for code, name in materials.items():
        titles.setdefault("*", {})[json.dumps(code, ensure_ascii=False)] = name
    return titles


def attachment(
    svc: Services, user: User, case_id: int, seq: int, field: str
) -> tuple[str, str, bytes]:
    """(media type, file name, bytes) of the file a step stored in `field`: the start data
    (`case_started`) or a completed task's form. The media type is the declared one only for
    images and PDF; anything else is served as bytes to download."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        uow.cases.existing(case_id)
        event = next((e for e in uow.cases.events(case_id) if e.seq == seq), None)
    data: Any = None
    if event is not None and event.type == EventType.CASE_STARTED:
        data = event.data.get("data")
    elif event is not None and event.type == EventType.TASK_COMPLETED:
        data = event.data.get("form")
    elif event is not None and event.type == EventType.CASE_COMMENTED:  # 评论 (issue 18 · 9)
        data = {str(i): v for i, v in enumerate(event.data.get("attachments") or [])}
    value = data.get(field) if isinstance(data, Mapping) else None
    found = _data_url(value)
    if found is None or not isinstance(value, str):
        raise NotFound(f"办件 {case_id} 第 {seq} 步没有附件 {field}")
    kind, name, _ = found
    body = value[_DATA_URL.match(value).end() :]  # type: ignore[union-attr]
    params = value[: len(value) - len(body)]
    try:
        content = (
            base64.b64decode(body, validate=True)
            if "base64" in params
            else unquote(body).encode("utf-8")
        )
    except (binascii.Error, ValueError):
        raise NotFound(f"附件 {field} 无法读取") from None
    return (kind if kind in _SHOWN_TYPES else "application/octet-stream"), name, content
