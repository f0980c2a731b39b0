"""The record of the case clock's pauses (计时暂停记录): each time it stopped, why, from when to
when and for how many working days (Administrative Licensing Law Art. 45: the time a special
procedure takes is not counted; 补正 and 容缺 materials; 听证, Arts. 46–47).

Read from the case's `clock_paused` / `clock_resumed` events (engine/services/deadlines.py,
engine/services/suspension.py). Events written before their data said which procedure paused
the clock still read: a task's pause is a `supplement`, unless the bundle lists its element as a
special procedure; a 挂起's pause is of the suspension's kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from engine import config
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import CaseEvent, EventType
from engine.domain.suspension import ART45_KINDS, kind_label

SUPPLEMENT = "supplement"
SUPPLEMENT_LABEL = "补正/补齐材料"
HEARING_LABEL = "听证"


def procedure_label(kind: str) -> str:
    """What the applicant reads for a pause of this kind."""
    if kind == SUPPLEMENT:
        return SUPPLEMENT_LABEL
    return kind_label(kind)


def _day(event: CaseEvent, tz: tzinfo) -> str:
    at: datetime = event.at
    return at.astimezone(tz).date().isoformat() if at.tzinfo else at.date().isoformat()


def _expected(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_paused(
    data: dict[str, Any], version: BundleVersion | None
) -> tuple[str, str, str, int | None, str | None]:
    """(kind, label, by, expected workdays, expected until) of a `clock_paused` event."""
    procedure = data.get("procedure")
    if data.get("by") == "suspended":
        kind = str(data.get("kind") or "other")
        expected = _expected(data.get("expected_workdays"))
        until = data.get("expected_until")
        if isinstance(procedure, dict):
            expected = _expected(procedure.get("expected_workdays"))
            until = procedure.get("expected_until")
        return kind, kind_label(kind), "suspended", expected, until
    by = "hearing" if data.get("by") == "hearing" else "task"
    if isinstance(procedure, dict) and procedure.get("kind"):
        kind = str(procedure["kind"])
        label = str(procedure.get("label") or procedure_label(kind))
        expected = _expected(procedure.get("expected_workdays"))
        return kind, label, by, expected, procedure.get("expected_until")
    if by == "hearing":
        return "hearing", HEARING_LABEL, by, None, None
    if version is not None:  # an older event: the bundle says which elements are procedures
        special = version.time_policy.special_procedures
        for element in data.get("waiting_on") or ():
            if element in special:
                found = special[element]
                return found.kind, procedure_label(found.kind), by, found.expected_workdays, None
        return SUPPLEMENT, _task_pause_label(version, data.get("waiting_on") or ()), by, None, None
    return SUPPLEMENT, SUPPLEMENT_LABEL, by, None, None


def _task_pause_label(version: BundleVersion, waiting_on: Iterable[Any]) -> str:
    """A `clock: pause` task's pause: 补正/补齐材料 while the applicant corrects or supplies
    materials (the intake's correction task, or a pause naming no known task); else the names of
    the tasks waited on (a 公示, a 清算 check), so the record says what the time was spent on."""
    elements = [e for e in waiting_on if isinstance(e, str)]
    if not elements or version.meta.intake.correction_element in elements:
        return SUPPLEMENT_LABEL
    names = [version.human_tasks[e].name for e in elements if e in version.human_tasks]
    if len(names) < len(elements) or not all(names):
        return SUPPLEMENT_LABEL
    return "、".join(dict.fromkeys(str(n) for n in names))


def case_pauses(
    events: Iterable[CaseEvent],
    version: BundleVersion | None = None,
    tz: tzinfo | None = None,
) -> list[dict[str, Any]]:
    """Every pause of the case clock in order: {"kind": an Art. 45 kind, "supplement" or
    "hearing", "label", "since", "until" (None: still paused), "workdays" (None: still paused),
    "expected_workdays", "expected_until", "by": "task" | "suspended" | "hearing", "seq"
    (of the `clock_paused` event), "art45": whether the law's Art. 45 applies}."""
    zone = tz or config.timezone()
    found: list[dict[str, Any]] = []
    for event in events:
        if event.type == EventType.CLOCK_PAUSED:
            data = event.data or {}
            kind, label, by, expected, until = _from_paused(data, version)
            since = _day(event, zone)
            found.append(
                {
                    "seq": event.seq,
                    "kind": kind,
                    "label": label,
                    "by": by,
                    "since": since,
                    "until": None,
                    "workdays": None,
                    "expected_workdays": expected,
                    "expected_until": until,
                    "art45": kind in ART45_KINDS,
                }
            )
        elif event.type == EventType.CLOCK_RESUMED and found and found[-1]["until"] is None:
            data = event.data or {}
            found[-1]["until"] = _day(event, zone)
            waited = data.get("waited_workdays")
            found[-1]["workdays"] = waited if isinstance(waited, int) else None
    return found


def current_pause(pauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The pause still going on, if any."""
    return pauses[-1] if pauses and pauses[-1]["until"] is None else None
