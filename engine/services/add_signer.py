"""加签 / 减签 in parallel to a running 会签 (issue 18 · 5): one more signer joins the 会签 as a new
instance of it, or a signer who has not yet signed leaves it.

Both move the engine (the multi-instance task gains or loses an instance: engine/bpmn/
multi_sign.py `add_instance`, `remove_instance`), so each is one step with its event, re-executed
by the audit: `signer_added` / `signer_removed` with `data.position` "parallel" (the before/after
加签 of one task are engine/services/countersign.py). The new signer is a group or a person as the
会签's other items are (its task's `candidateGroups="${...}"` or `assignee="${...}"`).

Who: a clerk who holds an open instance of that 会签 (could sign it now), the bundle's 督办 group,
or an administrator. At most `MAX_ADDED` signers are added to one 会签 of a case, and never more
instances than the engine's `max_instances`. Removing the last signer still to sign ends the 会签
with the signatures given (its outcome written for the gateway after it); removing the only
signer is refused.
"""

from __future__ import annotations

from typing import Any

from engine.bpmn.errors import StepFailed
from engine.config import engine_limits
from engine.domain.model import Case, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid
from engine.persistence.unit_of_work import UnitOfWork

from .case_access import supervisor_groups
from .cases import _locked
from .context import Services, Step
from .multi_sign import item_reference
from .send_back import required_reason
from .steps import engine_step, record_step, retrying, step_failed
from .suspended import require_workable

MAX_ADDED = 5


def _may(uow: UnitOfWork, svc: Services, case: Case, task: HumanTask, user: User) -> None:
    """The holder of an open instance, the bundle's 督办 group, an administrator."""
    if user.has_role(Role.ADMIN):
        return
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    if user.has_role(Role.CLERK) and user.groups & supervisor_groups(version):
        return
    task.check_can_complete(user)


def _signer_kind(svc: Services, uow: UnitOfWork, case: Case, element: str) -> str:
    """ "person" when the 会签's instances go to people (assignee="${...}"), else "group"."""
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    info = version.human_tasks.get(element)
    return "person" if info is not None and item_reference(info.assignee) else "group"


def _check_signer(uow: UnitOfWork, kind: str, to: Any) -> str:
    if not isinstance(to, str) or not to.strip() or len(to) > 100:
        message = "请写明加签的人员 (用户名) 或部门 (办理组)"
        raise Invalid(message, [{"message": message, "field": "to"}])
    name = to.strip()
    if kind == "person":
        found = uow.users.by_name(name)
        if found is None or not found.has_role(Role.CLERK):
            message = f"{name} 不是本系统的窗口/审批人员, 不能加签"
            raise Invalid(message, [{"message": message, "field": "to"}])
    elif uow.users.group_sizes().get(name, 0) == 0:
        message = f"办理组 {name} 不存在或没有成员, 不能加签"
        raise Invalid(message, [{"message": message, "field": "to"}])
    return name


def _open_instance(task: HumanTask) -> None:
    if task.kind != TaskKind.BPMN or task.status != TaskStatus.OPEN:
        raise Conflict(f"任务「{task.name}」已结束, 不能加签或减签")


