"""听证 (Arts. 46–47): what a case's events say of its hearing notices, and the notice itself when a
decision task opens. A leaf below the use cases: engine steps (engine/services/steps.py) and the
worklist (engine/services/queries.py) call it; engine/services/hearing.py builds on it."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.domain.bundle_metadata import HearingPolicy
from engine.domain.bundle_versions import BundleVersion
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseEvent, EventType, HumanTask, TaskKind
from engine.persistence.incident_queries import latest_events
from engine.persistence.unit_of_work import UnitOfWork

from .certificates import applicant_contact
from .context import Services, Step
from .notify import notify

SYSTEM = "system"  # as engine/services/deadlines.py records the system's events

_TYPES = (
    str(EventType.HEARING_RIGHTS_NOTIFIED),
    str(EventType.HEARING_REQUESTED),
    str(EventType.HEARING_WAIVED),
)
_HISTORY = 200  # hearing events read per case (a handful in practice)


def policy_of(version: BundleVersion) -> HearingPolicy | None:
    return version.time_policy.hearing


def parse_day(day: Any) -> date | None:
    try:
        return date.fromisoformat(str(day))
    except ValueError:
        return None


# --- what the case's events say ---------------------------------------------------------------


def _history(
    uow: UnitOfWork, case_id: int, new_events: list[CaseEvent] | None = None
) -> list[tuple[int, str, str | None, dict[str, Any]]]:
    """The case's hearing events, oldest first: (seq, type, element, data), this transaction's
    own (`new_events`) included."""
    rows = latest_events(uow.conn, case_id, _TYPES, _HISTORY)
    found = [(r.seq, str(r.type), r.element, dict(r.data)) for r in reversed(rows)]
    stored = {seq for seq, *_ in found}
    for event in new_events or []:
        if str(event.type) in _TYPES and event.seq not in stored:
            found.append((event.seq, str(event.type), event.element, dict(event.data)))
    return found


def notices(uow: UnitOfWork, case: Case) -> list[dict[str, Any]]:
    """Each hearing notice of the case, oldest first: {"seq", "decision", "request_by",
    "request_workdays", "answer": None | "requested" | "waived" | "expired", "note"}."""
    return _notices(uow, case.id, case.new_events)


def _notices(
    uow: UnitOfWork, case_id: int, new_events: list[CaseEvent] | None = None
) -> list[dict[str, Any]]:
    by_decision: dict[str, dict[str, Any]] = {}
    found = []
    for seq, kind, _, data in _history(uow, case_id, new_events):
        decision = str(data.get("decision", ""))
        if kind == EventType.HEARING_RIGHTS_NOTIFIED:
            notice = {
                "seq": seq,
                "decision": decision,
                "request_by": str(data.get("request_by", "")),
                "request_workdays": data.get("request_workdays"),
                "answer": None,
                "note": "",
            }
            by_decision[decision] = notice
            found.append(notice)
        elif decision in by_decision and by_decision[decision]["answer"] is None:
            notice = by_decision[decision]
            if kind == EventType.HEARING_REQUESTED:
                notice["answer"] = "requested"
            else:
                notice["answer"] = "expired" if data.get("by") == "expired" else "waived"
            notice["note"] = str(data.get("note", ""))
    return found


def open_hearings(uow: UnitOfWork, case: Case) -> list[HumanTask]:
    return [t for t in uow.tasks.open_for_case(case.id) if t.kind == TaskKind.HEARING]


def state(
    svc: Services, uow: UnitOfWork, case: Case, version: BundleVersion
) -> dict[str, Any] | None:
    """What the pages show of the case's hearing rights, None when the bundle has none or no
    notice was given: {"notices": [...with "decision_name", "pending", "expired"], "pending":
    the notice awaiting an answer or None, "hearings": open 听证 tasks}."""
    if policy_of(version) is None:
        return None
    found = notices(uow, case)
    if not found:
        return None
    today = svc.today()
    pending = None
    for notice in found:
        info = version.human_tasks.get(notice["decision"])
        notice["decision_name"] = info.name if info else notice["decision"]
        request_by = parse_day(notice["request_by"])
        notice["expired"] = request_by is not None and today > request_by
        notice["pending"] = notice["answer"] is None and not notice["expired"]
        if notice["pending"] and pending is None:
            pending = notice
    hearings = [
        {
            "id": t.id,
            "name": t.name,
            "deadline": t.deadline.isoformat() if t.deadline else None,
            "groups": list(t.groups),
        }
        for t in open_hearings(uow, case)
    ]
    return {"notices": found, "pending": pending, "hearings": hearings}


def public(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the applicant's progress page shows of `state`: {"request_by": the day a hearing
    may still be asked up to, or None; "hold_by": while a hearing is under way, its day}."""
    if found is None:
        return None
    pending, hearings = found["pending"], found["hearings"]
    if pending is None and not hearings:
        return None
    return {
        "request_by": pending["request_by"] if pending else None,
        "hold_by": hearings[0]["deadline"] if hearings else None,
    }


