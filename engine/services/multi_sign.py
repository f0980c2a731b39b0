"""会签 / 或签: who signs each instance of a multi-instance user task, and how far it has got.

The engine side (counting signatures, the completion condition, the outcome written to the case
data) is engine/bpmn/multi_sign.py. Here: each instance becomes its own `HumanTask`, whose
assignee or group comes from its collection item, as the designer wrote it on the task in
Camunda's (and Flowable's) spelling:

- `camunda:assignee="${signer}"`: the instance is assigned to the user named by the item (the
  task's candidate groups, or its lane, still say which department's list shows it);
- `camunda:candidateGroups="${department}"`: the instance belongs to the group named by the item;
- an item that is an object: its `assignee` and `group` keys.

`signer` / `department` is the `inputDataItem` id of the task's multiInstanceLoopCharacteristics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.domain.bundle_versions import HumanTaskInfo
from engine.domain.model import CaseStatus, HumanTask
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from engine.bpmn.runtime import ProcessRuntime
    from engine.domain.bundle_versions import BundleVersion

    from .context import Services

# `${name}` or `#{name}`: the instance's item (checked at upload: the task's inputDataItem)
ITEM_REFERENCE = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$")
MAX_NAME = 100  # what the task table stores of a group or an assignee (bundles/checks.py)


def item_reference(value: str | None) -> str | None:
    """The variable an assignee or group refers to (`${signer}` → signer), else None."""
    found = ITEM_REFERENCE.match(value or "")
    return found.group(1) if found else None


def _name(value: Any, what: str, element: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        message = f"会签/或签 '{element}' 的{what}必须是非空文本, 不能是 {value!r:.60}"
        raise Invalid(message, [{"message": message, "field": element}])
    text = str(value).strip()
    if len(text) > MAX_NAME:
        message = f"会签/或签 '{element}' 的{what}过长 ({len(text)} 个字符, 上限 {MAX_NAME})"
        raise Invalid(message, [{"message": message, "field": element}])
    return text


def instance_people(
    info: HumanTaskInfo | None, item: Any, element: str
) -> tuple[tuple[str, ...] | None, str | None]:
    """(groups, assignee) of one instance created for `item`; groups None: the task's own."""
    if item is None or info is None:
        return None, None
    groups: tuple[str, ...] | None = None
    assignee: str | None = None
    if isinstance(item, Mapping):
        if item.get("group") is not None:
            groups = (_name(item["group"], "办理组", element),)
        if item.get("assignee") is not None:
            assignee = _name(item["assignee"], "办理人", element)
        return groups, assignee
    if item_reference(info.assignee):
        assignee = _name(item, "办理人", element)
    if any(item_reference(g) for g in info.groups):
        value = _name(item, "办理组", element)
        groups = tuple(value if item_reference(g) else g for g in info.groups)
    return groups, assignee


def label(progress: Mapping[str, Any] | None) -> str | None:
    """The progress as shown: "会签 (1/3)", "或签 (0/2)", "依次会签 (2/3)"; None for a task that is
    not one (`progress`: `CaseWorkflow.sign_progress` of the task's element)."""
    if not progress:
        return None
    kind = "或签" if progress.get("any_one") else "会签"
    if progress.get("sequential"):
        kind = "依次" + kind
    return f"{kind} ({progress['signed']}/{progress['total']})"


def signs_ended(
    ended: list[dict[str, Any]], open_before: Mapping[str, str], open_after: list[HumanTask]
) -> list[dict[str, Any]]:
    """What a step records of the 会签/或签 it ended early (`CaseWorkflow.signs_ended`): each
    {"element", "result", "cancelled": ids of its instances' tasks cancelled unsigned}."""
    still = {t.id for t in open_after}
    return [
        {
            **found,
            "cancelled": sorted(
                task_id
                for task_id, element in open_before.items()
                if element == found["element"] and task_id not in still
            ),
        }
        for found in ended
    ]


def case_progress(svc: Services, user: User, case_id: int) -> dict[str, dict[str, Any]]:
    """Each 会签/或签 the case is in, by element: {"label" ("会签 (1/3)"), "signed", "total",
    "sequential", "approvals", "rejections", "any_one"} (for the task and case pages)."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        if case.status != CaseStatus.RUNNING or not case.state:
            return {}
        _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    found = runtime.load(case.state).sign_progress()
    return {element: {**p, "label": label(p)} for element, p in found.items()}


SIGNERS_PROPERTY = "signers"


def diagram_signers(version: BundleVersion, runtime: ProcessRuntime) -> dict[str, list[str]]:
    """Signers fixed in the diagram: a 会签/或签 task's `signers` property ("fire_dept,
    health_dept"), as the case data field its loop reads (loopDataInputRef) → the list. A new
    case gets them with its start data (`cases.start_case`), so the record and a replay hold
    them like any other data."""
    collections = runtime.sign_collections()
    found: dict[str, list[str]] = {}
    for element, info in version.human_tasks.items():
        value = info.properties.get(SIGNERS_PROPERTY)
        field = collections.get(element)
        if value and field:
            found[field] = [s.strip() for s in value.split(",") if s.strip()]
    return found
