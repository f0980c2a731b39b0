"""Storing jobs, and handing each due one to exactly one worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.jobs import Job, JobStatus

from .tables import jobs


class JobRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        now: datetime,
        case_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule a job unless one of the same kind and key exists; True when added."""
        exists = self.conn.execute(
            select(jobs.c.id).where(jobs.c.kind == kind, jobs.c.key == key)
        ).first()
        if exists:
            return False
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(jobs).values(
                        kind=kind,
                        key=key,
                        case_id=case_id,
                        due_at=due_at,
                        payload=payload or {},
                        status=str(JobStatus.PENDING),
                        attempts=0,
                        created_at=now,
                    )
                )
        except IntegrityError:  # scheduled at the same moment by another transaction
            return False
        return True

    def claim_due(self, now: datetime, limit: int = 1) -> list[Job]:
        """Due pending jobs, locked for this transaction; rows other workers hold are skipped."""
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
        found: datetime | None = self.conn.execute(
            select(func.min(jobs.c.due_at)).where(jobs.c.status == str(JobStatus.PENDING))
        ).scalar()
        return found

    def for_case(self, case_id: int) -> list[tuple[str, str, str]]:
        """(kind, key, status) of a case's jobs, oldest first."""
        rows = self.conn.execute(
            select(jobs.c.kind, jobs.c.key, jobs.c.status)
            .where(jobs.c.case_id == case_id)
            .order_by(jobs.c.id)
        ).all()
        return [(r.kind, r.key, r.status) for r in rows]
