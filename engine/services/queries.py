"""Read-only views: a case, a task, a worklist, a case's events.

Time-dependent marks (remaining working days, 预警/超期) are computed when read, from the
stored clock, today's date and the calendar: nothing needs rewriting as days pass.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundles import BundleVersion
from engine.domain.model import Case, HumanTask
from engine.domain.timelimits import CaseClock, Timeliness
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from .context import Services

MAX_PAGE = 200


def _clock_view(
    clock: CaseClock, today: date, calendar: WorkdayCalendar, warning: int
) -> dict[str, Any]:
    clock = clock.refreshed(calendar)
    return {
        "deadline": clock.deadline.isoformat() if clock.deadline else None,
        "statutory_deadline": clock.statutory_deadline.isoformat()
        if clock.statutory_deadline
        else None,
        "remaining_workdays": clock.remaining(today, calendar),
        "clock": str(clock.state),
        "clock_running": clock.state == "running",
        "deadline_provisional": clock.provisional,
        "timeliness": str(clock.timeliness(today, calendar, warning)),
        "time_limit": clock.to_dict(),
    }


def parties_of(version: BundleVersion | None, data: dict[str, Any]) -> dict[str, Any]:
    """The applicant and, for 帮办代办, the agent filing on their behalf, from the case data
    fields the bundle names (bundle.json `applicant`)."""
    fields = {**PARTY_FIELDS, **(version.metadata if version else {}).get("applicant", {})}

    def person(name_key: str, id_key: str) -> dict[str, Any] | None:
        name = data.get(fields[name_key])
        return {"name": name, "id_number": data.get(fields[id_key])} if name else None

    return {
        "applicant": person("name_field", "id_field"),
        "agent": person("agent_field", "agent_id_field"),
    }


PARTY_FIELDS = {
    "name_field": "applicant_name",
    "id_field": "applicant_id_number",
    "agent_field": "agent_name",
    "agent_id_field": "agent_id_number",
}


def task_overdue(task: HumanTask, today: date, calendar: WorkdayCalendar) -> bool:
    """Past its own limit: a working day after its deadline has begun."""
    return task.deadline is not None and calendar.count(task.deadline, today).value > 0


def _task_view(task: HumanTask, today: date, calendar: WorkdayCalendar) -> dict[str, Any]:
    view = task.to_dict()
    view["overdue"] = task_overdue(task, today, calendar)
    return view


def case_view(
    svc: Services,
    uow: UnitOfWork,
    calendar: WorkdayCalendar,
    case: Case,
    open_tasks: list[HumanTask],
    now: datetime,
) -> dict[str, Any]:
    today = svc.today(now)
    version, _ = svc.runtimes.cached(case.bundle_version_id)
    warning = version.time_policy.warning if version else 2
    return {
        "id": case.id,
        "bundle": case.bundle_key,
        "version": case.version,
        "status": str(case.status),
        "outcome": case.outcome,
        **parties_of(version, case.data),
        "data": case.data,
        "tasks": [_task_view(t, today, calendar) for t in open_tasks],
        **_clock_view(case.clock, today, calendar, warning),
        "certificates": [c.to_dict(today) for c in uow.certificates.for_case(case.id)],
        "rating": uow.ratings.for_case(case.id),
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "ended_at": case.ended_at.isoformat() if case.ended_at else None,
    }


def load_case_view(svc: Services, uow: UnitOfWork, case: Case) -> dict[str, Any]:
    svc.runtimes.get(uow, case.bundle_version_id)
    return case_view(
        svc, uow, svc.calendars.get(uow), case, uow.tasks.open_for_case(case.id), svc.clock()
    )


def get_case(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound(f"办件 {case_id} 不存在")
        return load_case_view(svc, uow, case)


def get_task(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看任务")
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return _task_view(task, svc.today(), svc.calendars.get(uow))


def worklist(svc: Services, user: User, limit: int, after: str | None) -> dict[str, Any]:
    """The open tasks the user may work on, each with its case's deadline and 预警/超期 mark."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员有待办任务")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(
            "分页大小无效", [{"message": f"limit 应在 1 到 {MAX_PAGE} 之间", "field": "limit"}]
        )
    today = svc.today()
    with svc.uow() as uow:
        tasks = uow.tasks.worklist(user, limit + 1, after)
        page = tasks[:limit]
        clocks = uow.cases.clocks({t.case_id for t in page})
        calendar = svc.calendars.get(uow)
        warnings = {
            vid: svc.runtimes.get(uow, vid)[0].time_policy.warning
            for vid in {vid for _, vid in clocks.values()}
        }
    items = []
    for task in page:
        view = _task_view(task, today, calendar)
        clock, version_id = clocks[task.case_id]
        case_clock = _clock_view(clock, today, calendar, warnings[version_id])
        view["case"] = {
            k: case_clock[k] for k in ("deadline", "remaining_workdays", "clock", "timeliness")
        }
        view["flag"] = (
            Timeliness.OVERDUE if view["overdue"] else Timeliness(case_clock["timeliness"])
        ).value
        items.append(view)
    return {"tasks": items, "next": page[-1].id if len(tasks) > limit else None}


def events(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以查看办件日志")
    with svc.uow() as uow:
        if uow.cases.get(case_id) is None:
            raise NotFound(f"办件 {case_id} 不存在")
        return [e.to_dict() for e in uow.cases.events(case_id)]
