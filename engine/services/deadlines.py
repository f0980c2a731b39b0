"""Time limits at work: the case clock through each step, task limits, 预警/超期 and 督办.

After every step the case's clock is started (at 受理), paused (while a task marked
`clock: pause` is open) or resumed, and stopped when the case ends. Each deadline gets jobs:
a warning when it comes within the bundle's margin, and a check the day after it; a passed
deadline is recorded and escalated to a 督办 task for the bundle's supervisor group. A task with
an hour limit (`time_limit: 4h`) is due at a moment (`due_at`), checked at that moment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from engine.bpmn.timer_texts import DUE_DATE, due_date
from engine.bundles.checks import CLOCK_PAUSE
from engine.calendar import WorkdayCalendar
from engine.domain.bundle_metadata import DEFAULT_WARNING_WORKDAYS
from engine.domain.bundle_versions import BundleVersion
from engine.domain.jobs import Job, JobKind
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.task_limits import (
    DELIVERY,
    due_moment,
    due_text,
    limit_kind,
    remaining_work_minutes,
    warning_moment,
    work_time_text,
)
from engine.domain.timelimits import MAX_WORKDAYS, CaseClock, ClockState, Timeliness
from engine.persistence.unit_of_work import UnitOfWork

from . import certificates, preliminary, special_procedures
from .context import Services, Step
from .escalation import escalate as _escalate
from .messages import MessageKind, to_holders

SYSTEM = "system"
PRELIMINARY_FIELDS = (
    "preliminary_limit",
    "preliminary_started_on",
    "preliminary_deadline",
    "forwarded_on",
)


def task_deadline(
    version: BundleVersion,
    element: str,
    data: dict[str, Any],
    opened: date,
    calendar: WorkdayCalendar,
) -> date | None:
    """The deadline of a task whose element states a `time_limit` (days, or a data field), or
    of an issuance task (送达, Art. 44: `time_limits.delivery_workdays` from the decision)."""
    info = version.human_tasks.get(element)
    limit = info.properties.get("time_limit") if info else None
    if limit is None and info is not None and DUE_DATE in info.properties:
        return due_date(info.properties[DUE_DATE], data, opened)  # camunda:dueDate
    if limit is None:
        if limit_kind(version, element) == DELIVERY:
            return calendar.add(opened, version.time_policy.delivery_limit).value
        return None
    days = int(limit) if limit.isascii() and limit.isdigit() else data.get(limit)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_WORKDAYS:
        # the field is missing, not a whole number or beyond any real limit (its form may set no
        # maximum): no limit rather than a wrong one, or a date past the calendar's end
        return None
    return calendar.add(opened, days).value


def task_limit(
    svc: Services,
    version: BundleVersion,
    element: str,
    data: dict[str, Any],
    now: datetime,
    calendar: WorkdayCalendar,
) -> tuple[date | None, datetime | None]:
    """A task opening now: its `deadline` and, for an hour limit (`time_limit: 4h`), its
    `due_at`, whose local date the deadline then is (docs/time-limits.md "Hour limits")."""
    due_at = due_moment(version, element, now, calendar, svc.tz)
    if due_at is not None:
        return due_at.astimezone(svc.tz).date(), due_at
    return task_deadline(version, element, data, svc.today(now), calendar), None


def _pausing(version: BundleVersion, open_tasks: list[HumanTask]) -> list[HumanTask]:
    """The open tasks that stop the clock: `clock: pause` elements, the bundle's 特别程序
    (`time_limits.special_procedures`, Art. 45) and 听证 tasks (Arts. 46–47)."""
    found = []
    special = version.time_policy.special_procedures
    for task in open_tasks:
        if task.kind == TaskKind.HEARING:
            found.append(task)
            continue
        info = version.human_tasks.get(task.element)
        if info is not None and (
            info.properties.get("clock") == CLOCK_PAUSE or task.element in special
        ):
            found.append(task)
    return found


def update_clock(step: Step, open_tasks: list[HumanTask]) -> None:
    """Move the case's clock through this step, recording each change as an event."""
    case, version, calendar = step.case, step.version, step.calendar
    now, today = step.now, step.today
    policy = version.time_policy
    preliminary.track(step)  # 下级初审 (Art. 43): its own limit, then the forwarding
    if policy.limit is None and policy.statutory_limit is None and case.clock.started_on is None:
        return  # the bundle states no time limit
    before = case.clock  # as stored: a calendar change since then may move the deadline
    clock = before.refreshed(calendar)
    if clock.state == ClockState.NOT_STARTED and (
        policy.starts_at is None or step.workflow.element_completed(policy.starts_at)
    ):
        # a fresh clock, keeping the lower level's (Art. 43) if there was one
        # the limits of the items this case applies for (docs/time-limits.md)
        limit, statutory = certificates.case_limits(version, case.data)
        clock = replace(
            CaseClock(limit=limit, statutory_limit=statutory),
            **{k: getattr(clock, k) for k in PRELIMINARY_FIELDS},
        )
        clock = clock.start(today, calendar)
        case.clock = clock
        case.record(EventType.CLOCK_STARTED, SYSTEM, now, data=clock.to_dict())
    if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
        if policy.hearing is not None:  # 听证 tasks are not the diagram's: read them too
            seen = {t.id for t in open_tasks}
            open_tasks = open_tasks + [
                t
                for t in step.uow.tasks.open_for_case(case.id)
                if t.kind == TaskKind.HEARING and t.id not in seen
            ]
        waiting = _pausing(version, open_tasks)
        if waiting and clock.state == ClockState.RUNNING:
            clock = clock.pause(today)
            case.record(
                EventType.CLOCK_PAUSED,
                SYSTEM,
                now,
                data={
                    "waiting_on": [t.element for t in waiting],
                    **special_procedures.on_task_pause(step, waiting),  # Art. 45: tell them
                },
            )
        elif not waiting and clock.state == ClockState.PAUSED:
            clock, waited = clock.resume(today, calendar)
            case.record(
                EventType.CLOCK_RESUMED,
                SYSTEM,
                now,
                data={
                    "waited_workdays": waited,
                    "deadline": clock.to_dict()["deadline"],
                    **special_procedures.on_resume(step.uow, case),
                },
            )
    if case.status not in (CaseStatus.RUNNING, CaseStatus.SUSPENDED):  # 挂起 does not end it
        clock = clock.stop(today)
    case.clock = clock
    moved = clock.deadline != before.deadline or before.state != ClockState.RUNNING
    if clock.state == ClockState.RUNNING and clock.deadline is not None and moved:
        # checks for this deadline; those of an earlier one find nothing to do when they run
        _schedule_case_checks(
            step.svc, step.uow, case, clock.deadline, policy.warning, calendar, now
        )