def task_mark(uow: UnitOfWork, version: BundleVersion, task: HumanTask, today: date) -> str | None:
    """For the worklist: a decision task waiting on the hearing, in words ("待听证答复 (至
    YYYY-MM-DD)", "听证中"); None otherwise (at once for other tasks and bundles)."""
    policy = policy_of(version)
    if policy is None or task.element not in policy.decisions:
        return None
    if any(t.kind == TaskKind.HEARING for t in uow.tasks.open_for_case(task.case_id)):
        return "听证中"
    for notice in _notices(uow, task.case_id):
        request_by = parse_day(notice["request_by"])
        if notice["decision"] == task.element and notice["answer"] is None:
            if request_by is not None and today <= request_by:
                return f"待听证答复 (至 {request_by.isoformat()})"
    return None


def case_hearing(svc: Services, case_id: int) -> dict[str, Any] | None:
    """`state` of one case, for the pages."""
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        return state(svc, uow, case, version)


# --- the notice, when a decision task opens ---------------------------------------------------


def rights_notified(step: Step, opened: list[HumanTask]) -> None:
    """After an engine step: a decision task that opened for the first time in the case gives
    the applicant notice of the right to ask for a hearing (Art. 47)."""
    policy = policy_of(step.version)
    if policy is None:
        return
    decisions = [t for t in opened if t.element in policy.decisions]
    if not decisions:
        return
    told = {n["decision"] for n in notices(step.uow, step.case)}
    for task in decisions:
        if task.element in told:
            continue  # told once per decision: a task 退回 and opened again is not told again
        told.add(task.element)
        _notify_rights(step, policy, task)


def _notify_rights(step: Step, policy: HearingPolicy, task: HumanTask) -> None:
    svc, uow, case, version, now = step.svc, step.uow, step.case, step.version, step.now
    request_by = step.calendar.add(step.today, policy.request_workdays).value
    case.record(
        EventType.HEARING_RIGHTS_NOTIFIED,
        SYSTEM,
        now,
        task,
        {
            "decision": task.element,
            "request_by": request_by.isoformat(),
            "request_workdays": policy.request_workdays,
        },
    )
    contact = applicant_contact(version, case.data)
    if contact is not None:
        subject = f"听证权利告知: 办件 {case.id} ({version.name})"
        body = (
            f"您申请的「{version.name}」(办件编号 {case.id}) 拟作出的决定「{task.name}」"
            f"涉及您的重大利益。您有权在 {request_by.isoformat()} 前要求听证"
            f" (行政许可法第四十七条)。如需听证, 请在期限内向受理窗口书面提出; "
            f"逾期未提出的, 视为放弃听证。"
        )
        notify(uow, case.id, "hearing_rights", contact, subject, body, now)
    after = step.calendar.add(request_by, 1).value
    uow.jobs.schedule(
        JobKind.HEARING_REQUEST_DEADLINE,
        f"{case.id}:{task.id}",
        svc.local_midnight(after),
        now,
        case.id,
    )
