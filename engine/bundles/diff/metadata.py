"""What changed in bundle.json (time limits, items, materials) and in the uploaded files."""

from __future__ import annotations

from typing import Any

from engine.domain.bundle_metadata import BundleMetadata

from .model import Change, show


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


def metadata_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for key, label in (("name", "事项包名称"), ("description", "事项说明"), ("issuer", "发证机关")):
        if a.get(key) != b.get(key):
            changes.append(
                Change("metadata", "changed", f"{label}变更", key, a.get(key), b.get(key))
            )
    policy_a = BundleMetadata.from_dict(a).time_policy
    policy_b = BundleMetadata.from_dict(b).time_policy
    for attr, label, describe in _POLICY:
        before, after = getattr(policy_a, attr), getattr(policy_b, attr)
        if before != after:
            changes.append(
                Change(
                    "metadata", "changed", f"{label}变更", attr, describe(before), describe(after)
                )
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
                    None if key not in a else show(a[key]),
                    None if key not in b else show(b[key]),
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
    return show(value)


def _material_marks(entry: dict[str, Any]) -> str:
    required = "必须" if entry.get("required", True) else "非必须"
    return required + ("、可容缺" if entry.get("deferrable", False) else "")


def file_changes(a: dict[str, str], b: dict[str, str]) -> list[Change]:
    changes = []
    for path in sorted(a.keys() | b.keys()):
        if path not in a:
            changes.append(Change("files", "added", f"新增文件 {path}", path))
        elif path not in b:
            changes.append(Change("files", "removed", f"删除文件 {path}", path))
        elif a[path] != b[path]:
            changes.append(Change("files", "changed", f"文件 {path} 有修改", path))
    return changes
