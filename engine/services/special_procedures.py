"""特别程序 (Administrative Licensing Law Art. 45): 听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审
take time that is not counted in the time limit, and the applicant is told in writing which
procedure it is and how long it is expected to take.

- A task of an element the bundle lists in `time_limits.special_procedures` pauses the clock
  (engine/services/deadlines.py `update_clock`); so does a 挂起 of an Art. 45 kind
  (engine/services/suspension.py). The `clock_paused` event then carries
  "procedure": {"kind", "label", "expected_workdays", "expected_until"}, its `clock_resumed`
  the procedure's kind, and the applicant is notified in the same transaction.
- The printable 特别程序告知书 of each such pause: `notice` (page
  /cases/<id>/special-procedure-notice/<seq>).
- The record of all pauses: engine/services/pauses.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, EventType, HumanTask, TaskKind
from engine.domain.suspension import ART45_KINDS, kind_label
from engine.domain.timelimits import MAX_WORKDAYS
from engine.persistence.incident_queries import latest_events
from engine.persistence.unit_of_work import UnitOfWork

from .certificates import applicant_contact
from .context import Step
from .notify import notify

LAW = "《中华人民共和国行政许可法》第四十五条"
TITLE = "特别程序告知书"


def procedure(
    kind: str, expected: int | None, today: date, calendar: WorkdayCalendar
) -> dict[str, Any]:
    """The `procedure` of a `clock_paused` event: the kind, its label, the working days it is
    expected to take and the day it should end by (None when not known)."""
    until = None
    if expected is not None and 0 < expected <= MAX_WORKDAYS:
        until = calendar.add(today, expected).value.isoformat()
    return {
        "kind": kind,
        "label": kind_label(kind),
        "expected_workdays": expected,
        "expected_until": until,
    }


def tell_applicant(
    uow: UnitOfWork, case: Case, version: BundleVersion, found: dict[str, Any], now: datetime
) -> None:
    """The notification of Art. 45: which procedure, how long, not counted."""
    contact = applicant_contact(version, case.data)
    if not contact:
        return
    expected = found.get("expected_workdays")
    length = f"预计 {expected} 个工作日" if expected else "所需时间将另行告知"
    if found.get("expected_until"):
        length += f" (至 {found['expected_until']} 前后)"
    notify(
        uow,
        case.id,
        "special_procedure",
        contact,
        f"办件 {case.id} 进入{found['label']}程序",
        f"您的申请 (办件 {case.id}, {version.name}) 进入 {found['label']} 程序, {length}, "
        f"这段时间不计入审批期限 (行政许可法第四十五条)。",
        now,
    )


def on_task_pause(step: Step, waiting: list[HumanTask]) -> dict[str, Any]:
    """What a `clock_paused` of these waiting tasks adds to its data: "by" and, for a special
    procedure, "procedure" (the applicant is told of it now)."""
    special = step.version.time_policy.special_procedures
    for task in waiting:
        if task.kind == TaskKind.BPMN and task.element in special:
            spec = special[task.element]
            found = procedure(spec.kind, spec.expected_workdays, step.today, step.calendar)
            tell_applicant(step.uow, step.case, step.version, found, step.now)
            return {"by": "task", "procedure": {**found, "element": task.element}}
    if any(t.kind == TaskKind.HEARING for t in waiting):
        return {"by": "hearing"}
    return {"by": "task"}


def on_resume(uow: UnitOfWork, case: Case) -> dict[str, Any]:
    """What a `clock_resumed` adds: the kind of the procedure that paused the clock, if any."""
    found = latest_events(uow.conn, case.id, (str(EventType.CLOCK_PAUSED),), 1)
    data = found[0].data if found else None
    kind = (data.get("procedure") or {}).get("kind") if isinstance(data, dict) else None
    return {"procedure": kind} if kind else {}


def notices(pauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The special-procedure pauses among `pauses` (case_pauses), for the links of the case
    page."""
    return [
        {"seq": p["seq"], "label": p["label"], "since": p["since"]}
        for p in pauses
        if p["art45"] and p["kind"] in ART45_KINDS
    ]