def _schedule_case_checks(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    deadline: date,
    warning: int,
    calendar: WorkdayCalendar,
    now: datetime,
) -> None:
    key = f"{case.id}:{deadline.isoformat()}"
    warn_on = calendar.add(deadline, -warning).value if warning else deadline
    uow.jobs.schedule(JobKind.CASE_WARNING, key, svc.local_midnight(warn_on), now, case.id)
    # Overdue from the next working day on: after a Friday deadline, on Monday.
    overdue_on = calendar.add(deadline, 1).value
    uow.jobs.schedule(JobKind.CASE_DEADLINE, key, svc.local_midnight(overdue_on), now, case.id)


def schedule_case_checks(
    svc: Services, uow: UnitOfWork, case: Case, version: BundleVersion, now: datetime
) -> None:
    """预警 and 超期 checks for the case's deadline, when its clock runs (after 恢复 from 挂起:
    engine/services/suspension.py)."""
    calendar = svc.calendars.get(uow)
    if case.clock.state == ClockState.RUNNING and case.clock.deadline is not None:
        warning = version.time_policy.warning
        _schedule_case_checks(svc, uow, case, case.clock.deadline, warning, calendar, now)


def schedule_task_check(
    svc: Services,
    uow: UnitOfWork,
    task: HumanTask,
    calendar: WorkdayCalendar,
    now: datetime,
    warning: int = DEFAULT_WARNING_WORKDAYS,
    version: BundleVersion | None = None,
) -> None:
    """预警 (`warning` working days before) and 超期 checks for a task's own deadline. An hour
    limit (`due_at`, of `version`) is checked at its due moment, its 预警 `warning_hours`
    working hours before (none when that is not after now: a limit within the margin)."""
    if task.due_at is not None and version is not None:
        uow.jobs.schedule(JobKind.TASK_DEADLINE, task.id, task.due_at, now, task.case_id)
        warn_at = warning_moment(version, task.due_at, calendar, svc.tz)
        if warn_at is not None and warn_at > now:
            uow.jobs.schedule(JobKind.TASK_WARNING, task.id, warn_at, now, task.case_id)
        return
    if task.deadline is not None:
        due = svc.local_midnight(calendar.add(task.deadline, 1).value)
        uow.jobs.schedule(JobKind.TASK_DEADLINE, task.id, due, now, task.case_id)
        warn_on = calendar.add(task.deadline, -warning).value if warning else task.deadline
        if warn_on >= svc.today(now):  # a limit shorter than the margin: no warning to give
            midnight = svc.local_midnight(warn_on)
            uow.jobs.schedule(JobKind.TASK_WARNING, task.id, midnight, now, task.case_id)


def _running_case(
    svc: Services, uow: UnitOfWork, job: Job, ended_too: bool = False
) -> tuple[Case, BundleVersion] | None:
    case = uow.cases.get(job.case_id, lock=True) if job.case_id is not None else None
    if case is None or (case.status != CaseStatus.RUNNING and not ended_too):
        return None
    if case.status == CaseStatus.SUSPENDED:  # 挂起: checked again on 恢复 (suspension.py)
        return None
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    return case, version


