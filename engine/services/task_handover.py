"""转办 and 委派 (issue 18 · 2 and 3): handing an open task of the diagram to a colleague.

- **转办 (transfer)**: whoever could complete the task now (its claimant, or a member of its
  groups while nobody has claimed it) gives it, with a reason, to a named clerk who can work it
  (a member of one of the task's groups, not themselves). The colleague becomes its claimant; it
  leaves the giver's list. A supervisor of the bundle (its 督办 group) may transfer it too.
- **委派 (delegate)**: the holder asks any other clerk, of any department, for an opinion. While
  delegated the task's `owner` is the holder and its assignee the delegate: the delegate sees it
  in their worklist and can read the case, but cannot complete it; they answer with an opinion
  (`answer_delegation`) and the task goes back to the owner, who decides.

Neither touches the process: the workflow state, the case's statutory clock and the task's own
deadline stay as they were (audit replay passes over these events). Each call is one transaction
under the case row lock, with its event and a message to whoever now holds the task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.domain.model import Case, CaseEvent, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

from . import messages
from .case_access import supervisor_groups
from .cases import _locked
from .context import Services
from .steps import retrying, save
from .suspended import require_workable

MAX_TEXT = 2000


def _require_clerk(user: User) -> None:
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以转办或委派任务")


def _text(value: Any, field: str, what: str) -> str:
    """A required text of at most MAX_TEXT characters, trimmed."""
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{what}应为文本", [{"message": f"{what}应为文本", "field": field}])
    text = (value or "").strip()
    if not text:
        raise Invalid(f"请填写{what}", [{"message": f"请填写{what}", "field": field}])
    if len(text) > MAX_TEXT:
        message = f"{what}不能超过 {MAX_TEXT} 字"
        raise Invalid(message, [{"message": message, "field": field}])
    return text


def _colleague(uow: UnitOfWork, to: Any, user: User) -> User:
    """The clerk named `to`: an existing account of a clerk, not `user`."""
    if not isinstance(to, str) or not to.strip():
        raise Invalid("请选择同事", [{"message": "请选择要交给的同事", "field": "to"}])
    found = uow.users.by_name(to.strip())
    if found is None or not found.has_role(Role.CLERK):
        message = f"没有名为 {to.strip()} 的窗口或审批人员"
        raise Invalid(message, [{"message": message, "field": "to"}])
    if found.name == user.name:
        raise Invalid("不能交给自己", [{"message": "不能交给自己", "field": "to"}])
    return found


def _open_bpmn(task: HumanTask) -> None:
    if task.status != TaskStatus.OPEN:
        done = "办结" if task.status == TaskStatus.COMPLETED else "取消"
        raise Conflict(f"任务「{task.name}」已{done}, 不能转办或委派")
    if task.kind != TaskKind.BPMN:
        raise Conflict("只有流程中的任务可以转办或委派")


def _supervises(svc: Services, uow: UnitOfWork, case: Case, user: User) -> bool:
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    return bool(user.groups & supervisor_groups(version))


def _words(case: Case, task: HumanTask) -> str:
    return f"办件 {case.id} 的任务「{task.name}」"


def _tell(
    uow: UnitOfWork, task: HumanTask, title: str, body: str, now: datetime, actor: str
) -> None:
    """A message to the task's new holder (its assignee)."""
    messages.to_holders(uow, [task], messages.MessageKind.TASK, title, body, now, actor=actor)


def _commit(uow: UnitOfWork, case: Case, task: HumanTask) -> dict[str, Any]:
    uow.tasks.save(task)
    save(uow, case)
    uow.commit()
    return task.to_dict()


def transfer(svc: Services, user: User, task_id: str, to: Any, reason: Any) -> dict[str, Any]:
    """转办: the task's holder (or a supervisor of the bundle) gives it to a colleague of its
    groups (or another of its candidate users), who becomes its claimant."""
    _require_clerk(user)
    text = _text(reason, "reason", "转办原因")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            _open_bpmn(task)
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            try:
                task.check_can_complete(user)
            except Forbidden:
                if task.owner is not None or not _supervises(svc, uow, case, user):
                    raise
            colleague = _colleague(uow, to, user)
            if colleague.name == task.assignee:
                raise Invalid(
                    f"任务已由 {colleague.name} 认领",
                    [{"message": f"任务已由 {colleague.name} 认领, 无需转办", "field": "to"}],
                )
            if not task.offered_to(colleague):  # a member of its groups, or a candidate user
                who = "、".join([*task.groups, *task.candidate_users])
                message = (
                    f"{colleague.signature} 不在任务的组或候选人 ({who}) 中,"
                    " 不能办理此任务; 征求其他部门意见请用委派"
                )
                raise Invalid(message, [{"message": message, "field": "to"}])
            now = svc.clock()
            given_by = task.assignee or user.name
            task.assignee = colleague.name
            case.updated_at = now
            case.record(
                EventType.TASK_TRANSFERRED,
                user.name,
                now,
                task,
                {"from": given_by, "to": colleague.name, "reason": text},
            )
            _tell(
                uow,
                task,
                f"转办: {task.name}",
                f"{user.signature} 将{_words(case, task)}转办给您。\n原因: {text}",
                now,
                user.name,
            )
            return _commit(uow, case, task)

    return retrying(step)


