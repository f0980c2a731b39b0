"""The auditors' case search: filters over the cases table, newest first, keyset paging.

Every filter but the applicant's is an indexed column (see migration 0005). The applicant is not
a column: the name and id number live in the case data under field names each bundle chooses
(bundle.json `applicant`), read from the JSON (`data ->> 'field'` on PostgreSQL, `json_extract`
on SQLite). On PostgreSQL migration 0021 indexes the default fields: a btree on the id number, a
trigram (pg_trgm GIN) index on the name.

The statements are written for prepared (generic) plans, which psycopg makes after 5 executions
of one statement: the JSON field names and the LIMIT are written into the SQL text, so that
`data ->> 'applicant_name'` is the indexed expression in every plan (a bound field name kept the
generic plan off the indexes: a rare name read all the cases). A name is matched by one of two
statements: a text of SHORT_NAME characters or more anywhere in the name (`LIKE '%...%'`, served
by its trigrams), a shorter one at the name's start (`LIKE '王芳%'`: the index holds the trigrams
of a name's start, while '%王芳%' has none and read cases newest first until a page was full).
Without a received date, cases come newest first by id and a page continues below the last id;
with one, by received time then id (ix_cases_created_at: ordered by id, the primary key was read
backwards through every case newer than the range), continuing after the last case's
(created_at, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Select, bindparam, false, func, or_, select

from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.model import CaseStatus
from engine.domain.timelimits import CaseClock

from .tables import bundle_versions, bundles, cases

# A name searched by a text this short matches the names that begin with it (a surname, or a
# whole two-character name); a longer text matches anywhere in the name.
SHORT_NAME = 3


def _field(name: str) -> ColumnElement[str]:
    """A case data field as text, its name written into the SQL (an indexed expression)."""
    key = bindparam(None, name, type_=JSON.JSONStrIndexType, literal_execute=True)
    text: ColumnElement[str] = cases.c.data[key].as_string()
    return text


@dataclass(frozen=True)
class CaseFilter:
    """What to look for; None: any."""

    number: int | None = None
    # the applicant's name (its start when shorter than SHORT_NAME, else a part of it) or the
    # whole id number
    applicant: str | None = None
    # the case data fields that hold applicants' names and id numbers, over all bundles
    name_fields: tuple[str, ...] = ()
    id_fields: tuple[str, ...] = ()
    # the applicant's id number, exactly (in any of `id_fields`)
    id_number: str | None = None
    bundle_key: str | None = None
    received_from: datetime | None = None  # inclusive
    received_before: datetime | None = None  # exclusive
    status: CaseStatus | None = None
    # overdue candidates: the deadline passed before this day, counted on the clock's own end
    # (stopped or paused) when it has one
    late_on: date | None = None


@dataclass(frozen=True)
class CaseRow:
    id: int
    bundle_key: str
    bundle_name: str
    version: int
    version_id: int
    meta: BundleMetadata  # its version's bundle.json
    status: CaseStatus
    data: dict[str, Any]
    clock: CaseClock
    outcome: dict[str, str] | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None


class SearchRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def bundle_choices(self) -> list[tuple[str, str]]:
        """(key, name of the newest version) of every bundle, by key."""
        rows = self.conn.execute(
            select(bundles.c.key, bundles.c.name).order_by(bundles.c.key)
        ).all()
        return [(r.key, r.name) for r in rows]

    def version_metadata(self, bundle_key: str | None = None) -> list[BundleMetadata]:
        """bundle.json of every deployed version (of one bundle when given)."""
        query = select(bundle_versions.c.metadata).join(
            bundles, bundles.c.id == bundle_versions.c.bundle_id
        )
        if bundle_key is not None:
            query = query.where(bundles.c.key == bundle_key)
        return [BundleMetadata.from_dict(dict(m)) for m in self.conn.execute(query).scalars()]

    def _where(self, f: CaseFilter) -> list[Any]:
        where: list[Any] = []
        if f.number is not None:
            where.append(cases.c.id == f.number)
        if f.bundle_key is not None:
            where.append(bundles.c.key == f.bundle_key)
        if f.status is not None:
            where.append(cases.c.status == str(f.status))
        if f.received_from is not None:
            where.append(cases.c.created_at >= f.received_from)
        if f.received_before is not None:
            where.append(cases.c.created_at < f.received_before)
        if f.late_on is not None:
            today = f.late_on.isoformat()
            clock = cases.c.clock
            ended = func.coalesce(
                clock["stopped_on"].as_string(), clock["paused_since"].as_string(), today
            )
            where += [
                cases.c.deadline.is_not(None),
                cases.c.deadline < f.late_on,
                # ISO dates compare as text
                ended > clock["deadline"].as_string(),
            ]
        if f.applicant:
            text = f.applicant
            if len(text) < SHORT_NAME:
                matches = [_field(n).startswith(text, autoescape=True) for n in f.name_fields]
            else:
                matches = [_field(n).contains(text, autoescape=True) for n in f.name_fields]
            matches += [_field(n) == text for n in f.id_fields]
            where.append(or_(*matches) if matches else false())
        if f.id_number:
            exact = [_field(n) == f.id_number for n in f.id_fields]
            where.append(or_(*exact) if exact else false())
        return where

    def query(self, f: CaseFilter, limit: int, before_id: int | None = None) -> Select[Any] | None:
        """The statement of `search` (None: the page cursor is no case)."""
        query = (
            select(
                cases.c.id,
                cases.c.status,
                cases.c.data,
                cases.c.clock,
                cases.c.outcome,
                cases.c.created_by,
                cases.c.created_at,
                cases.c.ended_at,
                cases.c.bundle_version_id,
                bundle_versions.c.version,
                bundle_versions.c.name,
                bundle_versions.c.metadata,
                bundles.c.key,
            )
            .join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .where(*self._where(f))
            .limit(bindparam("page", limit, literal_execute=True))
        )
        if f.received_from is None and f.received_before is None:
            newest = cases.c.id.desc()
            if f.applicant and len(f.applicant) >= SHORT_NAME:
                # by "id + 0": the planner cannot choose to walk the primary key backwards
                # hoping to meet a page of matches soon (its guess for a name that happens to
                # be among its sampled values is 1 %: a rare name then reads the whole table);
                # the trigram index finds the few matches, which are then sorted
                newest = (cases.c.id + 0).desc()
            query = query.order_by(newest)
            if before_id is not None:
                query = query.where(cases.c.id < before_id)
            return query
        query = query.order_by(cases.c.created_at.desc(), cases.c.id.desc())
        if before_id is not None:
            at = self.conn.execute(
                select(cases.c.created_at).where(cases.c.id == before_id)
            ).scalar()
            if at is None:
                return None
            # the index bounds the scan by created_at; of the cases received at the same
            # instant, those below the cursor's id
            query = query.where(
                cases.c.created_at <= at, or_(cases.c.created_at < at, cases.c.id < before_id)
            )
        return query

    def search(self, f: CaseFilter, limit: int, before_id: int | None = None) -> list[CaseRow]:
        """Up to `limit` cases matching `f`, newest first (by id; with a received date, by when
        received, then id), after the case `before_id` (the last of the page before)."""
        query = self.query(f, limit, before_id)
        if query is None:
            return []
        rows = self.conn.execute(query).all()
        # the rows of a page share a few versions: each one's bundle.json is read once
        metas = {r.bundle_version_id: r.metadata for r in rows}
        typed = {v: BundleMetadata.from_dict(dict(m)) for v, m in metas.items()}
        return [
            CaseRow(
                id=int(r.id),
                bundle_key=r.key,
                bundle_name=r.name,
                version=r.version,
                version_id=int(r.bundle_version_id),
                meta=typed[r.bundle_version_id],
                status=CaseStatus(r.status),
                data=dict(r.data),
                clock=CaseClock.from_dict(r.clock),
                outcome=r.outcome,
                created_by=r.created_by,
                created_at=r.created_at,
                ended_at=r.ended_at,
            )
            for r in rows
        ]
