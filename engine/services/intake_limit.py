"""Intake within 5 working days, or deemed accepted (Administrative Licensing Law Art. 32).

The window answers the materials it receives (受理, 不予受理, or a 补正 notice) within the bundle's
intake limit, `time_limits.intake_workdays` (default 5; 0: 当场受理, the same day). The limit
counts from the local date the bundle's intake task (`intake.element`) opened: the case start, or
the day the applicant's 补正 came in and the intake task opened again. It applies to a bundle that
has a time limit and a clock that starts at a later element (`time_limits.starts_at`), and whose
intake element is a human task.

- When the intake task opens while the clock has not started, two jobs are scheduled (key: the
  task id): `intake_warning` at 00:00 on `add(deadline, -intake_warning_workdays)` (not when
  that is before the opening day) and `intake_deadline` at 00:00 the working day after the
  deadline.
- `intake_warning`: the task still open and the clock not started: event `intake_warning` and a
  message to whoever holds the task.
- `intake_deadline`: the task still open, the case running and the clock not started: the case
  is deemed accepted from the day the materials arrived. The clock starts on that day
  (`CaseClock.deemed_start`), events `intake_deemed_accepted` then `clock_started` (with
  `"deemed": true`); the case's 预警/超期 checks are scheduled; the bundle's supervisor group
  (`escalation_group`, else the intake task's groups) is notified and messaged. No 督办 task.
- The clerk may still complete the intake task afterwards: 受理 leaves the clock as it is; a
  补正 or 不予受理 is recorded as any other, and the clock keeps running (the deemed acceptance
  stands: a late 补正 notice no longer stops the clock).

Nothing is stored besides the clock: the intake deadline is computed from the task's
`created_at` whenever it is shown (`task_marks`, `case_intake`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_versions import BundleVersion
from engine.domain.jobs import Job, JobKind
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.timelimits import CaseClock, Timeliness
from engine.persistence.unit_of_work import UnitOfWork

from . import certificates
from .context import Services, Step
from .deadlines import SYSTEM, schedule_case_checks
from .messages import MessageKind, to_holders
from .notify import notify

NOTIFICATION_KIND = "intake_deemed_accepted"


def applies(version: BundleVersion | None) -> bool:
    """Whether the bundle's intake has the Art. 32 limit: it has a time limit, its clock starts
    at a later element than the case start, and its `intake.element` is a human task."""
    if version is None:
        return False
    policy = version.time_policy
    return (
        (policy.limit is not None or policy.statutory_limit is not None)
        and policy.starts_at is not None
        and version.meta.intake.element in version.human_tasks
    )


def is_intake(version: BundleVersion | None, task: HumanTask) -> bool:
    """`task` is the bundle's intake task, under the Art. 32 limit."""
    return (
        version is not None
        and task.kind == TaskKind.BPMN
        and task.element == version.meta.intake.element
        and task.created_at is not None
        and applies(version)
    )


def received_on(svc: Services, task: HumanTask) -> date:
    """The day the materials arrived: the local date the intake task opened."""
    assert task.created_at is not None
    return svc.today(task.created_at)


def intake_deadline(version: BundleVersion, received: date, calendar: WorkdayCalendar) -> date:
    return calendar.add(received, version.time_policy.intake_limit).value


def _remaining(today: date, deadline: date, calendar: WorkdayCalendar) -> int:
    """Working days left until `deadline`; 0 on it, negative once a working day past it."""
    if today <= deadline:
        return calendar.count(today, deadline).value
    return -calendar.count(deadline, today).value


def task_marks(
    svc: Services,
    version: BundleVersion | None,
    task: HumanTask,
    clock: CaseClock,
    today: date,
    calendar: WorkdayCalendar,
) -> dict[str, Any]:
    """What a task view adds for the intake task while the intake limit runs (the case's clock
    not started): `intake_deadline`, `intake_remaining_workdays`, and the 预警/超期 mark of that
    limit as `intake_timeliness`. Nothing for any other task, or once the clock started."""
    if clock.started_on is not None or not is_intake(version, task):
        return {}
    assert version is not None
    deadline = intake_deadline(version, received_on(svc, task), calendar)
    left = _remaining(today, deadline, calendar)
    return {
        "intake_deadline": deadline.isoformat(),
        "intake_remaining_workdays": left,
        "intake_timeliness": str(Timeliness.of(left, version.time_policy.intake_warning)),
    }


