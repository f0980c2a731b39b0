"""听证 (Administrative Licensing Law Arts. 46–47): before a decision the bundle marks as
affecting major interests, the applicant is told of the right to ask for a hearing.

- **Notice**: when a task of one of `time_limits.hearing.decisions` opens for the first time in a
  case, `hearing_rights_notified` is recorded ({"decision", "request_by", "request_workdays"}),
  the applicant is notified (行政许可法第四十七条) and a job is set for the day after `request_by`.
- **Answer**: the window (or a clerk holding the case, or an administrator) records the
  applicant's written answer: `request` opens a 听证 task (TaskKind.HEARING) for the hearing
  group with its own limit, and the clock stops (`clock_paused` {"by": "hearing"}); `waive`
  records `hearing_waived` {"by": "applicant"}. With no answer by `request_by`, the job records
  `hearing_waived` {"by": "expired"}.
- **Deciding**: the decision task cannot be completed while the request period runs unanswered
  or a hearing is open (409).
- **Held**: the hearing group completes the 听证 task with the minutes; the clock resumes unless
  another task still stops it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from engine.domain.bundle_metadata import HearingPolicy
from engine.domain.bundle_versions import BundleVersion
from engine.domain.jobs import Job
from engine.domain.model import (
    Case,
    CaseEvent,
    CaseStatus,
    EventType,
    HumanTask,
    TaskKind,
    TaskStatus,
)
from engine.domain.timelimits import ClockState
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

from .case_access import holder_groups, task_groups_of, window_groups
from .context import Services
from .deadlines import SYSTEM, _pausing, schedule_case_checks, schedule_task_check
from .hearing_rights import (
    notices,
    open_hearings,
    parse_day,
    policy_of,
    state,
)
from .messages import tasks_opened
from .queries import case_view, load_case_view, parties_of
from .steps import retrying, save
from .submissions import check_values
from .suspended import require_workable

REQUEST = "request"  # 申请听证
WAIVE = "waive"  # 放弃听证
ACTIONS = {REQUEST: "申请听证", WAIVE: "放弃听证"}
HEARING_ELEMENT = "hearing"
MAX_NOTE = 500
MAX_MINUTES = 5000
LAW = "《中华人民共和国行政许可法》第四十六条、第四十七条"
# the 听证 task's form: the minutes the hearing group records (checked again in `_held_form`)
FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "听证笔录",
    "description": "听证结束后, 记录听证日期和听证笔录摘要; 提交后恢复计时, 方可作出决定。",
    "type": "object",
    "properties": {
        "held_on": {"type": "string", "format": "date", "title": "听证日期"},
        "minutes": {
            "type": "string",
            "title": "听证笔录摘要",
            "description": "申请人、利害关系人的陈述、申辩和质证的要点",
            "minLength": 1,
            "maxLength": MAX_MINUTES,
        },
    },
    "required": ["held_on", "minutes"],
    "additionalProperties": False,
}


def engine_form(kind: object) -> dict[str, Any] | None:
    """The 听证 task's form (for the task page); None for other kinds."""
    return FORM if str(kind) == str(TaskKind.HEARING) else None


# --- the applicant's answer -------------------------------------------------------------------


def _note(value: Any) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        message = f"说明应为不超过 {MAX_NOTE} 字的文本"
        raise Invalid(message, [{"field": "note", "message": message}])
    return value.strip()


def may_answer(uow: UnitOfWork, version: BundleVersion, case: Case, user: User) -> bool:
    """The window that received the case, a group holding it, or an administrator."""
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.CLERK):
        return False
    return bool(user.groups & (holder_groups(uow, case) | window_groups(uow, version, case)))


def can_answer(svc: Services, user: User, case_id: int) -> bool:
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        return case.status == CaseStatus.RUNNING and may_answer(uow, version, case, user)


