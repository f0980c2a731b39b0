"""What changed between two versions of a bundle: the process, its forms, its bundle.json.

Both sides are read from what a version stores: its uploaded files (the BPMN is parsed with the
safe parser of engine/bpmn/xml.py), the forms it resolved at deploy time and its metadata. Elements
are matched by id: an id only on one side is added or removed; on both sides each property that
differs (name, type, flow ends, condition, groups, form, lane, ...) is one change. Every change is
said in Chinese, ready for the compare page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.bpmn import manifest
from engine.bpmn.namespaces import BPMN, CAMUNDA, NSMAP, local_name, tag
from engine.bpmn.xml import XmlProblem, parse_xml
from engine.domain.bundles import TimePolicy

TYPE_NAMES = {
    "userTask": "用户任务",
    "manualTask": "人工任务",
    "task": "任务",
    "businessRuleTask": "业务规则任务",
    "callActivity": "调用活动",
    "subProcess": "子流程",
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件",
    "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关",
    "sequenceFlow": "顺序流",
    "lane": "泳道",
    "dataObjectReference": "数据对象",
    "dataStoreReference": "数据存储",
    "textAnnotation": "注释",
}
# Elements of a process that are not compared as elements of their own.
_SKIPPED = {"laneSet", "dataObject", "association", "documentation", "extensionElements"}
_TIMERS = ("timeDate", "timeDuration", "timeCycle")
# The properties compared, with their Chinese label, in the order they are listed.
_FIELDS = {
    "type": "类型",
    "name": "名称",
    "source": "起点",
    "target": "终点",
    "condition": "条件",
    "default": "默认流",
    "lane": "泳道",
    "groups": "办理组",
    "assignee": "指定办理人",
    "form": "表单",
    "properties": "扩展属性",
    "timer": "定时器",
    "called": "调用的流程",
    "decision": "决策",
    "attached": "附着于",
    "documentation": "说明",
}


def type_name(local: str) -> str:
    return TYPE_NAMES.get(local, local)


@dataclass(frozen=True)
class Element:
    """One element of a process as the comparison sees it."""

    id: str
    type: str
    values: dict[str, str]

    @property
    def name(self) -> str:
        return self.values.get("name", "")

    @property
    def label(self) -> str:
        """`用户任务 '一窗受理' (intake)`: how a change names the element."""
        shown = f" '{self.name}'" if self.name else ""
        return f"{type_name(self.type)}{shown} ({self.id})"


@dataclass(frozen=True)
class Change:
    """One difference. `kind`: added, removed or changed; `what`: the Chinese sentence."""

    section: str  # process | forms | metadata | files
    kind: str
    what: str
    subject: str = ""  # the element id, form key, item or material code, file path
    before: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "kind": self.kind,
            "what": self.what,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class VersionContent:
    """What the comparison reads of one version."""

    files: dict[str, str]
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BundleDiff:
    process: list[Change]
    forms: list[Change]
    metadata: list[Change]
    files: list[Change]
    changed_a: list[str]  # element ids to mark on the older diagram (removed or changed)
    changed_b: list[str]  # element ids to mark on the newer diagram (added or changed)
    unreadable: list[str]  # BPMN files that could not be parsed (compared as text only)

    @property
    def empty(self) -> bool:
        return not (self.process or self.forms or self.metadata or self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "process": [c.to_dict() for c in self.process],
            "forms": [c.to_dict() for c in self.forms],
            "metadata": [c.to_dict() for c in self.metadata],
            "files": [c.to_dict() for c in self.files],
            "changed_a": self.changed_a,
            "changed_b": self.changed_b,
            "unreadable": self.unreadable,
        }


# Reading the elements of BPMN documents ------------------------------------------------------


def _text(node: etree._Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def _element(node: etree._Element, lanes: dict[str, str], tasks: dict[str, Any]) -> Element:
    local = local_name(str(node.tag))
    values: dict[str, str] = {"type": local}
    name = " ".join((node.get("name") or "").split())
    if name:
        values["name"] = name
    if local == "sequenceFlow":
        values["source"] = node.get("sourceRef", "")
        values["target"] = node.get("targetRef", "")
        condition = _text(node.find(tag(BPMN, "conditionExpression")))
        if condition:
            values["condition"] = condition
    if node.get("default"):
        values["default"] = node.get("default", "")
    element_id = node.get("id", "")
    if element_id in lanes and local != "lane":
        values["lane"] = lanes[element_id]
    info = tasks.get(element_id)
    if info is not None:
        values["groups"] = "、".join(info.groups)
        if info.assignee:
            values["assignee"] = info.assignee
        if info.form:
            values["form"] = info.form
        if info.properties:
            values["properties"] = ", ".join(f"{k}={v}" for k, v in sorted(info.properties.items()))
    elif local == "startEvent":
        form = manifest.form_key(node)
        if form:
            values["form"] = form
    timers = [
        f"{t}: {_text(found)}"
        for t in _TIMERS
        for found in node.iterfind(f"./bpmn:timerEventDefinition/bpmn:{t}", NSMAP)
    ]
    if timers:
        values["timer"] = "; ".join(timers)
    if node.get("calledElement"):
        values["called"] = node.get("calledElement", "")
    decision = node.get(tag(CAMUNDA, "decisionRef"))
    if decision:
        values["decision"] = decision
    if node.get("attachedToRef"):
        values["attached"] = node.get("attachedToRef", "")
    documentation = _text(node.find(tag(BPMN, "documentation")))
    if documentation:
        values["documentation"] = documentation
    return Element(element_id, local, values)


def read_elements(xml: bytes) -> dict[str, Element]:
    """The elements of every process of a BPMN document, by id. Raises XmlProblem."""
    root = parse_xml(xml).getroot()
    lanes = manifest.lanes_by_element(root)
    tasks = {info.element: info for info in manifest.read_human_tasks(root)}
    found: dict[str, Element] = {}
    for process in root.iter(tag(BPMN, "process")):
        for node in process.iter(etree.Element):
            if node is process or not isinstance(node.tag, str):
                continue
            if etree.QName(node).namespace != BPMN or not node.get("id"):
                continue
            local = etree.QName(node).localname
            if local in _SKIPPED or local.endswith("EventDefinition"):
                continue
            found[node.get("id", "")] = _element(node, lanes, tasks)
    return found


def _bpmn_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.lower().endswith((".bpmn", ".bpmn20.xml"))}


def _all_elements(files: dict[str, str], unreadable: list[str]) -> dict[str, Element]:
    found: dict[str, Element] = {}
    for path, text in sorted(_bpmn_files(files).items()):
        try:
            found.update(read_elements(text.encode("utf-8")))
        except XmlProblem:
            unreadable.append(path)
    return found


# Comparing ------------------------------------------------------------------------------------


def _process_changes(
    a: dict[str, Element],
    b: dict[str, Element],
    forms_a: dict[str, dict[str, Any]],
    forms_b: dict[str, dict[str, Any]],
) -> tuple[list[Change], list[str], list[str]]:
    changes: list[Change] = []
    marked_a: list[str] = []
    marked_b: list[str] = []
    for element_id in sorted(a.keys() | b.keys(), key=lambda i: _order(i, a, b)):
        old, new = a.get(element_id), b.get(element_id)
        if old is None and new is not None:
            changes.append(Change("process", "added", f"新增{new.label}", element_id))
            marked_b.append(element_id)
            continue
        if new is None and old is not None:
            changes.append(Change("process", "removed", f"删除{old.label}", element_id))
            marked_a.append(element_id)
            continue
        assert old is not None and new is not None
        found = False
        for key, label in _FIELDS.items():
            before, after = old.values.get(key), new.values.get(key)
            if before == after:
                continue
            found = True
            verb = "改名" if key == "name" and before and after else f"{label}变更"
            changes.append(
                Change("process", "changed", f"{new.label}: {verb}", element_id, before, after)
            )
        form = new.values.get("form")
        if form and form == old.values.get("form") and forms_a.get(form) != forms_b.get(form):
            found = True
            changes.append(
                Change("process", "changed", f"{new.label}: 表单 {form} 的内容有变化", element_id)
            )
        if found:
            marked_a.append(element_id)
            marked_b.append(element_id)
    return changes, marked_a, marked_b


def _order(element_id: str, a: dict[str, Element], b: dict[str, Element]) -> tuple[int, str]:
    """Flow nodes first, then flows, then lanes; by id within each."""
    element = b.get(element_id) or a[element_id]
    rank = {"sequenceFlow": 1, "lane": 2}.get(element.type, 0)
    return rank, element_id


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _options(schema: dict[str, Any]) -> list[str] | None:
    """A field's choices as `value 标题`, from enum or oneOf/anyOf consts (also of array items)."""
    for source in (schema, schema.get("items") or {}):
        if not isinstance(source, dict):
            continue
        if "enum" in source:
            return [_show(v) for v in source["enum"]]
        for key in ("oneOf", "anyOf"):
            choices = source.get(key)
            if isinstance(choices, list) and all(
                isinstance(c, dict) and "const" in c for c in choices
            ):
                return [f"{_show(c['const'])} {c.get('title', '')}".strip() for c in choices]
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
                    _show(old[facet]) if facet in old else None,
                    _show(new[facet]) if facet in new else None,
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
                _show(rest_old),
                _show(rest_new),
            )
        )
    return changes