def worse_flag(flag: str, marks: dict[str, Any]) -> str:
    """A worklist row's flag with the intake limit's mark counted: the worse of the two."""
    found = {flag, marks.get("intake_timeliness", flag)}
    for worst in (Timeliness.OVERDUE, Timeliness.WARNING):
        if str(worst) in found:
            return str(worst)
    return flag


def case_intake(
    svc: Services,
    version: BundleVersion | None,
    clock: CaseClock,
    open_tasks: list[HumanTask],
    today: date,
    calendar: WorkdayCalendar,
) -> dict[str, Any] | None:
    """The case view's `intake`: while the intake task is open and the clock not started, the
    day the materials arrived, the intake deadline, the working days left and its 预警/超期
    mark; after a deemed acceptance, the same with `deemed_accepted: true` (the deadline is
    then past: no days left). None when the limit does not apply, the case was accepted in
    time, or no intake task is open (the applicant is correcting materials)."""
    if not applies(version):
        return None
    assert version is not None
    if clock.deemed_accepted_on is not None and clock.started_on is not None:
        return {
            "received_on": clock.started_on.isoformat(),
            "deadline": intake_deadline(version, clock.started_on, calendar).isoformat(),
            "remaining_workdays": None,
            "timeliness": str(Timeliness.OVERDUE),
            "deemed_accepted": True,
            "deemed_accepted_on": clock.deemed_accepted_on.isoformat(),
        }
    if clock.started_on is not None:
        return None
    task = next((t for t in open_tasks if is_intake(version, t)), None)
    if task is None:
        return None
    received = received_on(svc, task)
    deadline = intake_deadline(version, received, calendar)
    left = _remaining(today, deadline, calendar)
    return {
        "received_on": received.isoformat(),
        "deadline": deadline.isoformat(),
        "remaining_workdays": left,
        "timeliness": str(Timeliness.of(left, version.time_policy.intake_warning)),
        "deemed_accepted": False,
        "deemed_accepted_on": None,
    }


def schedule(step: Step, task: HumanTask) -> None:
    """A task the step opened: when it is the intake task and the clock has not started, the
    intake limit's 预警 and deadline jobs (record_step, engine/services/steps.py)."""
    if step.case.clock.started_on is not None or not is_intake(step.version, task):
        return
    svc, uow, calendar, now = step.svc, step.uow, step.calendar, step.now
    received = received_on(svc, task)
    deadline = intake_deadline(step.version, received, calendar)
    warning = step.version.time_policy.intake_warning
    warn_on = calendar.add(deadline, -warning).value
    if warn_on >= received:
        due = svc.local_midnight(warn_on)
        uow.jobs.schedule(JobKind.INTAKE_WARNING, task.id, due, now, task.case_id)
    due = svc.local_midnight(calendar.add(deadline, 1).value)
    uow.jobs.schedule(JobKind.INTAKE_DEADLINE, task.id, due, now, task.case_id)


def _waiting_intake(
    svc: Services, uow: UnitOfWork, job: Job
) -> tuple[Case, BundleVersion, HumanTask] | None:
    """The case (locked) and its intake task when the job still has something to do: the case
    running (not ended, not 挂起: suspension.py runs the job again on 恢复), the clock not
    started, the task still open."""
    case = uow.cases.get(job.case_id, lock=True) if job.case_id is not None else None
    if case is None or case.status != CaseStatus.RUNNING or case.clock.started_on is not None:
        return None
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    task = uow.tasks.get(job.key.split("@")[0])
    if task is None or task.status != TaskStatus.OPEN or not is_intake(version, task):
        return None
    return case, version, task


