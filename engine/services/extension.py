"""延期 (Administrative Licensing Law Art. 42): a reviewer asks for more working days with a
reason; the office head's group approves or refuses it in a task of its own.

- **Who asks**: a clerk of a group holding the case (an open task of the diagram), or an
  administrator, while the case runs and its clock has started and not stopped (a paused clock
  may be extended: the new deadlines count from its resumption like any other).
- **How much**: 1 to `time_limits.extension.max_workdays` working days (the law's 10), with a
  reason (at most 2000 characters); one request pending at a time.
- **How often**: once (Art. 42); a bundle whose `time_limits.extension.further_law` names a law
  that allows more accepts further requests, and each such request quotes that law.
- **Who decides**: `time_limits.extension.approver_group` (default `office_heads`) in a
  延期审批 task (TaskKind.EXTENSION, completed through cases.complete with
  {"decision": "approve"|"reject", "opinion": ...}). Approved, both deadlines move by the days
  granted (CaseClock.extend), 预警/超期 are checked for the new deadline, the applicant and the
  case's holders are told and a 延期通知书 can be printed (`notice`). Refused, the requester is
  told; the deadline stays.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.domain.bundle_versions import BundleVersion
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

from . import certificates, messages
from .case_access import holder_groups
from .context import Services
from .deadlines import schedule_case_checks
from .notify import notify
from .queries import load_case_view, parties_of
from .steps import retrying, save
from .submissions import check_values
from .suspended import require_workable

MAX_REASON = 2000
LAW = "《中华人民共和国行政许可法》第四十二条"
ONCE = "行政许可法第四十二条只允许延期一次"
DECISIONS = {"approve": "批准", "reject": "不批准"}
# The 延期审批 task's form (no diagram declares it): rendered by the task page's form macro,
# checked by `decide` (page and API alike)
FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "延期审批",
    "description": "审查延期理由, 批准或不批准; 批准后办理期限延长, 并书面告知申请人。",
    "type": "object",
    "properties": {
        "decision": {
            "type": "string",
            "title": "审批结果",
            "oneOf": [
                {"const": "approve", "title": "批准延期"},
                {"const": "reject", "title": "不批准"},
            ],
        },
        "opinion": {
            "type": "string",
            "title": "审批意见",
            "description": "不批准时必填",
            "maxLength": MAX_REASON,
        },
    },
    "required": ["decision"],
    "additionalProperties": False,
}


def engine_form(kind: object) -> dict[str, Any] | None:
    """The form of a 延期审批 task; None for any other kind."""
    return FORM if str(kind) == str(TaskKind.EXTENSION) else None


def _invalid(message: str, field: str) -> Invalid:
    return Invalid(message, [{"field": field, "message": message}])


def _workdays(value: Any, most: int) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())  # as a page posts it
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise _invalid(f"延期天数应为 1 到 {most} 之间的整数 (工作日)", "workdays")
    return value


def _text(value: Any, field: str, what: str, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_REASON:
        raise _invalid(f"{what}应为不超过 {MAX_REASON} 字的文本", field)
    text = value.strip()
    if required and not text:
        raise _invalid(f"请填写{what}", field)
    return text


def _may_request(uow: UnitOfWork, case: Case, user: User) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.CLERK) and bool(user.groups & holder_groups(uow, case))


def pending(uow: UnitOfWork, case_id: int) -> HumanTask | None:
    """The case's open 延期审批 task, if a request waits for its decision."""
    return next((t for t in uow.tasks.open_for_case(case_id) if t.kind == TaskKind.EXTENSION), None)


def _refusal(uow: UnitOfWork, version: BundleVersion, case: Case) -> Conflict | None:
    """Why no extension may be asked for now, or None."""
    if case.status == CaseStatus.SUSPENDED:
        return None  # require_workable says why
    if case.status != CaseStatus.RUNNING:
        return Conflict(f"办件 {case.id} {case.status.label}, 不能申请延期")
    state = case.clock.state
    if state == ClockState.NOT_STARTED:
        return Conflict("办件尚未受理, 还没有开始计算办理时限, 无需延期")
    if state == ClockState.STOPPED:
        return Conflict("办件已停止计时, 无需延期")
    if case.clock.deadline is None and case.clock.statutory_deadline is None:
        return Conflict("本事项没有办理时限, 无需延期")
    if pending(uow, case.id) is not None:
        return Conflict("已有延期申请等待审批, 审批后才能再次申请")
    if case.clock.extensions >= 1 and version.time_policy.extension.further_law is None:
        return Conflict(f"{ONCE}, 本办件已延期过")
    return None


def can_request(svc: Services, user: User, case_id: int) -> bool:
    """May `user` ask for an extension of the case now (for the pages)?"""
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        if case is None or case.status != CaseStatus.RUNNING:
            return False
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        return _may_request(uow, case, user) and _refusal(uow, version, case) is None


