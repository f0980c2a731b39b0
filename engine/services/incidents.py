"""Incidents: cases stopped because the engine could not go on without an administrator.

A timer step (the worker's, nobody's action) that would pass the case's timer budget, or that
the engine refuses (a bound of engine/bpmn/bounds.py, an expression failing...), does not
retry forever or spin: the case's status becomes `error` (出错) in that step's transaction, with
an `incident_raised` event (actor `system`) saying why. While a case is in error its timer jobs
do nothing and its tasks cannot be completed. An administrator lists incidents
(`lianban incidents`) and either resumes the case (`incident_resumed`: running again, its
waiting timers scheduled anew, the budget counted afresh) or cancels it.

The timer budget: at most `timer_budget` timer steps of one case within `timer_window_seconds`
(engine.config.engine_limits(); counted from the case's events since it last resumed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.config import engine_limits
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseStatus, EventType, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid
from engine.persistence.incident_queries import cases_in_status, latest_events
from engine.persistence.unit_of_work import UnitOfWork

from .steps import engine_step, retrying, save

if TYPE_CHECKING:
    from .context import Services

SYSTEM = "system"
TIMER_KEY = "timer:"  # a timer job's key: timer:<task id>, or timer:<task id>@<seq> once resumed


def timer_task_id(job_key: str) -> str:
    """The engine task a timer job fires (its key without the resume suffix)."""
    return job_key.removeprefix(TIMER_KEY).split("@", 1)[0]


def timer_budget_left(uow: UnitOfWork, case: Case, now: datetime) -> bool:
    """Whether the case may take one more timer step now: fewer than `timer_budget` of its
    timer steps fell within the last `timer_window_seconds`, counting none before it last
    resumed from an incident."""
    limits = engine_limits()
    since = now - timedelta(seconds=limits.timer_window_seconds)
    recent = latest_events(
        uow.conn,
        case.id,
        (str(EventType.TIMER_FIRED), str(EventType.INCIDENT_RESUMED)),
        limits.timer_budget,
    )
    counted = 0
    for event in recent:
        if event.type == EventType.INCIDENT_RESUMED or event.at < since:
            break
        counted += 1
    return counted < limits.timer_budget


def budget_reason() -> str:
    limits = engine_limits()
    return (
        f"无人参与的自动推进过快: {limits.timer_window_seconds} 秒内定时触发已达 "
        f"{limits.timer_budget} 次 (上限), 可能是经过定时器的循环; 办件已暂停, 等待管理员处理"
    )


def raise_incident(
    uow: UnitOfWork, case: Case, now: datetime, reason: str, element: str | None, kind: str
) -> None:
    """Stop the case as an incident, in the caller's transaction (the caller commits)."""
    case.status = CaseStatus.ERROR
    event = case.record(
        EventType.INCIDENT_RAISED, SYSTEM, now, data={"reason": reason, "kind": kind}
    )
    event.element = element
    save(uow, case)


def _require_admin(user: User | str) -> str:
    if isinstance(user, User):
        if not user.has_role(Role.ADMIN):
            raise Forbidden("只有管理员可以处理出错的办件")
        return user.name
    return user


def list_incidents(svc: Services, user: User | str, limit: int = 100) -> list[dict[str, Any]]:
    """Cases in error, most recently stopped first, each with why (its last incident)."""
    _require_admin(user)
    found = []
    with svc.uow() as uow:
        for row in cases_in_status(uow.conn, str(CaseStatus.ERROR), limit):
            last = latest_events(uow.conn, row.id, (str(EventType.INCIDENT_RAISED),), 1)
            incident = last[0] if last else None
            found.append(
                {
                    "case_id": row.id,
                    "bundle": row.bundle_key,
                    "version": row.version,
                    "since": (incident.at if incident else row.updated_at).isoformat(),
                    "element": incident.element if incident else None,
                    "kind": incident.data.get("kind") if incident else None,
                    "reason": incident.data.get("reason") if incident else None,
                }
            )
    return found


def _case_in_error(uow: UnitOfWork, case_id: int) -> Case:
    case = uow.cases.existing(case_id, lock=True)
    if case.status != CaseStatus.ERROR:
        raise Conflict(f"办件 {case_id} 的状态为 {case.status}, 不是出错, 无需处理")
    return case


def resume(svc: Services, user: User | str, case_id: int) -> dict[str, Any]:
    """Put a case in error back to running: its waiting timers are scheduled again (due at
    once if their time has passed) and its timer budget counts from now."""
    actor = _require_admin(user)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = _case_in_error(uow, case_id)
            _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            now = svc.clock()
            timers = runtime.load(case.state).pending_timers()
            case.status = CaseStatus.RUNNING
            case.record(
                EventType.INCIDENT_RESUMED, actor, now, data={"timers": [t.element for t in timers]}
            )
            for timer in timers:  # the jobs of the old keys ran (doing nothing) while in error
                uow.jobs.schedule(
                    JobKind.TIMER,
                    f"{TIMER_KEY}{timer.task_id}@{case.last_seq}",
                    max(timer.due, now),
                    now,
                    case.id,
                    {"element": timer.element},
                )
            save(uow, case)
            uow.commit()
            return {"case_id": case.id, "status": str(case.status), "timers": len(timers)}

    return retrying(step)


def cancel(svc: Services, user: User | str, case_id: int, reason: str) -> dict[str, Any]:
    """Cancel (撤销) a case in error, as a running case is cancelled: its open tasks are
    cancelled, the engine's workflow cancelled, `case_cancelled` recorded."""
    actor = _require_admin(user)
    if not reason.strip():
        raise Invalid("请说明撤销原因", [{"message": "请说明撤销原因", "field": "reason"}])

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = _case_in_error(uow, case_id)
            _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            workflow = runtime.load(case.state)
            now = svc.clock()
            with engine_step(svc, uow, case):
                workflow.cancel(at=now)
            for task in uow.tasks.open_for_case(case.id):
                task.end(TaskStatus.CANCELLED, actor, now)
                uow.tasks.save(task)
            case.status = CaseStatus.CANCELLED
            case.ended_at = now
            case.record(EventType.CASE_CANCELLED, actor, now, data={"reason": reason.strip()})
            case.state = workflow.dump()
            case.clock = case.clock.stop(svc.today(now))
            save(uow, case)
            uow.commit()
            return {"case_id": case.id, "status": str(case.status)}

    return retrying(step)
