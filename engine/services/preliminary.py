"""下级初审 (Administrative Licensing Law Art. 43): where a lower level reviews an application
first and forwards it (转报) to the level that decides, the lower level has its own limit (20
working days by default) and the upper level's counts from the forwarding.

bundle.json `time_limits.preliminary` {"starts_at" (None: the case start), "forwarded_at",
"statutory_workdays", "level"} (engine/domain/bundle_metadata.py `PreliminaryPolicy`); the upper
level's clock starts at `forwarded_at` unless `time_limits.starts_at` says otherwise.

- `track` (from engine/services/deadlines.py `update_clock`, each step): when `starts_at`
  completes (or at the case start) the lower level's clock is stored on the case clock
  (`preliminary_limit`, `preliminary_started_on`, `preliminary_deadline`) with a
  `preliminary_started` event, and its deadline check is scheduled; when `forwarded_at`
  completes, `case_forwarded` {"forwarded_on", "preliminary_deadline", "on_time"}, before the
  upper level's `clock_started`.
- `check_deadline` (job `preliminary_deadline`, the working day after the deadline): not yet
  forwarded, the case is overdue at the lower level: `case_overdue` {"deadline",
  "preliminary": true}, the clerks holding it are told and it is escalated (督办) like any
  other passed limit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from engine.domain.jobs import Job, JobKind
from engine.domain.model import CaseStatus, EventType
from engine.domain.timelimits import CaseClock
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services, Step
from .escalation import escalate
from .messages import MessageKind, to_holders

SYSTEM = "system"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def track(step: Step) -> None:
    """Start the lower level's clock, or record the forwarding, as this step reaches them."""
    policy = step.version.time_policy.preliminary
    if policy is None:
        return
    case, today, calendar = step.case, step.today, step.calendar
    clock = case.clock
    if (
        clock.preliminary_started_on is None
        and clock.started_on is None
        and (policy.starts_at is None or step.workflow.element_completed(policy.starts_at))
    ):
        deadline = calendar.add(today, policy.statutory_limit).value
        clock = replace(
            clock,
            preliminary_limit=policy.statutory_limit,
            preliminary_started_on=today,
            preliminary_deadline=deadline,
        )
        case.clock = clock
        case.record(
            EventType.PRELIMINARY_STARTED,
            SYSTEM,
            step.now,
            data={
                "started_on": today.isoformat(),
                "limit": policy.statutory_limit,
                "deadline": deadline.isoformat(),
                "level": policy.level,
            },
        )
        due = step.svc.local_midnight(calendar.add(deadline, 1).value)
        key = f"{case.id}:{deadline.isoformat()}"
        step.uow.jobs.schedule(JobKind.PRELIMINARY_DEADLINE, key, due, step.now, case.id)
    if (
        clock.preliminary_started_on is not None
        and clock.forwarded_on is None
        and step.workflow.element_completed(policy.forwarded_at)
    ):
        limit_day = clock.preliminary_deadline
        on_time = limit_day is None or today <= limit_day
        case.clock = replace(clock, forwarded_on=today)
        case.record(
            EventType.CASE_FORWARDED,
            SYSTEM,
            step.now,
            data={
                "forwarded_on": today.isoformat(),
                "preliminary_deadline": _iso(limit_day),
                "on_time": on_time,
            },
        )


def status(clock: CaseClock) -> dict[str, Any] | None:
    """What the pages show of the lower level's limit: {"limit", "started_on", "deadline",
    "forwarded_on", "on_time" (None until forwarded), "text"}; None without one."""
    if clock.preliminary_started_on is None:
        return None
    deadline = _iso(clock.preliminary_deadline)
    text = f"下级初审期限 {clock.preliminary_limit} 个工作日, 至 {deadline}"
    on_time = None
    if clock.forwarded_on is not None:
        on_time = clock.preliminary_deadline is None or (
            clock.forwarded_on <= clock.preliminary_deadline
        )
        text += f"; {clock.forwarded_on.isoformat()} 已转报 ({'按期' if on_time else '超期'})"
    return {
        "limit": clock.preliminary_limit,
        "started_on": _iso(clock.preliminary_started_on),
        "deadline": deadline,
        "forwarded_on": _iso(clock.forwarded_on),
        "on_time": on_time,
        "text": text,
    }


def check_deadline(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """The working day after the lower level's deadline: not forwarded yet, it is overdue."""

    case = uow.cases.get(job.case_id, lock=True) if job.case_id is not None else None
    if case is None or case.status not in (CaseStatus.RUNNING, CaseStatus.SUSPENDED):
        return
    clock = case.clock
    deadline = clock.preliminary_deadline
    if deadline is None or clock.forwarded_on is not None:
        return
    if job.key != f"{case.id}:{deadline.isoformat()}" or svc.today(now) <= deadline:
        return
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    level = version.time_policy.preliminary.level if version.time_policy.preliminary else ""
    case.updated_at = now
    case.record(
        EventType.CASE_OVERDUE,
        SYSTEM,
        now,
        data={"deadline": deadline.isoformat(), "preliminary": True},
    )
    open_tasks = uow.tasks.open_for_case(case.id)
    about = f"{level}初审已超过法定期限 ({deadline.isoformat()}), 尚未转报"
    title = f"超期: 办件 {case.id} ({version.name}) 下级初审"
    to_holders(uow, open_tasks, MessageKind.OVERDUE, title, f"办件 {case.id} 的{about}。", now)
    groups = tuple(g for t in open_tasks for g in t.groups)
    escalate(uow, case, version, about, groups, now)
    uow.cases.save(case)