def delegate(svc: Services, user: User, task_id: str, to: Any, reason: Any) -> dict[str, Any]:
    """委派: the holder asks a clerk (of any department) for an opinion; the task is theirs
    until they answer."""
    _require_clerk(user)
    text = _text(reason, "reason", "委派事由")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            _open_bpmn(task)
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            task.check_can_complete(user)
            colleague = _colleague(uow, to, user)
            now = svc.clock()
            task.owner, task.assignee = user.name, colleague.name
            case.updated_at = now
            case.record(
                EventType.TASK_DELEGATED,
                user.name,
                now,
                task,
                {"to": colleague.name, "reason": text},
            )
            _tell(
                uow,
                task,
                f"委派: {task.name}",
                f"{user.signature} 就{_words(case, task)}征求您的意见, 请填写意见后交回。"
                f"\n事由: {text}",
                now,
                user.name,
            )
            return _commit(uow, case, task)

    return retrying(step)


def answer_delegation(svc: Services, user: User, task_id: str, opinion: Any) -> dict[str, Any]:
    """The delegate's opinion: recorded, and the task goes back to its owner."""
    _require_clerk(user)
    text = _text(opinion, "opinion", "意见")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            if task.status != TaskStatus.OPEN:
                done = "办结" if task.status == TaskStatus.COMPLETED else "取消"
                raise Conflict(f"任务「{task.name}」已{done}, 不能再交回意见")
            if task.owner is None or task.owner_kind is not None:  # None: 委派, else 加签
                raise Conflict("此任务没有委派给他人, 无需交回意见")
            if task.assignee != user.name:
                raise Forbidden(f"任务委派给了 {task.assignee}, 只有被委派人可以填写意见交回")
            require_workable(uow, case)  # 挂起: says why
            case.require_running()
            now = svc.clock()
            owner = task.owner
            task.assignee, task.owner = owner, None
            case.updated_at = now
            case.record(
                EventType.DELEGATION_ANSWERED, user.name, now, task, {"opinion": text, "to": owner}
            )
            _tell(
                uow,
                task,
                f"委派意见: {task.name}",
                f"{user.signature} 已就{_words(case, task)}填写意见并交回。\n意见: {text}",
                now,
                user.name,
            )
            return _commit(uow, case, task)

    return retrying(step)


# ------------------------------------------------------------------ what the pages read


def _person(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "display_name": user.display_name,
        "department": user.department,
        "label": user.signature,
    }


def colleagues(svc: Services, user: User, task_id: str) -> dict[str, list[dict[str, Any]]]:
    """Who the task can be transferred to (clerks of its groups, its candidate users) and
    delegated to (any clerk), leaving out the user and whoever holds it now."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        clerks = [
            u
            for u in uow.users.all()
            if u.has_role(Role.CLERK) and u.name not in (user.name, task.assignee)
        ]
    clerks.sort(key=lambda u: ((u.department or ""), u.signature))
    return {
        "transfer": [_person(u) for u in clerks if task.offered_to(u)],
        "delegate": [_person(u) for u in clerks],
    }


def opinions(svc: Services, user: User, task_id: str) -> list[dict[str, Any]]:
    """The delegates' answers on this task, oldest first: who (display name and department),
    when, the opinion."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        found: list[CaseEvent] = [
            e
            for e in uow.cases.events(task.case_id)
            if e.type == EventType.DELEGATION_ANSWERED and e.task_id == task_id
        ]
        names = uow.users.signatures({e.actor for e in found})
    return [
        {
            "by": e.actor,
            "label": names.get(e.actor, e.actor),
            "at": e.at.isoformat(),
            "opinion": e.data.get("opinion", ""),
        }
        for e in found
    ]
