"""Read-only views: a case, a task, a worklist, a case's events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.model import Case, HumanTask
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from .context import Services

MAX_PAGE = 200


def case_view(case: Case, open_tasks: list[HumanTask]) -> dict[str, Any]:
    return {
        "id": case.id,
        "bundle": case.bundle_key,
        "version": case.version,
        "status": str(case.status),
        "data": case.data,
        "tasks": [t.to_dict() for t in open_tasks],
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "ended_at": case.ended_at.isoformat() if case.ended_at else None,
    }


def get_case(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound(f"办件 {case_id} 不存在")
        return case_view(case, uow.tasks.open_for_case(case.id))


def get_task(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看任务")
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return task.to_dict()


def worklist(svc: Services, user: User, limit: int, after: str | None) -> dict[str, Any]:
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员有待办任务")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(
            "分页大小无效", [{"message": f"limit 应在 1 到 {MAX_PAGE} 之间", "field": "limit"}]
        )
    with svc.uow() as uow:
        tasks = uow.tasks.worklist(user, limit + 1, after)
    page = tasks[:limit]
    return {
        "tasks": [t.to_dict() for t in page],
        "next": page[-1].id if len(tasks) > limit else None,
    }


def events(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以查看办件日志")
    with svc.uow() as uow:
        if uow.cases.get(case_id) is None:
            raise NotFound(f"办件 {case_id} 不存在")
        return [e.to_dict() for e in uow.cases.events(case_id)]
