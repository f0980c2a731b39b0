"""What changed in the process: elements added, removed, or with a property changed."""

from __future__ import annotations

from typing import Any

from .elements import Element
from .model import Change

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
    "candidate_users": "候选人",
    "assignee": "指定办理人",
    "form": "表单",
    "properties": "扩展属性",
    "timer": "定时器",
    "called": "调用的流程",
    "decision": "决策",
    "attached": "附着于",
    "documentation": "说明",
}


def process_changes(
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
