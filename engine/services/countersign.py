"""加签 before / after me and 减签 (issue 18 · 5, the task-level part).

- **前加签 (before me)**: the holder of an open task of the diagram asks a named colleague to
  sign first. While the colleague holds it, the task's `owner` is the holder, its assignee the
  signer and `owner_kind` "sign_before". The signer agrees or disagrees (同意/不同意) with an
  opinion (`sign`); the task comes back to the holder, who decides seeing the signature.
- **后加签 (after me)**: the holder submits the task's form (checked as completing it checks
  it), kept in the `signer_added` event, and names a colleague (`owner_kind` "sign_after").
  When the signer agrees the task completes in the engine with the kept form, for the holder
  (`cases.finish_task`, in the same transaction as the signature); when they disagree it comes
  back to the holder and nothing is completed.
- **减签**: the holder takes the task back from a signer who has not signed yet.

None of these touch the case's statutory clock or the task's deadline. 并行加签 in a running
会签 is engine/services/add_signer.py.
"""

from __future__ import annotations

from typing import Any

from engine.domain.model import Case, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid
from engine.persistence.unit_of_work import UnitOfWork

from . import hearing, messages
from .cases import _locked, _require_object, check_task_form, finish_task
from .context import Services
from .steps import retrying, save
from .suspended import require_workable
from .task_handover import MAX_TEXT, _colleague, _text

MAX_SIGNERS = 5  # 加签 per task, before and after together
KINDS = {"before": "sign_before", "after": "sign_after"}
POSITIONS = {kind: position for position, kind in KINDS.items()}
DECISIONS = {"approve": "同意", "reject": "不同意"}
POSITION_WORDS = {"before": "前加签", "after": "后加签", "parallel": "并行加签"}


def _require_clerk(user: User) -> None:
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以加签")


def _require_open(task: HumanTask, what: str) -> None:
    if task.status != TaskStatus.OPEN:
        done = "办结" if task.status == TaskStatus.COMPLETED else "取消"
        raise Conflict(f"任务「{task.name}」已{done}, 不能{what}")
    if task.kind != TaskKind.BPMN:
        raise Conflict(f"只有流程中的任务可以{what}")


def _words(case: Case, task: HumanTask) -> str:
    return f"办件 {case.id} 的任务「{task.name}」"


def _tell(uow: UnitOfWork, task: HumanTask, title: str, body: str, at: Any, actor: str) -> None:
    messages.to_holders(uow, [task], messages.MessageKind.TASK, title, body, at, actor=actor)


def _commit(uow: UnitOfWork, case: Case, task: HumanTask) -> dict[str, Any]:
    uow.tasks.save(task)
    save(uow, case)
    uow.commit()
    return task.to_dict()


def _added(uow: UnitOfWork, case: Case, task: HumanTask) -> list[Any]:
    """The task's signer_added events, oldest first."""
    return [
        e
        for e in uow.cases.events(case.id)
        if e.type == EventType.SIGNER_ADDED and e.task_id == task.id
    ]


def add_signer(
    svc: Services, user: User, task_id: str, position: Any, to: Any, reason: Any, data: Any = None
) -> dict[str, Any]:
    """前加签 / 后加签: the task goes to the colleague `to` until they sign; the task as it is."""
    _require_clerk(user)
    if position not in KINDS:
        message = "加签方式应为 before (前加签) 或 after (后加签)"
        raise Invalid(message, [{"message": message, "field": "position"}])
    text = _text(reason, "reason", "加签原因")
    form = _require_object(data, "表单数据") if position == "after" else None

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            _require_open(task, "加签")
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            task.check_can_complete(user)  # 409 while delegated or with an added signer
            if len(_added(uow, case, task)) >= MAX_SIGNERS:
                raise Conflict(f"每个任务最多加签 {MAX_SIGNERS} 次, 此任务已加签 {MAX_SIGNERS} 次")
            colleague = _colleague(uow, to, user)
            event: dict[str, Any] = {"position": position, "to": colleague.name, "reason": text}
            if form is not None:
                version, _ = svc.runtimes.get(uow, case.bundle_version_id)
                check_task_form(svc, version, case, task, form)
                event["form"] = form
            now = svc.clock()
            task.owner, task.assignee, task.owner_kind = user.name, colleague.name, KINDS[position]
            case.updated_at = now
            case.record(EventType.SIGNER_ADDED, user.name, now, task, event)
            ask = "在其办理前签署" if position == "before" else "对其办理结果签署"
            _tell(
                uow,
                task,
                f"{POSITION_WORDS[position]}: {task.name}",
                f"{user.signature} 请您{ask}{_words(case, task)}, 请签署 (同意/不同意) 后交回。"
                f"\n原因: {text}",
                now,
                user.name,
            )
            return _commit(uow, case, task)

    return retrying(step)