def answer(
    svc: Services, user: User, case_id: int, action: Any, note: Any = None
) -> dict[str, Any]:
    """Record the applicant's written answer to the hearing notice: `request` (申请听证) opens
    a 听证 task and stops the clock; `waive` (放弃听证). One transaction with its events."""
    if action not in ACTIONS:
        message = "请选择申请人的答复: request (申请听证) 或 waive (放弃听证)"
        raise Invalid(message, [{"field": "action", "message": message}])
    text = _note(note)
    check_values({"note": text}, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            policy = policy_of(version)
            if not may_answer(uow, version, case, user):
                raise Forbidden("只有受理窗口、正在办理该办件的部门或管理员可以登记听证答复")
            require_workable(uow, case)
            if case.status != CaseStatus.RUNNING:
                raise Conflict(f"办件 {case.id} {case.status.label}, 不能登记听证答复")
            if policy is None:
                raise Conflict("该事项没有听证程序")
            found = notices(uow, case)
            unanswered = [n for n in found if n["answer"] is None]
            if not unanswered:
                if found:
                    last = found[-1]
                    done = {"requested": "已申请听证", "waived": "已放弃听证"}.get(
                        last["answer"], "未在期限内要求听证, 视为放弃"
                    )
                    raise Conflict(f"申请人{done}, 不能重复登记")
                raise Conflict("尚未告知申请人听证权利, 没有待答复的听证告知")
            notice = unanswered[0]
            now = svc.clock()
            today = svc.today(now)
            request_by = parse_day(notice["request_by"])
            if request_by is not None and today > request_by:
                raise Conflict(f"要求听证的期限已于 {request_by.isoformat()} 届满, 不能再登记")
            if action == REQUEST:
                _open_hearing(svc, uow, case, version, policy, notice, user, text, now)
            else:
                case.record(
                    EventType.HEARING_WAIVED,
                    user.name,
                    now,
                    data={"decision": notice["decision"], "by": "applicant", "note": text},
                )
            save(uow, case)
            view = case_view(
                svc, uow, svc.calendars.get(uow), case, uow.tasks.open_for_case(case.id), now
            )
            uow.commit()
            return view

    return retrying(step)


def _open_hearing(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    policy: HearingPolicy,
    notice: dict[str, Any],
    user: User,
    note: str,
    now: datetime,
) -> None:
    calendar = svc.calendars.get(uow)
    today = svc.today(now)
    info = version.human_tasks.get(notice["decision"])
    name = info.name if info else notice["decision"]
    groups = (policy.group,) if policy.group else (task_groups_of(info, case) if info else ())
    task = HumanTask(
        id=str(uuid.uuid4()),
        case_id=case.id,
        element=HEARING_ELEMENT,
        name=f"听证: {name}",
        groups=tuple(groups),
        form=None,
        kind=TaskKind.HEARING,
        created_at=now,
        deadline=calendar.add(today, policy.hearing_workdays).value,
    )
    uow.tasks.add(task)
    schedule_task_check(svc, uow, task, calendar, now)
    tasks_opened(uow, case, version.name, [task], user.name)
    assert task.deadline is not None
    case.record(
        EventType.HEARING_REQUESTED,
        user.name,
        now,
        task,
        {
            "decision": notice["decision"],
            "note": note,
            "hold_by": task.deadline.isoformat(),
            "hearing_workdays": policy.hearing_workdays,
            "groups": list(task.groups),
        },
    )
    # update_clock runs after engine steps only: the pause is this step's (Art. 45)
    clock = case.clock.refreshed(calendar)
    if clock.state == ClockState.RUNNING:
        case.clock = clock.pause(today)
        case.record(
            EventType.CLOCK_PAUSED, SYSTEM, now, data={"by": "hearing", "waiting_on": ["hearing"]}
        )


def expire_request(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """The worker's job the day after `request_by`: no request and no waiver came, the right
    lapsed (`hearing_waived` {"by": "expired"})."""
    case = uow.cases.get(job.case_id, lock=True) if job.case_id is not None else None
    if case is None or case.status == CaseStatus.CANCELLED:
        return  # a case decided meanwhile still gets the lapse recorded
    task_id = job.key.split(":", 1)[1]
    with_task = {e.seq for e in _notice_events(uow, case, task_id)}
    for notice in notices(uow, case):
        if notice["seq"] in with_task and notice["answer"] is None:
            request_by = parse_day(notice["request_by"])
            if request_by is not None and svc.today(now) <= request_by:
                return  # not yet past it (the calendar changed): the decision task checks again
            _expired(case, notice, now)
            uow.cases.save(case)


def _notice_events(uow: UnitOfWork, case: Case, task_id: str) -> list[CaseEvent]:
    return [
        e
        for e in uow.cases.events(case.id)
        if e.type == EventType.HEARING_RIGHTS_NOTIFIED and e.task_id == task_id
    ]


def _expired(case: Case, notice: dict[str, Any], now: datetime) -> None:
    case.record(
        EventType.HEARING_WAIVED,
        SYSTEM,
        now,
        data={"decision": notice["decision"], "by": "expired", "note": ""},
    )
    notice["answer"] = "expired"


# --- deciding, and the hearing held -----------------------------------------------------------


def require_decidable(svc: Services, uow: UnitOfWork, case: Case, task: HumanTask) -> None:
    """Refuse completing a decision task while the applicant may still ask for a hearing, or a
    hearing is under way."""
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    policy = policy_of(version)
    if policy is None or task.element not in policy.decisions:
        return
    if open_hearings(uow, case):
        raise Conflict("听证尚未结束, 听证结束并记录听证笔录后才能作出决定")
    today = svc.today()
    for notice in notices(uow, case):
        if notice["decision"] != task.element or notice["answer"] is not None:
            continue
        request_by = parse_day(notice["request_by"])
        if request_by is not None and today <= request_by:
            raise Conflict(
                f"申请人可在 {request_by.isoformat()} 前要求听证, 期满或申请人放弃后才能作出决定"
            )
        # the period ran out: deciding is allowed; the worker's job records the lapse (an
        # event here would precede the step's own and carry the state after it)


def _held_form(data: dict[str, Any], today: date, svc: Services) -> dict[str, Any]:
    problems = []
    minutes = data.get("minutes")
    if not isinstance(minutes, str) or not minutes.strip():
        problems.append({"field": "minutes", "message": "请填写听证笔录摘要"})
    elif len(minutes) > MAX_MINUTES:
        problems.append({"field": "minutes", "message": f"听证笔录摘要不超过 {MAX_MINUTES} 字"})
    held_on = parse_day(data.get("held_on")) if isinstance(data.get("held_on"), str) else None
    if held_on is None:
        problems.append({"field": "held_on", "message": "请填写听证日期 (YYYY-MM-DD)"})
    elif held_on > today:
        problems.append({"field": "held_on", "message": "听证日期不能晚于今天"})
    unknown = sorted(set(data) - {"minutes", "held_on"})
    if unknown:
        problems.append({"field": unknown[0], "message": "听证笔录只有 minutes 和 held_on 两项"})
    if problems:
        raise Invalid(problems[0]["message"], problems)
    form = {"minutes": str(minutes).strip(), "held_on": str(data["held_on"])}
    check_values(form, HEARING_ELEMENT, svc.limits)
    return form


def held(
    svc: Services, uow: UnitOfWork, case: Case, task: HumanTask, user: User, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a 听证 task (TaskKind.HEARING): the hearing was held; the clock resumes. The
    caller commits."""
    now = svc.clock()
    today = svc.today(now)
    form = _held_form(data, today, svc)
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    task.end(TaskStatus.COMPLETED, user.name, now)
    uow.tasks.save(task)
    case.updated_at = now
    case.record(
        EventType.TASK_COMPLETED,
        user.name,
        now,
        task,
        {"form": form, "opened": [], "kind": str(TaskKind.HEARING)},  # not a step of the diagram
    )
    calendar = svc.calendars.get(uow)
    clock = case.clock.refreshed(calendar)
    still = _pausing(version, [t for t in uow.tasks.open_for_case(case.id) if t.id != task.id])
    if clock.state == ClockState.PAUSED and not still:
        clock, waited = clock.resume(today, calendar)
        case.clock = clock
        case.record(
            EventType.CLOCK_RESUMED,
            SYSTEM,
            now,
            data={
                "by": "hearing",
                "waited_workdays": waited,
                "deadline": clock.to_dict()["deadline"],
            },
        )
        schedule_case_checks(svc, uow, case, version, now)
    uow.cases.save(case)
    return load_case_view(svc, uow, case)


# --- the printable notice ---------------------------------------------------------------------


def notice_view(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """听证告知书: what the notice told the applicant (the last notice of the case)."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        found = state(svc, uow, case, version)
        if found is None:
            raise NotFound(f"办件 {case_id} 没有听证权利告知")
        notice = found["pending"] or found["notices"][-1]
        told = uow.cases.event(case.id, int(notice["seq"]))
    return {
        "case_id": case.id,
        "bundle": version.name,
        **parties_of(version, case.data),
        "decision": notice["decision_name"],
        "request_by": notice["request_by"],
        "request_workdays": notice["request_workdays"],
        "told_on": svc.today(told.at).isoformat() if told is not None else "",
        "issuer": version.meta.issuer or version.name,
        "law": LAW,
        "answer": notice["answer"],
    }
