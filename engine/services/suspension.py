"""挂起 / 恢复 (issue 18 · 8): a running case is suspended with a reason, say awaiting a court
ruling or an expert review, and later resumed.

- **Who**: a clerk of a group holding the case (an open task's group), a supervisor of the
  bundle (督办组), or an administrator; the same may resume it.
- **While suspended** (status `suspended`, 已挂起) nothing can be worked: completing, claiming,
  urging and every task operation refuse with "办件已挂起 (原因: …), 恢复后才能办理" (409,
  engine/services/suspended.py). The case may still be withdrawn (撤回/撤销): an applicant may
  withdraw an application at any time. Worklists keep its tasks, marked 已挂起.
- **Timers wait**: the worker's timer jobs and 预警/超期/task-limit checks of a suspended case
  run doing nothing; resuming puts those that ran while it was suspended back, due at once, so
  a timer that fell due meanwhile fires at the worker's next run (and is recorded with its due).
- **The statutory clock** (Administrative Licensing Law Art. 45): a suspension whose kind the
  bundle lists in `time_limits.suspension_stops_clock` (default: the special procedures of
  Art. 45, engine/domain/suspension.py) pauses the clock (`clock_paused` {"by": "suspended"});
  resuming resumes it (`clock_resumed`, the deadline moves by the working days waited). Any
  other kind leaves the clock running. A clock already paused (补正) stays as it is: the pause
  that was there before goes on after.
"""

from __future__ import annotations

from typing import Any

from engine.domain.bundle_versions import BundleVersion
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseStatus, EventType
from engine.domain.suspension import ART45_KINDS, MAX_REASON, SUSPENSION_KINDS, kind_label
from engine.domain.timelimits import MAX_WORKDAYS, ClockState
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid
from engine.persistence.unit_of_work import UnitOfWork

from .case_access import holder_groups, supervisor_groups
from .context import Services
from .deadlines import SYSTEM, schedule_case_checks
from .queries import case_view
from .special_procedures import on_resume, procedure, tell_applicant
from .steps import retrying, save
from .submissions import check_values
from .suspended import suspension_of

# the jobs a suspended case lets pass, run again on 恢复
WAITING_JOBS = (
    JobKind.TIMER,
    JobKind.CASE_WARNING,
    JobKind.CASE_DEADLINE,
    JobKind.TASK_DEADLINE,
    JobKind.TASK_WARNING,
    JobKind.INTAKE_WARNING,  # Art. 32 (intake_limit.py)
    JobKind.INTAKE_DEADLINE,
)


def _may(uow: UnitOfWork, version: BundleVersion, case: Case, user: User) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.CLERK):
        return False
    return bool(user.groups & (holder_groups(uow, case) | supervisor_groups(version)))


def _require_allowed(uow: UnitOfWork, version: BundleVersion, case: Case, user: User) -> None:
    if not _may(uow, version, case, user):
        raise Forbidden("只有正在办理该办件的部门、督办人员或管理员可以挂起或恢复办件")


