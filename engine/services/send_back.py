"""退回 (send a case back to an earlier task) and 撤回 (take back a task I completed).

Both rewind the case: its workflow and data become what they were just before the earlier task
was completed, re-executed from the case's record exactly as the audit re-executes it
(`audit.rebuild`), and the case goes on from there. Nothing is deleted: the history keeps every
step, the earlier round's tasks keep their rows, and the tasks opened again get new ids (their
earlier round is still readable under the old ones). The event records the point rewound to and
the new ids, so the audit's re-execution repeats the rewind exactly.

Why not SpiffWorkflow's `reset_from_task_id`: the live tree is compacted (finished past cut
away, engine/bpmn/compaction.py), so the earlier task is often no longer in it; and a reset past
a waiting timer breaks the next step (docs/engine-guards.md, bug 3). Re-executing the record
needs neither the old tree nor a reset.

What a rewind means for 并联审批: the case goes back in time. Work done after the earlier task
was completed is opened again, in every branch (a review that already decided decides again, on
the case as it now stands, with its earlier decision shown); work done before it is kept. So a
send-back from a review to 一窗受理 re-opens both reviews; a send-back from 现场踏勘 to 食品经营许可审查
keeps the 营业执照审查 if it was decided first, and re-opens it if it was decided after.

A rewind is refused past a step it cannot undo: a timer that fired, certificates issued or
revoked, a migration to another version, a data correction, an incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.bpmn.errors import StepFailed
from engine.bpmn.ids import next_task_id, task_ids
from engine.domain.audit import canonical_data
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import (
    Case,
    CaseEvent,
    CaseStatus,
    EventType,
    HumanTask,
    TaskKind,
    TaskStatus,
)
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.forms import InputLimits
from engine.persistence.unit_of_work import UnitOfWork

from . import audit
from .cases import _locked
from .context import Services, Step
from .intake import applying, check_applying
from .steps import engine_step, record_step, retrying, step_failed
from .submissions import check_case_data, check_submission, check_values
from .suspended import require_workable

# Steps a rewind cannot undo (what they did outside the workflow stands, or they changed what
# the record re-executes on).
_IRREVERSIBLE = {
    EventType.TIMER_FIRED: "定时事件已触发",
    EventType.CERTIFICATES_ISSUED: "证照已发出",
    EventType.CERTIFICATES_REVOKED: "证照已撤销",
    EventType.CERTIFICATE_CANCELLED: "证照已注销",
    EventType.CASE_MIGRATED: "办件已迁移到新版本",
    EventType.CASE_DATA_CORRECTED: "办件数据已被更正",
    EventType.INCIDENT_RAISED: "办件曾出错停止",
}
# What may follow a completion that its completer can still take back: the clock and
# reminders the same step recorded, and events that do not touch the work.
_RECALL_KEEPS = {
    EventType.CLOCK_STARTED,
    EventType.CLOCK_PAUSED,
    EventType.CLOCK_RESUMED,
    EventType.CLOCK_STOPPED,
    EventType.CASE_WARNING,
    EventType.CASE_OVERDUE,
    EventType.TASK_OVERDUE,
    EventType.TASK_URGED,
    EventType.CASE_COPIED,
    EventType.COPY_READ,
    EventType.CASE_COMMENTED,
    EventType.CASE_SUSPENDED,  # a suspension since, now lifted, did no work
    EventType.CASE_UNSUSPENDED,
    EventType.INTAKE_WARNING,  # notices of a limit coming near
    EventType.TASK_WARNING,
    EventType.PRELIMINARY_STARTED,  # the clocks' own records, as clock_started (Art. 43)
    EventType.CASE_FORWARDED,
}
REASON_MAX = 2000
# `send_back` on a user task (camunda:properties / spiffworkflow:properties): "false" forbids
# 退回 from it; a comma-separated list of user task ids limits the targets; absent: any
# earlier task of the path the case took.
PROPERTY = "send_back"


def required_reason(reason: Any, what: str, limits: InputLimits) -> str:
    """The reason an operation must give ("请填写退回原因"): text, trimmed, within the limits."""
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(f"请填写{what}原因", [{"message": f"请填写{what}原因", "field": "reason"}])
    if len(reason) > REASON_MAX:
        message = f"{what}原因不能超过 {REASON_MAX} 字"
        raise Invalid(message, [{"message": message, "field": "reason"}])
    check_values({"reason": reason}, None, limits)
    return reason.strip()


def _completions(events: list[CaseEvent]) -> dict[str, CaseEvent]:
    """The completion event of each completed diagram task, by task id."""
    return {
        str(e.task_id): e
        for e in events
        if e.type == EventType.TASK_COMPLETED and e.task_id and "kind" not in e.data
    }


def _blocker(events: list[CaseEvent], after_seq: int) -> str | None:
    for event in events[after_seq:]:
        if event.type in _IRREVERSIBLE:
            return f"第 {event.seq} 步{_IRREVERSIBLE[event.type]}"
    return None


def _allowed_targets(version: BundleVersion, element: str) -> set[str] | None:
    """The elements a task may be sent back to (None: any earlier one); empty: 退回 forbidden."""
    info = version.human_tasks.get(element)
    value = (info.properties.get(PROPERTY) if info else None) or ""
    value = value.strip()
    if not value:
        return None
    if value.lower() in ("false", "no", "0", "否"):
        return set()
    return {part.strip() for part in value.split(",") if part.strip()}


def _opened_seq(events: list[CaseEvent], task: HumanTask) -> int:
    """The seq of the step that opened `task`: the last engine step at or before its opening."""
    opened = 0
    for event in events:
        if task.created_at is not None and event.at > task.created_at:
            break
        if event.type in audit.ENGINE_EVENTS and task.element in event.data.get("opened", []):
            opened = event.seq
    return opened


def _candidates(
    version: BundleVersion, events: list[CaseEvent], task: HumanTask
) -> list[dict[str, Any]]:
    """The earlier tasks `task` may be sent back to: each element's latest completion before
    `task` was opened, on the path the case took, within the designer's limits."""
    allowed = _allowed_targets(version, task.element)
    if allowed is not None and not allowed:
        return []
    opened = _opened_seq(events, task)
    latest: dict[str, CaseEvent] = {}
    for event in _completions(events).values():
        if event.seq <= opened and event.element and event.element != task.element:
            if event.element not in latest or latest[event.element].seq < event.seq:
                latest[event.element] = event
    correction = _correction_target(version, allowed)
    found = []
    for element, event in sorted(latest.items(), key=lambda item: item[1].seq):
        if allowed is not None and element not in allowed or element == correction:
            continue
        info = version.human_tasks.get(element)
        found.append(
            {
                "element": element,
                "name": info.name if info else element,
                "completed_by": event.actor,
                "completed_at": event.at.isoformat(),
                "seq": event.seq,
                "blocked": _blocker(events, event.seq - 1),
                "correction": False,
            }
        )
    window = version.meta.intake.element
    if correction is not None and window in latest:  # 退回申请人补正: 一窗受理 decides 补正 anew
        event = latest[window]
        info = version.human_tasks.get(correction)
        found.append(
            {
                "element": correction,
                "name": f"{info.name if info else correction} (退回申请人补正)",
                "completed_by": event.actor,
                "completed_at": event.at.isoformat(),
                "seq": event.seq,
                "blocked": _blocker(events, event.seq - 1),
                "correction": True,
            }
        )
    return found