def request(svc: Services, user: User, case_id: int, workdays: Any, reason: Any) -> dict[str, Any]:
    """申请延期: records `extension_requested` and opens the 延期审批 task for the approver
    group, whose members are told. One transaction; returns the case view."""
    text = _text(reason, "reason", "延期理由", required=True)
    check_values({"reason": text}, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            require_workable(uow, case)
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            if not _may_request(uow, case, user):
                raise Forbidden("只有正在办理该办件的部门或管理员可以申请延期")
            policy = version.time_policy.extension
            days = _workdays(workdays, policy.max_workdays)
            refused = _refusal(uow, version, case)
            if refused is not None:
                raise refused
            now = svc.clock()
            calendar = svc.calendars.get(uow)
            clock = case.clock.refreshed(calendar)
            task = HumanTask(
                id=str(uuid.uuid4()),
                case_id=case.id,
                element="extension",
                name=f"延期审批: 办件 {case.id} 申请延期 {days} 个工作日",
                groups=(policy.approver_group,),
                form=None,
                kind=TaskKind.EXTENSION,
                created_at=now,
            )
            uow.tasks.add(task)
            data: dict[str, Any] = {
                "workdays": days,
                "reason": text,
                "deadline": clock.to_dict()["deadline"],
                "statutory_deadline": clock.to_dict()["statutory_deadline"],
            }
            if case.clock.extensions >= 1 and policy.further_law:
                data["law"] = policy.further_law  # what allows more than Art. 42's one
            case.updated_at = now
            case.record(EventType.EXTENSION_REQUESTED, user.name, now, task, data)
            messages.tasks_opened(uow, case, version.name, [task], user.name)
            save(uow, case)
            view = load_case_view(svc, uow, case)
            uow.commit()
            return view

    return retrying(step)


def _request_event(uow: UnitOfWork, case: Case, task: HumanTask) -> CaseEvent:
    found = [
        e
        for e in uow.cases.events(case.id)
        if e.type == EventType.EXTENSION_REQUESTED and e.task_id == task.id
    ]
    if not found:
        raise NotFound(f"找不到任务 {task.id} 的延期申请")
    return found[-1]


def _decision(task: HumanTask, data: dict[str, Any]) -> tuple[str, str]:
    unknown = [k for k in data if k not in ("decision", "opinion")]
    if unknown:
        message = "本表单没有此字段, 不能填写"
        problems = [{"field": k, "element": task.element, "message": message} for k in unknown]
        raise Invalid(message, problems)
    decision = data.get("decision")
    if decision not in DECISIONS:
        raise _invalid("请选择审批意见: 批准 (approve) 或 不批准 (reject)", "decision")
    opinion = _text(data.get("opinion"), "opinion", "审批意见", required=decision == "reject")
    return str(decision), opinion


def decide(
    svc: Services, uow: UnitOfWork, case: Case, task: HumanTask, user: User, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a 延期审批 task (TaskKind.EXTENSION) with the approver's decision. In the
    caller's transaction (cases.complete), which commits."""
    decision, opinion = _decision(task, data)
    check_values({"opinion": opinion}, task.element, svc.limits)
    asked = _request_event(uow, case, task)
    workdays = int(asked.data["workdays"])
    reason = str(asked.data["reason"])
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    if decision == "approve" and (
        case.status != CaseStatus.RUNNING or case.clock.state == ClockState.STOPPED
    ):
        raise Conflict("办件已停止计时 (已办结或已终止), 不能再延期; 请选择不批准")
    now = svc.clock()
    case.updated_at = now
    task.end(TaskStatus.COMPLETED, user.name, now)
    uow.tasks.save(task)
    case.record(
        EventType.TASK_COMPLETED,
        user.name,
        now,
        task,
        {"form": {"decision": decision, "opinion": opinion}, "opened": [], "kind": "extension"},
    )
    words = f"办件 {case.id} ({version.name})"
    if decision == "approve":
        calendar = svc.calendars.get(uow)
        clock = case.clock.refreshed(calendar).extend(workdays, calendar)
        case.clock = clock
        deadline = clock.to_dict()["deadline"]
        statutory = clock.to_dict()["statutory_deadline"]
        case.record(
            EventType.EXTENSION_GRANTED,
            user.name,
            now,
            task,
            {
                "workdays": workdays,
                "reason": reason,
                "opinion": opinion,
                "deadline": deadline,
                "statutory_deadline": statutory,
                "request_seq": asked.seq,
            },
        )
        schedule_case_checks(svc, uow, case, version, now)
        new_date = deadline or statutory
        _tell_applicant(uow, version, case, workdays, new_date, reason, now)
        body = f"{words} 经 {user.name} 批准延期 {workdays} 个工作日, 新的办理期限为 {new_date}。"
        holders = [t for t in uow.tasks.open_for_case(case.id) if t.kind == TaskKind.BPMN]
        title = f"延期已批准: {words}"
        messages.to_holders(uow, holders, messages.MessageKind.TASK, title, body, now, user.name)
        _tell_requester(uow, asked, case, task, title, body, now)
    else:
        case.record(
            EventType.EXTENSION_REFUSED,
            user.name,
            now,
            task,
            {
                "workdays": workdays,
                "reason": reason,
                "opinion": opinion,
                "request_seq": asked.seq,
            },
        )
        title = f"延期未批准: {words}"
        body = f"{words} 申请延期 {workdays} 个工作日未获批准。审批意见: {opinion}"
        _tell_requester(uow, asked, case, task, title, body, now)
    save(uow, case)
    return load_case_view(svc, uow, case)


def _tell_requester(
    uow: UnitOfWork,
    asked: CaseEvent,
    case: Case,
    task: HumanTask,
    title: str,
    body: str,
    now: datetime,
) -> None:
    message = {
        "kind": str(messages.MessageKind.TASK),
        "title": title[:300],
        "body": body,
        "case_id": case.id,
        "task_id": task.id,
        "created_at": now,
    }
    uow.messages.to_users([asked.actor], message)


def _tell_applicant(
    uow: UnitOfWork,
    version: BundleVersion,
    case: Case,
    workdays: int,
    new_date: str | None,
    reason: str,
    now: datetime,
) -> None:
    contact = certificates.applicant_contact(version, case.data)
    if contact is None:
        return
    subject = f"延期通知: 办件 {case.id} ({version.name})"
    body = (
        f"您申请的「{version.name}」(办件编号 {case.id}) 因{reason.rstrip('。')}, "
        f"依照{LAW}, 经本机关负责人批准, 办理期限延长 {workdays} 个工作日, "
        f"新的办理期限为 {new_date}。"
    )
    notify(uow, case.id, "extension", contact, subject, body, now)


def notice(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """延期通知书 (Art. 42) of the case's latest granted extension: for the printable page."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case.id)
    granted = [e for e in events if e.type == EventType.EXTENSION_GRANTED]
    if not granted:
        raise NotFound(f"办件 {case_id} 没有批准的延期")
    last = granted[-1]
    asked = next((e for e in events if e.seq == last.data.get("request_seq")), None)
    before = asked.data if asked is not None else {}
    applicant = parties_of(version, case.data)["applicant"]
    return {
        "case_id": case.id,
        "bundle": version.name,
        "issuer": version.meta.issuer or version.name,
        "applicant": applicant["name"] if applicant else "",
        "previous_deadline": before.get("deadline"),
        "previous_statutory_deadline": before.get("statutory_deadline"),
        "workdays": last.data["workdays"],
        "deadline": last.data["deadline"],
        "statutory_deadline": last.data["statutory_deadline"],
        "reason": last.data["reason"],
        "approved_by": last.actor,
        "approved_at": last.at.isoformat(),
        "approved_on": svc.today(last.at).isoformat(),
        "law": LAW,
        "extensions": len(granted),
    }


def overview(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """For the case page and the task pages: `summary`, and whether `user` may ask now."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        found = summary(svc, uow, case_id)
        may = (
            case.status == CaseStatus.RUNNING
            and _may_request(uow, case, user)
            and _refusal(uow, version, case) is None
        )
    policy = version.time_policy.extension
    return found | {
        "may_request": may,
        "max_workdays": policy.max_workdays,
        "further_law": policy.further_law,
    }


def review(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    """What the approver reads on a 延期审批 task: the request (days, reason, by whom, when)
    and the current and the new deadlines were it approved today."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看任务")
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None or task.kind != TaskKind.EXTENSION:
            raise NotFound(f"任务 {task_id} 不是延期审批任务")
        case = uow.cases.existing(task.case_id)
        asked = _request_event(uow, case, task)
        calendar = svc.calendars.get(uow)
        clock = case.clock.refreshed(calendar)
        after = clock.extend(int(asked.data["workdays"]), calendar)
    now = clock.to_dict()
    new = after.to_dict()
    return {
        "workdays": asked.data["workdays"],
        "reason": asked.data["reason"],
        "law": asked.data.get("law"),
        "by": asked.actor,
        "at": asked.at.isoformat(),
        "deadline": now["deadline"],
        "statutory_deadline": now["statutory_deadline"],
        "new_deadline": new["deadline"],
        "new_statutory_deadline": new["statutory_deadline"],
        "extensions": clock.extensions,
    }


def summary(svc: Services, uow: UnitOfWork, case_id: int) -> dict[str, Any]:
    """What the case page shows of 延期: the grants (days, by whom, when) and a pending
    request (days, reason, by whom), from the events."""
    granted = []
    asked: dict[int, CaseEvent] = {}
    for e in uow.cases.events(case_id):
        if e.type == EventType.EXTENSION_REQUESTED:
            asked[e.seq] = e
        elif e.type == EventType.EXTENSION_GRANTED:
            granted.append(
                {
                    "workdays": e.data["workdays"],
                    "by": e.actor,
                    "date": svc.today(e.at).isoformat(),
                    "deadline": e.data["deadline"],
                }
            )
    open_task = pending(uow, case_id)
    request_event = None
    if open_task is not None:
        request_event = next((e for e in asked.values() if e.task_id == open_task.id), None)
    return {
        "granted": granted,
        "pending": None
        if open_task is None or request_event is None
        else {
            "task_id": open_task.id,
            "workdays": request_event.data["workdays"],
            "reason": request_event.data["reason"],
            "by": request_event.actor,
        },
    }