def check_case_warning(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    found = _running_case(svc, uow, job)
    if found is None:
        return
    case, version = found
    calendar = svc.calendars.get(uow)
    clock = case.clock.refreshed(calendar)
    if (
        clock.timeliness(svc.today(now), calendar, version.time_policy.warning)
        != Timeliness.WARNING
    ):
        return  # paused, resumed with a later deadline, or already past it
    left = clock.remaining(svc.today(now), calendar)
    case.updated_at = now
    case.record(
        EventType.CASE_WARNING,
        SYSTEM,
        now,
        data={"deadline": clock.to_dict()["deadline"], "remaining_workdays": left},
    )
    title = f"预警: 办件 {case.id} ({version.name})"
    body = f"办件 {case.id} 距承诺期限 {clock.to_dict()['deadline']} 还剩 {left} 个工作日。"
    to_holders(uow, uow.tasks.open_for_case(case.id), MessageKind.WARNING, title, body, now)
    uow.cases.save(case)


def check_case_deadline(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    found = _running_case(svc, uow, job)
    if found is None:
        return
    case, version = found
    calendar = svc.calendars.get(uow)
    clock = case.clock.refreshed(calendar)
    deadline = clock.to_dict()["deadline"]
    if job.key != f"{case.id}:{deadline}":
        # The deadline moved (a pause, a calendar change): check the new one instead.
        if clock.state == ClockState.RUNNING and clock.deadline is not None:
            _schedule_case_checks(
                svc, uow, case, clock.deadline, version.time_policy.warning, calendar, now
            )
        return
    if clock.timeliness(svc.today(now), calendar, 0) != Timeliness.OVERDUE:
        return
    case.updated_at = now
    case.record(EventType.CASE_OVERDUE, SYSTEM, now, data={"deadline": deadline})
    open_tasks = uow.tasks.open_for_case(case.id)
    title = f"超期: 办件 {case.id} ({version.name})"
    body = f"办件 {case.id} 已超过承诺期限 {deadline}, 请尽快办理。"
    to_holders(uow, open_tasks, MessageKind.OVERDUE, title, body, now)
    groups = tuple(g for t in open_tasks for g in t.groups)
    _escalate(uow, case, version, f"办件已超过承诺时限 ({deadline})", groups, now)
    uow.cases.save(case)


def check_task_deadline(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    # 整改 and 回访 tasks belong to concluded cases: their limits count all the same.
    found = _running_case(svc, uow, job, ended_too=True)
    if found is None:
        return
    case, version = found
    task = uow.tasks.get(job.key)
    if task is None or task.status != TaskStatus.OPEN or task.deadline is None:
        return
    data: dict[str, Any] = {"deadline": task.deadline.isoformat()}
    when = task.deadline.isoformat()
    if task.due_at is not None:  # an hour limit: overdue from its due moment on
        if now < task.due_at:
            return
        data["due_at"] = task.due_at.isoformat()
        when = due_text(task.due_at, svc.tz)
    elif svc.calendars.get(uow).count(task.deadline, svc.today(now)).value == 0:
        return  # not yet a working day past it
    case.updated_at = now
    case.record(EventType.TASK_OVERDUE, SYSTEM, now, task, data)
    about = f"{task.name} 已超过办理时限 ({when})"
    title = f"任务超期: {task.name}"
    to_holders(uow, [task], MessageKind.OVERDUE, title, f"办件 {case.id} 的{about}。", now)
    _escalate(uow, case, version, about, task.groups, now)
    uow.cases.save(case)


def check_task_warning(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """预警 for a task's own limit (送达 of Art. 44 among them): still open, with at most the
    bundle's margin of working days left, on the day the job runs."""
    found = _running_case(svc, uow, job, ended_too=True)
    if found is None:
        return
    case, version = found
    task = uow.tasks.get(job.key)
    if task is None or task.status != TaskStatus.OPEN or task.deadline is None:
        return
    calendar = svc.calendars.get(uow)
    today = svc.today(now)
    deadline = task.deadline.isoformat()
    what = "送达期限" if limit_kind(version, task.element) == DELIVERY else "办理期限"
    if task.due_at is not None:  # an hour limit: what is left in working time
        if now >= task.due_at:
            return  # already past it: the deadline check speaks for it
        minutes = remaining_work_minutes(version, task.due_at, now, calendar, svc.tz)
        data: dict[str, Any] = {
            "deadline": deadline,
            "due_at": task.due_at.isoformat(),
            "remaining_work_minutes": minutes,
        }
        left_text = work_time_text(minutes)
        deadline = due_text(task.due_at, svc.tz)
    else:
        if today > task.deadline:
            return  # already past it: the deadline check speaks for it
        left = calendar.count(today, task.deadline).value
        data = {"deadline": deadline, "remaining_workdays": left}
        left_text = f"{left} 个工作日"
    case.updated_at = now
    case.record(EventType.TASK_WARNING, SYSTEM, now, task, data)
    title = f"任务预警: {task.name}"
    body = f"办件 {case.id} 的{task.name} 距{what} {deadline} 还剩 {left_text}。"
    to_holders(uow, [task], MessageKind.WARNING, title, body, now)
    uow.cases.save(case)