def _text(value: Any, field: str, what: str, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_REASON:
        message = f"{what}应为不超过 {MAX_REASON} 字的文本"
        raise Invalid(message, [{"message": message, "field": field}])
    text = value.strip()
    if required and not text:
        message = f"请填写{what}"
        raise Invalid(message, [{"message": message, "field": field}])
    return text


def _not_running(case: Case) -> Conflict:
    if case.status == CaseStatus.SUSPENDED:
        return Conflict(f"办件 {case.id} 已挂起, 不能重复挂起")
    if case.status == CaseStatus.ERROR:
        return Conflict(f"办件 {case.id} 出错, 已停止自动推进: 请管理员先处理, 不能挂起")
    return Conflict(f"办件 {case.id} {case.status.label}, 不能挂起")


def can_suspend(svc: Services, user: User, case_id: int) -> bool:
    """May `user` suspend the case now (running, and they hold or supervise it)?"""
    return _can(svc, user, case_id, CaseStatus.RUNNING)


def can_resume(svc: Services, user: User, case_id: int) -> bool:
    return _can(svc, user, case_id, CaseStatus.SUSPENDED)


def _can(svc: Services, user: User, case_id: int, status: CaseStatus) -> bool:
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        if case.status != status:
            return False
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        return _may(uow, version, case, user)


def kinds(svc: Services, case_id: int) -> list[dict[str, Any]]:
    """The reasons a case may be suspended for, each saying whether it stops the case's clock
    (its bundle's `time_limits.suspension_stops_clock`)."""
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    stops = version.time_policy.suspension_stops_clock
    return [{"kind": k, "label": v, "stops_clock": k in stops} for k, v in SUSPENSION_KINDS.items()]


def _expected_workdays(value: Any) -> int | None:
    """The optional 预计所需工作日 of a special procedure (Art. 45): 1..3650, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WORKDAYS:
        message = f"预计所需工作日应为 1 到 {MAX_WORKDAYS} 之间的整数"
        raise Invalid(message, [{"message": message, "field": "expected_workdays"}])
    return value


def suspend(
    svc: Services,
    user: User,
    case_id: int,
    reason: Any,
    kind: Any,
    expected_workdays: Any = None,
) -> dict[str, Any]:
    """挂起: the case stops where it is, with its reason; the clock pauses when the bundle says
    the kind stops it. One transaction with `case_suspended` (and `clock_paused`). A special
    procedure of Art. 45 that pauses the clock is told to the applicant, with the working days
    it is expected to take (`expected_workdays`, optional)."""
    text = _text(reason, "reason", "挂起原因", required=True)
    expected = _expected_workdays(expected_workdays)
    if not isinstance(kind, str) or kind not in SUSPENSION_KINDS:
        named = "、".join(f"{k} ({v})" for k, v in SUSPENSION_KINDS.items())
        message = f"挂起类型应为其中之一: {named}"
        raise Invalid(message, [{"message": message, "field": "kind"}])
    check_values({"reason": text}, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            if case.status != CaseStatus.RUNNING:
                raise _not_running(case)
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            _require_allowed(uow, version, case, user)
            now = svc.clock()
            stops = kind in version.time_policy.suspension_stops_clock
            before = case.clock.state
            paused = stops and before == ClockState.RUNNING
            if paused:
                case.clock = case.clock.pause(svc.today(now))
            clock = (
                "stopped"
                if paused or before == ClockState.PAUSED
                else "running"
                if before == ClockState.RUNNING
                else "none"  # not yet accepted (受理), or already stopped
            )
            case.status = CaseStatus.SUSPENDED
            case.record(
                EventType.CASE_SUSPENDED,
                user.name,
                now,
                data={
                    "reason": text,
                    "kind": kind,
                    "kind_label": kind_label(kind),
                    "clock": clock,
                    "paused_clock": paused,
                    **({"expected_workdays": expected} if expected is not None else {}),
                },
            )
            if paused:
                data: dict[str, Any] = {"by": "suspended", "kind": kind}
                if kind in ART45_KINDS:  # 特别程序: the applicant is told in writing
                    calendar = svc.calendars.get(uow)
                    found = procedure(kind, expected, svc.today(now), calendar)
                    data["procedure"] = found
                    tell_applicant(uow, case, version, found, now)
                case.record(EventType.CLOCK_PAUSED, SYSTEM, now, data=data)
            save(uow, case)
            view = _view(svc, uow, case, now)
            uow.commit()
            return view

    return retrying(step)


def resume(svc: Services, user: User, case_id: int, note: Any = None) -> dict[str, Any]:
    """恢复: the case runs again; a clock the suspension paused resumes (the deadline moves by
    the working days waited), and the timers and deadline checks that fell due meanwhile run at
    the worker's next turn. One transaction with `case_unsuspended` (and `clock_resumed`)."""
    text = _text(note, "note", "恢复说明", required=False)
    check_values({"note": text}, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            if case.status != CaseStatus.SUSPENDED:
                raise Conflict(f"办件 {case.id} 未挂起 ({case.status.label}), 无需恢复")
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            _require_allowed(uow, version, case, user)
            found = suspension_of(uow, case)
            assert found is not None  # a suspended case has its case_suspended event
            event = uow.cases.event(case.id, int(found["seq"]))
            since = event.at if event is not None else case.updated_at
            paused = bool(event.data.get("paused_clock")) if event is not None else False
            now = svc.clock()
            today = svc.today(now)
            calendar = svc.calendars.get(uow)
            days = calendar.count(svc.today(since), today).value
            case.status = CaseStatus.RUNNING
            case.record(
                EventType.CASE_UNSUSPENDED,
                user.name,
                now,
                data={
                    "note": text,
                    "kind": found["kind"],
                    "suspended_workdays": days,
                    "clock": found["clock"],
                },
            )
            if paused and case.clock.state == ClockState.PAUSED:
                clock, waited = case.clock.refreshed(calendar).resume(today, calendar)
                case.clock = clock
                case.record(
                    EventType.CLOCK_RESUMED,
                    SYSTEM,
                    now,
                    data={
                        "by": "unsuspended",
                        "waited_workdays": waited,
                        "deadline": clock.to_dict()["deadline"],
                        **on_resume(uow, case),
                    },
                )
                schedule_case_checks(svc, uow, case, version, now)
            uow.jobs.reopen_done_since(case.id, tuple(map(str, WAITING_JOBS)), since, now)
            save(uow, case)
            view = _view(svc, uow, case, now)
            uow.commit()
            return view

    return retrying(step)


def _view(svc: Services, uow: UnitOfWork, case: Case, now: Any) -> dict[str, Any]:
    return case_view(svc, uow, svc.calendars.get(uow), case, uow.tasks.open_for_case(case.id), now)
