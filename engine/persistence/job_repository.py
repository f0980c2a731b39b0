"""Storing jobs, and handing each due one to exactly one worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.domain.jobs import Job, JobStatus

from .tables import jobs
from .writes import DeferredWrites

# One statement schedules a job unless one of its kind and key exists, whoever wrote it: no read
# first, no savepoint around a possible unique violation (uq_jobs_kind_key decides).
_SCHEDULE = {
    "postgresql": pg_insert(jobs).inline().on_conflict_do_nothing(index_elements=["kind", "key"]),
    "sqlite": sqlite_insert(jobs).inline().on_conflict_do_nothing(index_elements=["kind", "key"]),
}


class JobRepository:
    """Jobs of one transaction. `schedule` only collects; the collected jobs are queued as one
    statement (writes.py) before anything reads the jobs table through this repository and when
    the unit of work commits."""

    def __init__(self, conn: Connection, writes: DeferredWrites) -> None:
        self.conn = conn
        self.writes = writes
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}

    def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        case_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Schedule a job unless one of the same kind and key exists (stored or scheduled earlier
        in this transaction): the first one stays."""
        self._pending.setdefault(
            (kind, key),
            {
                "kind": kind,
                "key": key,
                "case_id": case_id,
                "due_at": due_at,
                "payload": payload or {},
                "status": str(JobStatus.PENDING),
                "attempts": 0,
                "created_at": now,
            },
        )

    def flush(self) -> None:
        """Queue the jobs scheduled so far as one write (those whose kind and key exist are left
        out when it runs)."""
        if self._pending:
            rows = list(self._pending.values())
            self._pending.clear()
            self.writes.add(_SCHEDULE[self.conn.dialect.name], rows)

    def claim_due(self, now: datetime, limit: int = 1) -> list[Job]:
        """Due pending jobs, locked for this transaction; rows other workers hold are skipped."""
        self.flush()
        rows = self.conn.execute(
            select(jobs)
            .where(jobs.c.status == str(JobStatus.PENDING), jobs.c.due_at <= now)
            .order_by(jobs.c.due_at, jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        return [
            Job(
                id=r.id,
                kind=r.kind,
                key=r.key,
                due_at=r.due_at,
                case_id=r.case_id,
                payload=r.payload,
                status=JobStatus(r.status),
                attempts=r.attempts,
                last_error=r.last_error,
            )
            for r in rows
        ]

    def finish(self, job: Job, now: datetime) -> None:
        self.conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(status=str(JobStatus.DONE), done_at=now, attempts=job.attempts + 1)
        )

    def retry_later(self, job: Job, error: str, retry_at: datetime, give_up: bool) -> None:
        self.conn.execute(
            update(jobs)
            .where(jobs.c.id == job.id)
            .values(
                status=str(JobStatus.FAILED if give_up else JobStatus.PENDING),
                attempts=job.attempts + 1,
                last_error=error[:2000],
                due_at=retry_at,
            )
        )

    def next_due(self) -> datetime | None:
        self.flush()
        found: datetime | None = self.conn.execute(
            select(func.min(jobs.c.due_at)).where(jobs.c.status == str(JobStatus.PENDING))
        ).scalar()
        return found

    def for_case(self, case_id: int) -> list[tuple[str, str, str]]:
        """(kind, key, status) of a case's jobs, oldest first."""
        self.flush()
        rows = self.conn.execute(
            select(jobs.c.kind, jobs.c.key, jobs.c.status)
            .where(jobs.c.case_id == case_id)
            .order_by(jobs.c.id)
        ).all()
        return [(r.kind, r.key, r.status) for r in rows]

    def reopen_done_since(
        self, case_id: int, kinds: tuple[str, ...], since: datetime, due_at: datetime
    ) -> int:
        """Put back the case's jobs of these kinds that ran (doing nothing) since `since`, due at
        `due_at`: 挂起 lets a suspended case's timers and deadline checks pass, and 恢复 runs them
        again (engine/services/suspension.py). Returns how many."""
        self.flush()
        result = self.conn.execute(
            update(jobs)
            .where(
                jobs.c.case_id == case_id,
                jobs.c.kind.in_(kinds),
                jobs.c.status == str(JobStatus.DONE),
                jobs.c.done_at >= since,
            )
            .values(status=str(JobStatus.PENDING), due_at=due_at, done_at=None)
        )
        return int(result.rowcount or 0)
