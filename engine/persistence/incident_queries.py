"""What the engine's incident handling reads: a case's latest events of some types, newest
first, and the cases standing in error (engine/services/incidents.py); what moving a case to
another version changes beyond the case's own update (engine/services/recovery.py).

Both are index ranges: `(case_id, seq)` read backwards from the case's last event, and the
cases' status index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .tables import (
    bundle_versions,
    bundles,
    case_events,
    cases,
    human_task_groups,
    human_task_users,
    human_tasks,
)


@dataclass(frozen=True)
class EventRow:
    seq: int
    type: str
    actor: str
    at: datetime
    element: str | None
    data: dict[str, Any]


def latest_events(
    conn: Connection, case_id: int, types: tuple[str, ...], limit: int
) -> list[EventRow]:
    """The case's last `limit` events of the given types, newest first."""
    rows = conn.execute(
        select(
            case_events.c.seq,
            case_events.c.type,
            case_events.c.actor,
            case_events.c.at,
            case_events.c.element,
            case_events.c.data,
        )
        .where(case_events.c.case_id == case_id, case_events.c.type.in_(types))
        .order_by(case_events.c.seq.desc())
        .limit(limit)
    ).all()
    return [EventRow(r.seq, r.type, r.actor, r.at, r.element, r.data) for r in rows]


@dataclass(frozen=True)
class CaseInError:
    id: int
    bundle_key: str
    version: int
    updated_at: datetime


def cases_in_status(conn: Connection, status: str, limit: int) -> list[CaseInError]:
    """Cases with this status, most recently changed first."""
    rows = conn.execute(
        select(cases.c.id, bundles.c.key, bundle_versions.c.version, cases.c.updated_at)
        .join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id)
        .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
        .where(cases.c.status == status)
        .order_by(cases.c.updated_at.desc(), cases.c.id.desc())
        .limit(limit)
    ).all()
    return [CaseInError(r.id, r.key, r.version, r.updated_at) for r in rows]


def set_case_version(conn: Connection, case_id: int, version_id: int) -> None:
    """Point a case at another version of its bundle (a migration; the caller's transaction,
    with the case's own update and its `case_migrated` event)."""
    conn.execute(update(cases).where(cases.c.id == case_id).values(bundle_version_id=version_id))


def retarget_task(
    conn: Connection,
    task_id: str,
    element: str,
    name: str,
    form: str | None,
    groups: list[str],
    users: list[str] | None = None,
) -> None:
    """An open human task kept through a migration, now running another element (the
    mapping) or the same element as the new version defines it: its element, name, form,
    candidate groups and candidate users (the worklists' copies included)."""
    created = conn.execute(
        select(human_tasks.c.created_at).where(human_tasks.c.id == task_id)
    ).scalar_one()
    conn.execute(
        update(human_tasks)
        .where(human_tasks.c.id == task_id)
        .values(element=element, name=name, form=form, groups=groups, candidate_users=users or None)
    )
    conn.execute(delete(human_task_users).where(human_task_users.c.task_id == task_id))
    if users:
        conn.execute(
            insert(human_task_users),
            [
                {"task_id": task_id, "user_name": u, "open": 1, "created_at": created}
                for u in dict.fromkeys(users)
            ],
        )
    conn.execute(delete(human_task_groups).where(human_task_groups.c.task_id == task_id))
    if groups:
        conn.execute(
            insert(human_task_groups),
            [
                {"task_id": task_id, "group_name": g, "open": 1, "created_at": created}
                for g in dict.fromkeys(groups)
            ],
        )
