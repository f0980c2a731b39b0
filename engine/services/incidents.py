"""Incidents: cases stopped because the engine could not go on without an administrator.

A timer step (the worker's, nobody's action) that would pass the case's timer budget, or that
the engine refuses (a bound of engine/bpmn/bounds.py, an expression failing...), does not
retry forever or spin: the case's status becomes `error` (出错) in that step's transaction, with
an `incident_raised` event (actor `system`) saying why. While a case is in error its timer jobs
do nothing and its tasks cannot be completed. An administrator lists incidents
(`lianban incidents`) and either resumes the case (`incident_resumed`: running again, its
waiting timers scheduled anew, the budget counted afresh) or cancels it.

A clerk's step the engine cannot carry out (an expression failing at run time, a field the
process reads that the case does not have, anything the engine refuses that is not the clerk's
input) is an incident too (`step_incident`): the engine's work is thrown away, the case stays
as it was (the task open, the data unchanged) and only its status becomes `error`, with an
`incident_raised` event holding the failing element, the expression, the fields it reads and
the submission; the administrators are notified, the clerk told "此办件流程出错, 已通知管理员"
(409). engine/services/recovery.py retries such a step or moves the case to a fixed version.
Administrators and designers see the list; only administrators act.

The timer budget: at most `timer_budget` timer steps of one case within `timer_window_seconds`
(engine.config.engine_limits(); counted from the case's events since it last resumed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.bpmn.errors import StepFailed
from engine.bpmn.migration import failure
from engine.config import engine_limits
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid
from engine.expressions import ExpressionError, compile_expression
from engine.persistence.incident_queries import cases_in_status, latest_events
from engine.persistence.unit_of_work import UnitOfWork

from .notify import notify
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


CLERK_MESSAGE = "此办件流程出错, 已通知管理员"
# the notification's recipient: the administrators' address, `admins` in LIANBAN_GROUP_EMAILS
# (engine/notifications.py); the log sender just logs it
ADMINS = "group:admins"


def is_incident(err: StepFailed) -> bool:
    """Whether a failed step is the process's fault (an incident), not the submitted values':
    every engine failure but a bound on the work the values ask for (too many instances...)
    and data that leads nowhere (a gateway none of whose conditions holds for it, a
    multi-instance list missing: engine/bpmn/step_errors.py), which the clerk can change: those
    are refused (422) with the case as it was."""
    return failure(err).kind not in ("limit", "data")


def _reads(expression: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """The fields a failing expression reads, with the values the case had (None: missing)."""
    if not expression:
        return {}
    try:
        names = compile_expression(expression).names
    except ExpressionError:
        return {}
    return {name: data.get(name) for name in sorted(names)}


def step_incident(
    uow: UnitOfWork,
    case: Case,
    task: HumanTask,
    actor: str,
    submitted: dict[str, Any],
    merged: dict[str, Any],
    err: StepFailed,
    now: datetime,
    retried_by: str | None = None,
) -> Conflict:
    """Stop the case as an incident because completing `task` with `submitted` failed in the
    engine: in the caller's transaction, which must hold nothing else of the failed step (the
    caller commits, then raises the returned Conflict). The case's data, state and tasks stay
    as they were; the event records what an administrator needs to retry the step."""
    what = failure(err)
    reads = _reads(what.expression, merged)
    data: dict[str, Any] = {
        "reason": err.message,
        "kind": what.kind,
        "task_id": task.id,
        "task_element": task.element,
        "task_name": task.name,
        "clerk": actor,
        "form": submitted,
        "expression": what.expression,
        "reads": reads,
        "missing": sorted(k for k in reads if k not in merged),
    }
    if retried_by is not None:
        data["retried_by"] = retried_by
    case.status = CaseStatus.ERROR
    event = case.record(EventType.INCIDENT_RAISED, SYSTEM, now, data=data)
    event.element = err.element
    subject = f"办件 {case.id} 流程出错: {task.name}"
    body = f"{subject}\n{err.message}\n请在「出错办件」中查看, 更正数据后重试或迁移到修正后的版本。"
    notify(uow, case.id, "incident", ADMINS, subject, body, now)
    save(uow, case)
    # the clerk is told where and why too (the administrators are told the rest)
    return Conflict(CLERK_MESSAGE, errors=[{"message": err.message, "element": err.element}])


START_MESSAGE = "此事项流程出错, 暂不能收件, 已通知管理员"


class StartFailed(Exception):
    """A new case's first engine step failed in the process (raised out of the start's
    transaction, which keeps nothing; `start_refused` then tells the administrators)."""

    def __init__(self, bundle: str, version: int, clerk: str, err: StepFailed) -> None:
        super().__init__(err.message)
        self.bundle, self.version, self.clerk, self.err = bundle, version, clerk, err


def start_refused(svc: Services, failed: StartFailed) -> Conflict:
    """No case is made when the start itself fails in the process (there would be no state to
    retry from): the administrators are notified, in a transaction of its own, and the clerk is
    told the process is at fault (409), not the form."""
    err = failed.err
    what = failure(err)
    subject = f"事项 {failed.bundle} 第 {failed.version} 版流程出错, 无法收件"
    lines = [
        subject,
        err.message,
        f"出错环节: {err.element or '未知'}",
        f"收件人员: {failed.clerk}",
    ]
    if what.expression:
        lines.append(f"表达式: {what.expression}")
    lines.append("请修正流程并发布新版本。")
    with svc.uow(write=True) as uow:
        notify(uow, None, "incident", ADMINS, subject, "\n".join(lines), svc.clock())
        uow.commit()
    return Conflict(START_MESSAGE, errors=[{"message": err.message, "element": err.element}])


def reschedule_timers(uow: UnitOfWork, case: Case, timers: list[Any], now: datetime) -> None:
    """Schedule the case's waiting timers again under fresh job keys (the jobs of the old
    keys ran, doing nothing, while the case was in error); due at once if their time passed."""
    for timer in timers:
        uow.jobs.schedule(
            JobKind.TIMER,
            f"{TIMER_KEY}{timer.task_id}@{case.last_seq}",
            max(timer.due, now),
            now,
            case.id,
            {"element": timer.element},
        )


def require_viewer(user: User | str) -> None:
    """Administrators and designers see incidents (the designers fix the process)."""
    if isinstance(user, User) and not user.has_role(Role.ADMIN, Role.DESIGNER):
        raise Forbidden("只有管理员和设计人员可以查看出错的办件")


def require_admin(user: User | str) -> str:
    return _require_admin(user)


def _require_admin(user: User | str) -> str:
    if isinstance(user, User):
        if not user.has_role(Role.ADMIN):
            raise Forbidden("只有管理员可以处理出错的办件")
        return user.name
    return user


def list_incidents(svc: Services, user: User | str, limit: int = 100) -> list[dict[str, Any]]:
    """Cases in error, most recently stopped first, each with why (its last incident): the
    failing element, the error and its kind, the expression and the fields it reads, the task
    whose completion failed with the submission, and the case's data. Administrators and
    designers."""
    require_viewer(user)
    found = []
    with svc.uow() as uow:
        for row in cases_in_status(uow.conn, str(CaseStatus.ERROR), limit):
            last = latest_events(uow.conn, row.id, (str(EventType.INCIDENT_RAISED),), 1)
            incident = last[0] if last else None
            details = incident.data if incident else {}
            case = uow.cases.existing(row.id)
            found.append(
                {
                    "case_id": row.id,
                    "bundle": row.bundle_key,
                    "version": row.version,
                    "since": (incident.at if incident else row.updated_at).isoformat(),
                    "element": incident.element if incident else None,
                    "kind": details.get("kind"),
                    "reason": details.get("reason"),
                    "expression": details.get("expression"),
                    "reads": details.get("reads") or {},
                    "missing": details.get("missing") or [],
                    "task_id": details.get("task_id"),
                    "task_element": details.get("task_element"),
                    "task_name": details.get("task_name"),
                    "clerk": details.get("clerk"),
                    "form": details.get("form"),
                    "retriable": "task_id" in details,
                    "data": case.data,
                }
            )
    return found


def case_in_error(uow: UnitOfWork, case_id: int) -> Case:
    """The case, locked, refused unless it is in error."""
    return _case_in_error(uow, case_id)


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
            reschedule_timers(uow, case, timers, now)
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
