"""What a suspended case (挂起, engine/services/suspension.py) refuses, and what the pages and the
API show of its suspension. A leaf of the use cases: every task operation may call
`require_workable` without import cycles."""

from __future__ import annotations

from typing import Any

from engine.domain.model import Case, CaseStatus, EventType
from engine.domain.suspension import kind_label, suspended_message
from engine.errors import Conflict
from engine.persistence.incident_queries import latest_events
from engine.persistence.unit_of_work import UnitOfWork


def suspension_of(uow: UnitOfWork, case: Case) -> dict[str, Any] | None:
    """The case's current suspension (its last `case_suspended` event), None unless suspended:
    {"reason", "kind", "kind_label", "clock", "by", "at"}."""
    if case.status != CaseStatus.SUSPENDED:
        return None
    found = latest_events(uow.conn, case.id, (str(EventType.CASE_SUSPENDED),), 1)
    if not found:
        return None
    event = found[0]
    kind = str(event.data.get("kind", "other"))
    return {
        "reason": str(event.data.get("reason", "")),
        "kind": kind,
        "kind_label": kind_label(kind),
        "clock": str(event.data.get("clock", "running")),
        "by": event.actor,
        "at": event.at.isoformat(),
        "seq": event.seq,
    }


def require_workable(uow: UnitOfWork, case: Case) -> None:
    """Refuse (409) any work on a suspended case, saying why it is suspended."""
    if case.status != CaseStatus.SUSPENDED:
        return
    found = suspension_of(uow, case)
    raise Conflict(suspended_message(found["reason"] if found else None))
