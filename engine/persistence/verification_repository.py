"""Stored verifications (issue 20 · part 2): each time a case's history was verified, by whom,
and how it went; and the batches that verify many cases at once.

A verification is the only thing verifying writes: the case and its events are not touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select, update

from .tables import case_verifications, cases, verification_batch_cases, verification_batches


@dataclass(frozen=True)
class Verification:
    id: int
    case_id: int
    verified_at: datetime
    verifier: str
    ok: bool
    steps: int
    first_bad_seq: int | None
    reason: str | None
    checkpoint_size: int | None


@dataclass(frozen=True)
class Batch:
    id: int
    created_at: datetime
    created_by: str
    description: str
    total: int
    done: int
    failed: int


def _verification(r: Row[Any]) -> Verification:
    return Verification(
        id=int(r.id),
        case_id=int(r.case_id),
        verified_at=r.verified_at,
        verifier=r.verifier,
        ok=bool(r.ok),
        steps=int(r.steps),
        first_bad_seq=r.first_bad_seq,
        reason=r.reason,
        checkpoint_size=r.checkpoint_size,
    )


class VerificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- verifications of one case ------------------------------------------------------------

    def add(
        self,
        case_id: int,
        verified_at: datetime,
        verifier: str,
        ok: bool,
        steps: int,
        first_bad_seq: int | None,
        reason: str | None,
        checkpoint_size: int | None,
    ) -> int:
        result = self.conn.execute(
            insert(case_verifications)
            .values(
                case_id=case_id,
                verified_at=verified_at,
                verifier=verifier[:100],
                ok=ok,
                steps=steps,
                first_bad_seq=first_bad_seq,
                reason=reason,
                checkpoint_size=checkpoint_size,
            )
            .returning(case_verifications.c.id)
        )
        return int(result.scalar_one())

    def for_case(self, case_id: int, limit: int = 20) -> list[Verification]:
        """The case's verifications, newest first."""
        rows = self.conn.execute(
            select(case_verifications)
            .where(case_verifications.c.case_id == case_id)
            .order_by(case_verifications.c.verified_at.desc(), case_verifications.c.id.desc())
            .limit(limit)
        ).all()
        return [_verification(r) for r in rows]

    def latest(self, case_ids: Sequence[int]) -> dict[int, Verification]:
        """The newest verification of each of these cases that has one."""
        if not case_ids:
            return {}
        newest = (
            select(func.max(case_verifications.c.id).label("id"))
            .where(case_verifications.c.case_id.in_(list(case_ids)))
            .group_by(case_verifications.c.case_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(case_verifications).join(newest, newest.c.id == case_verifications.c.id)
        ).all()
        return {int(r.case_id): _verification(r) for r in rows}

    # -- batches ------------------------------------------------------------------------------

    def case_ids_since(self, since: datetime, limit: int) -> list[int]:
        """Ids of the cases received at or after `since`, oldest first, at most `limit`."""
        rows = self.conn.execute(
            select(cases.c.id).where(cases.c.created_at >= since).order_by(cases.c.id).limit(limit)
        ).scalars()
        return [int(i) for i in rows]

    def existing_cases(self, case_ids: Sequence[int]) -> list[int]:
        """Those of `case_ids` that are cases, in the order given."""
        found = set(
            self.conn.execute(select(cases.c.id).where(cases.c.id.in_(list(case_ids)))).scalars()
        )
        return [i for i in case_ids if i in found]

    def add_batch(
        self, created_at: datetime, created_by: str, description: str, case_ids: Sequence[int]
    ) -> int:
        batch_id = int(
            self.conn.execute(
                insert(verification_batches)
                .values(
                    created_at=created_at,
                    created_by=created_by[:100],
                    description=description,
                    total=len(case_ids),
                )
                .returning(verification_batches.c.id)
            ).scalar_one()
        )
        if case_ids:
            self.conn.execute(
                insert(verification_batch_cases),
                [{"batch_id": batch_id, "case_id": c} for c in case_ids],
            )
        return batch_id

    def batch(self, batch_id: int) -> Batch | None:
        row = self.conn.execute(
            select(verification_batches).where(verification_batches.c.id == batch_id)
        ).first()
        if row is None:
            return None
        items = verification_batch_cases.c
        counts = self.conn.execute(
            select(
                func.count(items.ok).label("done"),
                func.count(items.ok).filter(items.ok.is_(False)).label("failed"),
            ).where(items.batch_id == batch_id)
        ).one()
        return Batch(
            id=int(row.id),
            created_at=row.created_at,
            created_by=row.created_by,
            description=row.description,
            total=int(row.total),
            done=int(counts.done or 0),
            failed=int(counts.failed or 0),
        )

    def batch_failures(self, batch_id: int, limit: int = 500) -> list[Verification]:
        """The failed verifications of the batch, by case."""
        items = verification_batch_cases.c
        rows = self.conn.execute(
            select(case_verifications)
            .join(
                verification_batch_cases,
                and_(
                    items.verification_id == case_verifications.c.id,
                    items.batch_id == batch_id,
                ),
            )
            .where(items.ok.is_(False))
            .order_by(items.case_id)
            .limit(limit)
        ).all()
        return [_verification(r) for r in rows]

    def batch_done(self, batch_id: int, case_id: int, verification_id: int, ok: bool) -> None:
        self.conn.execute(
            update(verification_batch_cases)
            .where(
                verification_batch_cases.c.batch_id == batch_id,
                verification_batch_cases.c.case_id == case_id,
            )
            .values(verification_id=verification_id, ok=ok)
        )