def _users_of(form: str, elements: dict[str, Element]) -> str:
    names = [
        e.values.get("name") or e.id for e in elements.values() if e.values.get("form") == form
    ]
    return "、".join(names)


def _form_changes(
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
                    _show(others_old),
                    _show(others_new),
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


def _days(value: int | None) -> str | None:
    return None if value is None else f"{value} 个工作日"


_POLICY = (
    ("limit", "承诺时限", _days),
    ("statutory_limit", "法定时限", _days),
    ("starts_at", "开始计时的环节 (受理)", lambda v: v),
    ("warning", "预警提前量", _days),
    ("escalation_group", "督办组", lambda v: v),
)
_ITEM_FIELDS = {
    "name": "名称",
    "department": "承办部门",
    "promised_workdays": "承诺时限 (工作日)",
    "statutory_workdays": "法定时限 (工作日)",
    "certificate": "证照设置",
}
_MATERIAL_FIELDS = {
    "name": "名称",
    "required": "是否必须",
    "deferrable": "可否容缺",
    "note": "说明",
}
_BOOLEAN_WORDS = {
    "required": ("必须", "非必须"),
    "deferrable": ("可容缺", "不可容缺"),
}


def _coded(entries: Any) -> dict[str, dict[str, Any]]:
    return {str(e["code"]): e for e in entries or [] if isinstance(e, dict) and "code" in e}


def _metadata_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for key, label in (("name", "事项包名称"), ("description", "事项说明"), ("issuer", "发证机关")):
        if a.get(key) != b.get(key):
            changes.append(
                Change("metadata", "changed", f"{label}变更", key, a.get(key), b.get(key))
            )
    policy_a, policy_b = TimePolicy.from_metadata(a), TimePolicy.from_metadata(b)
    for attr, label, show in _POLICY:
        before, after = getattr(policy_a, attr), getattr(policy_b, attr)
        if before != after:
            changes.append(
                Change("metadata", "changed", f"{label}变更", attr, show(before), show(after))
            )
    for section, noun, fields, entries_a, entries_b in (
        ("items", "事项", _ITEM_FIELDS, a.get("items"), b.get("items")),
        ("materials", "材料", _MATERIAL_FIELDS, a.get("materials"), b.get("materials")),
    ):
        old_all, new_all = _coded(entries_a), _coded(entries_b)
        for code in list(new_all) + [c for c in old_all if c not in new_all]:
            old, new = old_all.get(code), new_all.get(code)
            if old == new:
                continue
            if old is None or new is None:
                entry = new if new is not None else old
                assert entry is not None
                kind = "added" if new is not None else "removed"
                verb = "新增" if new is not None else "删除"
                extra = ""
                if section == "materials":
                    extra = " (" + _material_marks(entry) + ")"
                changes.append(
                    Change(
                        "metadata",
                        kind,
                        f"{verb}{noun} '{entry.get('name', code)}' ({code}){extra}",
                        f"{section}:{code}",
                    )
                )
                continue
            for key, label in fields.items():
                before, after = old.get(key), new.get(key)
                if key in _BOOLEAN_WORDS:
                    default = key == "required"
                    before = old.get(key, default)
                    after = new.get(key, default)
                if before == after:
                    continue
                words = _BOOLEAN_WORDS.get(key)
                changes.append(
                    Change(
                        "metadata",
                        "changed",
                        f"{noun} '{new.get('name', code)}' ({code}): {label}变更",
                        f"{section}:{code}",
                        _word(before, words),
                        _word(after, words),
                    )
                )
    known = {"key", "name", "description", "issuer", "items", "materials", "time_limits", "process"}
    for key in sorted((a.keys() | b.keys()) - known):
        if a.get(key) != b.get(key):
            changes.append(
                Change(
                    "metadata",
                    "changed",
                    f"bundle.json 的 {key} 设置变更",
                    key,
                    None if key not in a else _show(a[key]),
                    None if key not in b else _show(b[key]),
                )
            )
    if a.get("process") != b.get("process"):
        changes.append(
            Change(
                "metadata", "changed", "主流程变更", "process", a.get("process"), b.get("process")
            )
        )
    return changes


def _word(value: Any, words: tuple[str, str] | None) -> str | None:
    if value is None:
        return None
    if words is not None and isinstance(value, bool):
        return words[0] if value else words[1]
    return _show(value)


def _material_marks(entry: dict[str, Any]) -> str:
    required = "必须" if entry.get("required", True) else "非必须"
    return required + ("、可容缺" if entry.get("deferrable", False) else "")


def _file_changes(a: dict[str, str], b: dict[str, str]) -> list[Change]:
    changes = []
    for path in sorted(a.keys() | b.keys()):
        if path not in a:
            changes.append(Change("files", "added", f"新增文件 {path}", path))
        elif path not in b:
            changes.append(Change("files", "removed", f"删除文件 {path}", path))
        elif a[path] != b[path]:
            changes.append(Change("files", "changed", f"文件 {path} 有修改", path))
    return changes


def diff_versions(a: VersionContent, b: VersionContent) -> BundleDiff:
    """Everything that changed from version `a` to version `b`."""
    unreadable: list[str] = []
    elements_a = _all_elements(a.files, unreadable)
    elements_b = _all_elements(b.files, unreadable)
    process, marked_a, marked_b = _process_changes(elements_a, elements_b, a.forms, b.forms)
    return BundleDiff(
        process=process,
        forms=_form_changes(a.forms, b.forms, elements_a, elements_b),
        metadata=_metadata_changes(a.metadata, b.metadata),
        files=_file_changes(a.files, b.files),
        changed_a=marked_a,
        changed_b=marked_b,
        unreadable=sorted(set(unreadable)),
    )