def _correction_target(version: BundleVersion, allowed: set[str] | None) -> str | None:
    """The bundle's 补正 task when the designer lets this task send the case to the applicant
    for 补正 (its `send_back` names it; bundle.json `intake.correction_element`)."""
    correction = version.meta.intake.correction_element
    return correction if correction and allowed and correction in allowed else None


def targets(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    """Where the holder of an open task may send it back, and why a target is not possible."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        task.check_can_complete(user)
        case = uow.cases.existing(task.case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case.id)
    if task.kind != TaskKind.BPMN:
        return {"task_id": task_id, "allowed": False, "targets": []}
    allowed = _allowed_targets(version, task.element)
    return {
        "task_id": task_id,
        "allowed": allowed is None or bool(allowed),
        "targets": _candidates(version, events, task),
    }


def _rewind(
    step_svc: Services,
    uow: UnitOfWork,
    case: Case,
    events: list[CaseEvent],
    to_seq: int,
    keep_open: list[HumanTask],
) -> tuple[Any, dict[str, Any], dict[str, str], dict[str, str], dict[str, str]]:
    """Rebuild the case as it stood after event `to_seq`; give its unfinished tasks that are
    not among `keep_open` new ids. Returns the workflow, the data, the renaming, its part for
    the ready tasks (opened again) and who did each of those before (their assignee again)."""
    workflow, data = audit.rebuild(step_svc, uow, case, events, to_seq)
    kept = {t.id for t in keep_open}
    ready = {t.id for t in workflow.ready_tasks()}
    renamed: dict[str, str] = {}
    reopened: dict[str, str] = {}  # the ready ones: the tasks opened again, old id → new
    assign: dict[str, str] = {}
    # every unfinished task but those kept open: the predicted ones too, since the earlier
    # round may have reached them (rows, timer jobs) under the ids they still carry
    for old_id in workflow.unfinished_ids():
        if old_id in kept:
            continue
        new_id = str(next_task_id())
        renamed[old_id] = new_id
        if old_id not in ready:
            continue
        reopened[old_id] = new_id
        earlier = uow.tasks.get(old_id)
        if earlier is not None and earlier.status == TaskStatus.COMPLETED and earlier.ended_by:
            assign[new_id] = earlier.ended_by
    workflow.rename_tasks(renamed)
    return workflow, data, renamed, reopened, assign


def send_back(
    svc: Services, user: User, task_id: str, target: Any, reason: Any, materials: Any = None
) -> dict[str, Any]:
    """退回: the holder of an open task sends the case back to an earlier task of its path; or,
    where the bundle allows it, to the applicant for 补正 (`materials`: what to correct):
    一窗受理's acceptance is undone and 补正 decided in its place, in this one step."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以退回任务")
    reason = required_reason(reason, "退回", svc.limits)
    if not isinstance(target, str) or not target:
        message = "请选择退回到哪个环节"
        raise Invalid(message, [{"message": message, "field": "target"}])

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            task.check_can_complete(user)
            if task.kind != TaskKind.BPMN:
                raise Conflict("督办、整改和回访任务不能退回")
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            assert open_tasks is not None
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            events = uow.cases.events(case.id)
            if _allowed_targets(version, task.element) == set():
                raise Forbidden(f"流程设计不允许从「{task.name}」退回")
            found = next(
                (c for c in _candidates(version, events, task) if c["element"] == target), None
            )
            if found is None:
                message = f"不能从「{task.name}」退回到 {target}: 只能退回到本办件此前办理过、流程允许的环节"
                raise Invalid(message, [{"message": message, "field": "target"}])
            if found["blocked"]:
                raise Conflict(f"不能退回到「{found['name']}」: {found['blocked']}, 无法回到此前")
            now = svc.clock()
            keep = [t for t in open_tasks if t is not task and t.kind == TaskKind.BPMN]
            correction: dict[str, Any] | None = None
            try:
                with engine_step(svc, uow, case):
                    workflow, data, renamed, reopened, assign = _rewind(
                        svc, uow, case, events, int(found["seq"]) - 1, keep
                    )
                    if found["correction"]:
                        correction = _decide_correction(
                            svc, case, version, workflow, data, materials, now
                        )
                        data = correction.pop("data")
                        reopened, assign = {}, {}
            except StepFailed as err:
                raise step_failed(err) from None
            task.end(TaskStatus.CANCELLED, user.name, now)
            uow.tasks.save(task)
            case.data = data
            extra = {"correction": correction} if correction is not None else {}
            view = record_step(
                Step(svc, uow, case, version, workflow, user.name, now),
                EventType.TASK_SENT_BACK,
                task,
                {
                    "target": target,
                    "target_name": found["name"],
                    "reason": reason,
                    "rewound_to": int(found["seq"]) - 1,
                    "renamed": renamed,
                    "reopened": reopened,
                    **extra,
                },
                stored_open=[t for t in open_tasks if t is not task],
                assign=assign,
            )
            uow.commit()
            svc.live.keep(case, workflow)
            return view

    return retrying(step)


def _decide_correction(
    svc: Services,
    case: Case,
    version: BundleVersion,
    workflow: Any,
    data: dict[str, Any],
    materials: Any,
    now: Any,
) -> dict[str, Any]:
    """退回申请人补正: 一窗受理, opened again by the rewind, decides 补正 with `materials` (checked
    as its form checks them), and the engine moves on to the applicant's 补正."""
    intake = version.meta.intake
    window = next((t.id for t in workflow.ready_tasks() if t.element == intake.element), None)
    if window is None:
        raise StepFailed("退回申请人补正需要一窗受理重新作出补正决定, 但一窗受理不在可办理状态")
    if not isinstance(materials, list) or not materials:
        message = "退回申请人补正须列明需补正的材料"
        raise Invalid(message, [{"message": message, "field": "materials"}])
    form = {intake.decision_field: intake.correct_value, intake.missing_field: materials}
    info = version.human_tasks.get(intake.element)
    check_submission(version, info.form if info else None, form, intake.element, svc.limits)
    check_applying(version, intake.element, form, data)  # only materials asked of the case
    merged = canonical_data({**data, **form})
    check_case_data(version, merged, intake.element, svc.limits)
    with task_ids(audit.correction_seed(case.id, case.last_seq + 1)):
        workflow.complete(window, merged, at=now)
    return {"task": window, "form": form, "data": merged}


def _recall_refusal(
    events: list[CaseEvent], completed: CaseEvent, open_tasks: list[HumanTask]
) -> str | None:
    """Why the completer can no longer take the task back, or None."""
    opened = set(completed.data.get("opened", []))
    for event in events[completed.seq :]:
        if event.type in _RECALL_KEEPS:
            continue
        if event.type == EventType.TASK_CLAIMED and event.element in opened:
            return f"下一环节「{event.element}」已被 {event.actor} 认领"
        return f"此后已有第 {event.seq} 步 ({event.type.label})"
    for task in open_tasks:
        if task.element in opened and task.created_at == completed.at and task.assignee:
            return f"下一环节「{task.name}」已由 {task.assignee} 办理"
    return None


def recall(svc: Services, user: User, task_id: str, reason: Any) -> dict[str, Any]:
    """撤回: whoever completed a task takes it back while the next tasks are untouched."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以撤回任务")
    reason = required_reason(reason, "撤回", svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            if task.status != TaskStatus.COMPLETED or task.kind != TaskKind.BPMN:
                raise Conflict(f"任务「{task.name}」尚未办理完成, 无需撤回")
            if task.ended_by != user.name:
                raise Forbidden(f"只有办理人 {task.ended_by} 可以撤回「{task.name}」")
            require_workable(uow, case)  # 挂起: says why
            if case.status != CaseStatus.RUNNING:
                raise Conflict(f"办件{case.status.label}, 不能撤回")
            events = uow.cases.events(case.id)
            completed = _completions(events).get(task.id)
            if completed is None:
                raise Conflict(f"任务「{task.name}」没有办理记录, 不能撤回")
            stored_open = uow.tasks.open_for_case(case.id)
            refusal = _recall_refusal(events, completed, stored_open)
            if refusal:
                raise Conflict(f"不能撤回「{task.name}」: {refusal}")
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            now = svc.clock()
            opened_by_it = {
                t.id
                for t in stored_open
                if t.element in completed.data.get("opened", []) and t.created_at == completed.at
            }
            keep = [t for t in stored_open if t.id not in opened_by_it and t.kind == TaskKind.BPMN]
            try:
                with engine_step(svc, uow, case):
                    workflow, data, renamed, reopened, _ = _rewind(
                        svc, uow, case, events, completed.seq - 1, keep
                    )
            except StepFailed as err:
                raise step_failed(err) from None
            case.data = data
            for old_id in opened_by_it:
                closing = next(t for t in stored_open if t.id == old_id)
                closing.end(TaskStatus.CANCELLED, user.name, now)
                uow.tasks.save(closing)
            view = record_step(
                Step(svc, uow, case, version, workflow, user.name, now),
                EventType.TASK_RECALLED,
                task,
                {
                    "reason": reason,
                    "rewound_to": completed.seq - 1,
                    "renamed": renamed,
                    "reopened": reopened,
                },
                stored_open=[t for t in stored_open if t.id not in opened_by_it],
                assign={reopened[task.id]: user.name} if task.id in reopened else {},
            )
            uow.commit()
            svc.live.keep(case, workflow)
            return view

    return retrying(step)


def recallable(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    """The tasks of a case `user` completed and may still take back (for the pages)."""
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        if case is None or case.status != CaseStatus.RUNNING:
            return []
        events = uow.cases.events(case_id)
        stored_open = uow.tasks.open_for_case(case_id)
    found = []
    for task_id, event in _completions(events).items():
        if event.actor == user.name and _recall_refusal(events, event, stored_open) is None:
            found.append({"task_id": task_id, "element": event.element, "seq": event.seq})
    return found


def reopened(events: list[CaseEvent], task_id: str) -> dict[str, Any] | None:
    """Why an open task came back (退回/撤回) and its earlier round: the event, and the
    completion of the task it re-opens (None for a task opened the usual way)."""
    for event in reversed(events):
        if event.type not in audit.REWINDS:
            continue
        reopened = event.data.get("reopened", {})
        old = next((o for o, n in reopened.items() if n == task_id), None)
        if old is not None:
            return {"event": event, "earlier": _completions(events).get(old), "earlier_id": old}
    return None


def materials(
    svc: Services, bundle_key: str, version: int, data: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """The materials of a bundle version, {"code", "name"}: what a 退回申请人补正 may list; with
    a case's `data`, only those asked of that case (`intake.applying`, as the 退回 checks)."""
    with svc.uow() as uow:
        found = uow.bundles.get(bundle_key, version)
    if found is None:
        return []
    meta = found.meta
    asked = None
    if data is not None and meta.conditional_materials:
        # as `check_applying` reads the case: the earlier 补正/容缺 lists do not count
        unnamed = {**data, meta.intake.missing_field: None, "deferred_materials": None}
        asked = applying(meta, unnamed)
    return [
        {"code": m.code, "name": m.name} for m in meta.materials if asked is None or m.code in asked
    ]


__all__ = ["materials", "recall", "recallable", "reopened", "send_back", "targets"]