def add_parallel(svc: Services, user: User, task_id: str, to: Any, reason: Any) -> dict[str, Any]:
    """加签: `to` joins the running 会签 that the open task `task_id` is an instance of."""
    text = required_reason(reason, "加签", svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            _open_instance(task)
            require_workable(uow, case)
            case.require_running()
            _may(uow, svc, case, task, user)
            signer = _check_signer(uow, _signer_kind(svc, uow, case, task.element), to)
            version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            workflow = svc.live.take(case.id, case.state) or runtime.load(case.state)
            try:
                present = workflow.signers(task.id)
            except StepFailed as err:
                raise Conflict(err.message) from None
            if any(str(item) == signer for _, item, _ in present):
                raise Conflict(f"{signer} 已在此会签中")
            added = [
                e
                for e in uow.cases.events(case.id)
                if e.type == EventType.SIGNER_ADDED
                and e.element == task.element
                and e.data.get("position") == "parallel"
            ]
            if len(added) >= MAX_ADDED:
                raise Conflict(f"此会签已加签 {len(added)} 人, 最多 {MAX_ADDED} 人")
            if len(present) >= engine_limits().max_instances:
                raise Conflict(f"会签人数已达上限 {engine_limits().max_instances}")
            now = svc.clock()
            try:
                with engine_step(svc, uow, case):
                    workflow.add_signer(task.id, signer, at=now)
            except StepFailed as err:
                raise step_failed(err) from None
            assert open_tasks is not None
            view = record_step(
                Step(svc, uow, case, version, workflow, user.name, now),
                EventType.SIGNER_ADDED,
                task,
                {"position": "parallel", "signer": signer, "reason": text},
                stored_open=open_tasks,
            )
            uow.commit()
            svc.live.keep(case, workflow)
            return view

    return retrying(step)


def remove_parallel(svc: Services, user: User, task_id: str, reason: Any) -> dict[str, Any]:
    """减签: the open, unsigned instance `task_id` leaves its running 会签."""
    text = required_reason(reason, "减签", svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            _open_instance(task)
            require_workable(uow, case)
            case.require_running()
            assert open_tasks is not None
            version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            workflow = svc.live.take(case.id, case.state) or runtime.load(case.state)
            try:
                present = {tid: item for tid, item, _ in workflow.signers(task.id)}
            except StepFailed as err:
                raise Conflict(f"{err.message}, 没有可减的加签人") from None
            siblings = [t for t in open_tasks if t.element == task.element and t is not task]
            if not user.has_role(Role.ADMIN):
                supervisor = user.has_role(Role.CLERK) and bool(
                    user.groups & supervisor_groups(version)
                )
                holder = any(_can_complete(t, user) for t in siblings)
                if not (supervisor or holder):
                    raise Forbidden("只有同一会签中尚未签署的会签人、督办组或管理员可以减签")
            now = svc.clock()
            try:
                with engine_step(svc, uow, case):
                    workflow.remove_signer(task.id, at=now)
            except StepFailed as err:
                raise Conflict(err.message) from None
            task.end(TaskStatus.CANCELLED, user.name, now)
            uow.tasks.save(task)
            view = record_step(
                Step(svc, uow, case, version, workflow, user.name, now),
                EventType.SIGNER_REMOVED,
                task,
                {"position": "parallel", "signer": str(present.get(task.id)), "reason": text},
                stored_open=[t for t in open_tasks if t is not task],
            )
            uow.commit()
            svc.live.keep(case, workflow)
            return view

    return retrying(step)


def _can_complete(task: HumanTask, user: User) -> bool:
    try:
        task.check_can_complete(user)
    except (Forbidden, Conflict):
        return False
    return True


def panel(svc: Services, user: User, task_id: str) -> dict[str, Any] | None:
    """For the task page: when `task_id` is an open instance of a running parallel 会签 that
    `user` may add to, whom they may add (groups with members, or clerks, not yet in it) and
    the other unsigned instances they may remove; else None."""
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None or task.kind != TaskKind.BPMN or task.status != TaskStatus.OPEN:
            return None
        case = uow.cases.existing(task.case_id)
        if not case.state or str(case.status) != "running":
            return None
        try:
            _may(uow, svc, case, task, user)
        except (Forbidden, Conflict):
            return None
        _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
        try:
            present = runtime.load(case.state).signers(task.id)
        except StepFailed:
            return None
        kind = _signer_kind(svc, uow, case, task.element)
        taken = {str(item) for _, item, _ in present}
        if kind == "person":
            choices = sorted(
                u.name for u in uow.users.all() if u.has_role(Role.CLERK) and u.name not in taken
            )
        else:
            choices = sorted(g for g, n in uow.users.group_sizes().items() if n and g not in taken)
    removable = [
        {"task_id": tid, "signer": str(item)}
        for tid, item, finished in present
        if not finished and tid != task_id
    ]
    return {"kind": kind, "choices": choices, "removable": removable}
