"""The window's 已办 list: the tasks a clerk completed, newest first, keyset paging by event id.

A completed task is its `task_completed` event (the actor who completed it, the submitted form,
the time); the case, its version and the task's name come along in the same query. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.model import CaseStatus, EventType

from .tables import bundle_versions, bundles, case_events, cases, human_tasks


@dataclass(frozen=True)
class DoneRow:
    event_id: int
    case_id: int
    task_id: str | None
    element: str | None
    task_name: str | None
    form_key: str | None
    at: datetime
    form: dict[str, Any]  # what the clerk submitted
    bundle_key: str
    bundle_name: str
    version: int
    version_id: int
    meta: BundleMetadata
    forms: dict[str, Any]  # the version's form schemas
    case_status: CaseStatus
    case_data: dict[str, Any]


class DeskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def completed_by(self, actor: str, limit: int, before_id: int | None = None) -> list[DoneRow]:
        """Up to `limit` tasks `actor` completed, newest first, with event ids below
        `before_id`."""
        query = (
            select(
                case_events.c.id,
                case_events.c.case_id,
                case_events.c.task_id,
                case_events.c.element,
                case_events.c.at,
                case_events.c.data,
                human_tasks.c.name.label("task_name"),
                human_tasks.c.form.label("form_key"),
                cases.c.status,
                cases.c.data.label("case_data"),
                cases.c.bundle_version_id,
                bundle_versions.c.version,
                bundle_versions.c.name,
                bundle_versions.c.metadata,
                bundle_versions.c.forms,
                bundles.c.key,
            )
            .join(cases, cases.c.id == case_events.c.case_id)
            .join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .outerjoin(human_tasks, human_tasks.c.id == case_events.c.task_id)
            .where(
                case_events.c.type == str(EventType.TASK_COMPLETED),
                case_events.c.actor == actor,
            )
            .order_by(case_events.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(case_events.c.id < before_id)
        rows = self.conn.execute(query).all()
        metas = {r.bundle_version_id: r.metadata for r in rows}
        typed = {v: BundleMetadata.from_dict(dict(m)) for v, m in metas.items()}
        return [
            DoneRow(
                event_id=int(r.id),
                case_id=int(r.case_id),
                task_id=r.task_id,
                element=r.element,
                task_name=r.task_name,
                form_key=r.form_key,
                at=r.at,
                form=dict((r.data or {}).get("form") or {}),
                bundle_key=r.key,
                bundle_name=r.name,
                version=r.version,
                version_id=int(r.bundle_version_id),
                meta=typed[r.bundle_version_id],
                forms=dict(r.forms or {}),
                case_status=CaseStatus(r.status),
                case_data=dict(r.case_data),
            )
            for r in rows
        ]