def check_warning(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """预警: the intake task is still unanswered with at most the margin of working days left."""
    found = _waiting_intake(svc, uow, job)
    if found is None:
        return
    case, version, task = found
    calendar = svc.calendars.get(uow)
    received = received_on(svc, task)
    deadline = intake_deadline(version, received, calendar)
    left = _remaining(svc.today(now), deadline, calendar)
    if left < 0:
        return  # already past it: the deadline job speaks for it
    case.updated_at = now
    data = {
        "received_on": received.isoformat(),
        "intake_deadline": deadline.isoformat(),
        "remaining_workdays": left,
    }
    case.record(EventType.INTAKE_WARNING, SYSTEM, now, task, data)
    title = f"受理期限预警: 办件 {case.id} ({version.name})"
    body = (
        f"办件 {case.id} 于 {received.isoformat()} 收到申请材料, 应在 {deadline.isoformat()} 前"
        f"作出受理、不予受理或补正决定 (还剩 {left} 个工作日)。逾期未答复的, "
        "自收到申请材料之日起即视为受理 (行政许可法第三十二条)。"
    )
    to_holders(uow, [task], MessageKind.WARNING, title, body, now)
    uow.cases.save(case)


def check_deadline(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """The intake limit passed unanswered: the case is deemed accepted from the day its
    materials arrived (Art. 32)."""
    found = _waiting_intake(svc, uow, job)
    if found is None:
        return
    case, version, task = found
    calendar = svc.calendars.get(uow)
    today = svc.today(now)
    received = received_on(svc, task)
    deadline = intake_deadline(version, received, calendar)
    if calendar.count(deadline, today).value == 0:
        # not yet a working day past it (the calendar gained a holiday since): look again then
        due = svc.local_midnight(calendar.add(deadline, 1).value)
        key = f"{task.id}@{deadline.isoformat()}"
        uow.jobs.schedule(JobKind.INTAKE_DEADLINE, key, due, now, case.id)
        return
    policy = version.time_policy
    limit, statutory = certificates.case_limits(version, case.data)  # the items applied for
    clock = CaseClock(limit=limit, statutory_limit=statutory)
    clock = clock.deemed_start(received, today, calendar)
    case.clock = clock
    case.updated_at = now
    data = {
        "received_on": received.isoformat(),
        "intake_deadline": deadline.isoformat(),
        "intake_workdays": policy.intake_limit,
    }
    case.record(EventType.INTAKE_DEEMED_ACCEPTED, SYSTEM, now, task, data)
    case.record(EventType.CLOCK_STARTED, SYSTEM, now, data={**clock.to_dict(), "deemed": True})
    schedule_case_checks(svc, uow, case, version, now)
    _tell_supervisors(uow, case, version, task, received, deadline, clock, now)
    uow.cases.save(case)


def _tell_supervisors(
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    task: HumanTask,
    received: date,
    deadline: date,
    clock: CaseClock,
    now: datetime,
) -> None:
    """A notification to the bundle's supervisor group (else each group of the intake task), a
    message to its members and to whoever holds the intake task."""
    group = version.time_policy.escalation_group
    subject = f"办件 {case.id} ({version.name}) 逾期未作受理决定, 已视为受理"
    lines = [
        f"办件 {case.id} 于 {received.isoformat()} 收到申请材料, 受理期限 {deadline.isoformat()} "
        "已过, 窗口未作出受理、不予受理或补正决定。",
        "依行政许可法第三十二条, 自收到申请材料之日起即视为受理, "
        f"办理时限自 {received.isoformat()} 起计算。",
    ]
    if clock.deadline is not None:
        lines.append(f"承诺期限 {clock.deadline.isoformat()}。")
    body = "\n".join(lines)
    for recipient in [group] if group else sorted(set(task.groups)):
        notify(uow, case.id, NOTIFICATION_KIND, f"group:{recipient}", subject, body, now)
    to_holders(uow, [task], MessageKind.OVERDUE, subject, body, now)
    if group and (task.assignee is not None or group not in task.groups):
        message = {
            "kind": str(MessageKind.OVERDUE),
            "title": subject[:300],
            "body": body,
            "case_id": case.id,
            "task_id": task.id,
            "created_at": now,
        }
        uow.messages.to_group(group, message, "")