def _opinion(decision: Any, opinion: Any) -> str:
    if decision not in DECISIONS:
        message = "请选择同意或不同意"
        raise Invalid(message, [{"message": message, "field": "decision"}])
    if decision == "reject" or (opinion is not None and opinion != ""):
        if decision == "approve" and isinstance(opinion, str) and not opinion.strip():
            return ""
        return _text(opinion, "opinion", "意见")
    return ""


def sign(svc: Services, user: User, task_id: str, decision: Any, opinion: Any) -> dict[str, Any]:
    """The added signer's signature. 后加签 agreed: the task completes with its holder's kept
    form, and the case is answered; otherwise the task goes back to its holder (the task)."""
    _require_clerk(user)
    text = _opinion(decision, opinion)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            _require_open(task, "签署")
            if task.owner is None or task.owner_kind not in POSITIONS:
                raise Conflict("此任务没有等待加签, 无需签署")
            if task.assignee != user.name:
                raise Forbidden(f"任务等待 {task.assignee} 加签, 只有加签人可以签署")
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            now = svc.clock()
            position, owner = POSITIONS[task.owner_kind], task.owner
            task.assignee, task.owner, task.owner_kind = owner, None, None
            case.updated_at = now
            signature = {"position": position, "decision": decision, "opinion": text, "to": owner}

            def record() -> None:
                case.record(EventType.ADDED_SIGNATURE, user.name, now, task, signature)

            if position == "after" and decision == "approve":
                # the engine moves: the signature follows the step's task_completed
                kept = _added(uow, case, task)[-1].data.get("form") or {}
                hearing.require_decidable(svc, uow, case, task)  # 听证 rights first (Art. 47)
                return finish_task(
                    svc,
                    uow,
                    case,
                    task,
                    open_tasks,
                    owner,
                    kept,
                    countersigned_by=user.name,
                    then=record,
                )
            record()
            said = f"\n意见: {text}" if text else ""
            back = "任务已交回, 请您办理。" if position == "before" else "任务未办结, 已交回您。"
            _tell(
                uow,
                task,
                f"加签人签署: {task.name}",
                f"{user.signature} 已就{_words(case, task)}签署「{DECISIONS[decision]}」, "
                f"{back}{said}",
                now,
                user.name,
            )
            return _commit(uow, case, task)

    return retrying(step)


def remove_signer(svc: Services, user: User, task_id: str, reason: Any) -> dict[str, Any]:
    """减签: the holder takes the task back from an added signer who has not signed."""
    _require_clerk(user)
    text = _text(reason, "reason", "减签原因")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            _require_open(task, "减签")
            if task.owner is None or task.owner_kind not in POSITIONS:
                raise Conflict("此任务没有等待签署的加签人, 无需减签")
            if task.owner != user.name:
                raise Forbidden(f"只有发起加签的 {task.owner} 可以减签")
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            now = svc.clock()
            signer = task.assignee
            position = POSITIONS[task.owner_kind]
            _tell(  # to the signer, who holds it still
                uow,
                task,
                f"减签: {task.name}",
                f"{user.signature} 已收回{_words(case, task)}, 无需您再签署。\n原因: {text}",
                now,
                user.name,
            )
            task.assignee, task.owner, task.owner_kind = user.name, None, None
            case.updated_at = now
            case.record(
                EventType.SIGNER_REMOVED,
                user.name,
                now,
                task,
                {"position": position, "signer": signer, "reason": text},
            )
            return _commit(uow, case, task)

    return retrying(step)


# ------------------------------------------------------------------ what the pages read


def held_by_signer(svc: Services, task_id: str) -> bool:
    """Whether the task is with a before / after signer (else 减签 is the 会签 instance's);
    an unknown task counts as held, so that its refusal is this module's."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
    return task is None or task.owner_kind in POSITIONS


def kept_form(svc: Services, task_id: str) -> dict[str, Any]:
    """后加签: the holder's form kept for the signer to read (the last signer_added's)."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            return {}
        found = [
            e
            for e in uow.cases.events(task.case_id)
            if e.type == EventType.SIGNER_ADDED and e.task_id == task_id
        ]
    form: dict[str, Any] = found[-1].data.get("form") or {} if found else {}
    return form


def signatures(svc: Services, task_id: str) -> list[dict[str, Any]]:
    """The added signers' signatures on this task, oldest first."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            return []
        found = [
            e
            for e in uow.cases.events(task.case_id)
            if e.type == EventType.ADDED_SIGNATURE and e.task_id == task_id
        ]
        names = uow.users.signatures({e.actor for e in found})
    return [
        {
            "by": e.actor,
            "label": names.get(e.actor, e.actor),
            "at": e.at.isoformat(),
            "position": e.data.get("position", ""),
            "position_label": POSITION_WORDS.get(e.data.get("position", ""), ""),
            "decision": e.data.get("decision", ""),
            "decision_label": DECISIONS.get(e.data.get("decision", ""), ""),
            "opinion": e.data.get("opinion", ""),
        }
        for e in found
    ]


__all__ = ["MAX_TEXT", "add_signer", "remove_signer", "sign", "signatures"]
