"""What the time-limit statistics read (engine/services/time_statistics.py): the cases received
in a period, their events of some types and their tasks that have a deadline, each in one query
over all the cases (never one per case)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from engine.domain.model import CaseEvent, TaskKind, TaskStatus
from engine.domain.timelimits import CaseClock

from .case_repository import _event
from .tables import bundle_versions, bundles, case_events, cases, human_tasks


@dataclass(frozen=True)
class PeriodCase:
    id: int
    bundle_key: str
    version_id: int
    status: str
    clock: CaseClock


def _in_period(
    query: Select[Any], received_from: datetime, received_before: datetime, bundle_key: str | None
) -> Select[Any]:
    query = query.where(cases.c.created_at >= received_from, cases.c.created_at < received_before)
    if bundle_key is not None:
        query = query.where(bundles.c.key == bundle_key)
    return query


def _joined(query: Select[Any]) -> Select[Any]:
    return query.join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id).join(
        bundles, bundles.c.id == bundle_versions.c.bundle_id
    )


def period_cases(
    conn: Connection, received_from: datetime, received_before: datetime, bundle_key: str | None
) -> list[PeriodCase]:
    """The cases received in [received_from, received_before), of one bundle or all, by id."""
    query = _joined(
        select(
            cases.c.id, cases.c.bundle_version_id, cases.c.status, cases.c.clock, bundles.c.key
        ).select_from(cases)
    )
    rows = conn.execute(
        _in_period(query, received_from, received_before, bundle_key).order_by(cases.c.id)
    ).all()
    return [
        PeriodCase(r.id, r.key, r.bundle_version_id, r.status, CaseClock.from_dict(r.clock or {}))
        for r in rows
    ]


def period_events(
    conn: Connection,
    received_from: datetime,
    received_before: datetime,
    bundle_key: str | None,
    types: Iterable[str],
) -> list[CaseEvent]:
    """The events of these types of the same cases, by case and sequence."""
    query = _joined(
        select(case_events).select_from(
            case_events.join(cases, cases.c.id == case_events.c.case_id)
        )
    ).where(case_events.c.type.in_(sorted(set(types))))
    query = _in_period(query, received_from, received_before, bundle_key)
    rows = conn.execute(query.order_by(case_events.c.case_id, case_events.c.seq)).all()
    return [_event(r) for r in rows]


@dataclass(frozen=True)
class TimedTask:
    id: str
    case_id: int
    element: str
    status: TaskStatus
    deadline: date
    ended_at: datetime | None


def period_timed_tasks(
    conn: Connection, received_from: datetime, received_before: datetime, bundle_key: str | None
) -> list[TimedTask]:
    """The diagram's tasks with a deadline of the same cases, cancelled ones left out."""
    query = _joined(
        select(
            human_tasks.c.id,
            human_tasks.c.case_id,
            human_tasks.c.element,
            human_tasks.c.status,
            human_tasks.c.deadline,
            human_tasks.c.ended_at,
        ).select_from(human_tasks.join(cases, cases.c.id == human_tasks.c.case_id))
    ).where(
        human_tasks.c.deadline.is_not(None),
        human_tasks.c.kind == str(TaskKind.BPMN),
        human_tasks.c.status != str(TaskStatus.CANCELLED),
    )
    query = _in_period(query, received_from, received_before, bundle_key)
    rows = conn.execute(query.order_by(human_tasks.c.case_id, human_tasks.c.id)).all()
    return [
        TimedTask(r.id, r.case_id, r.element, TaskStatus(r.status), r.deadline, r.ended_at)
        for r in rows
    ]
