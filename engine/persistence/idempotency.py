"""Idempotency keys (`Idempotency-Key` on POST /cases and task completion) and the window's
query for an applicant's open cases of a bundle (the duplicate warning before 收件)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .tables import bundle_versions, bundles, cases, idempotency_keys


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """A key's row: the request it was first used for and, once done, the answer given."""

    request_hash: str
    status: int | None
    body: Any
    created_at: datetime


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, user: str, key: str) -> StoredAnswer | None:
        t = idempotency_keys.c
        row = self.conn.execute(
            select(t.request_hash, t.status, t.body, t.created_at).where(
                t.user_name == user, t.key == key
            )
        ).first()
        return StoredAnswer(row[0], row[1], row[2], row[3]) if row else None

    def reserve(self, user: str, key: str, request_hash: str, now: datetime) -> bool:
        """Claim the key for a request about to run; False when the key already exists (another
        request took it first: the caller reads that one)."""
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(idempotency_keys)
            .values(user_name=user, key=key, request_hash=request_hash, created_at=now)
            .on_conflict_do_nothing(index_elements=["user_name", "key"])
            .returning(idempotency_keys.c.key)
        )
        # RETURNING, not rowcount: the driver may not know a row count (a pipeline)
        return self.conn.execute(statement).first() is not None

    def finish(self, user: str, key: str, status: int, body: Any) -> None:
        t = idempotency_keys.c
        self.conn.execute(
            update(idempotency_keys)
            .where(t.user_name == user, t.key == key)
            .values(status=status, body=body)
        )

    def forget(self, user: str, key: str) -> bool:
        """Drop a key; False when it was not there (another request dropped it first)."""
        t = idempotency_keys.c
        statement = delete(idempotency_keys).where(t.user_name == user, t.key == key)
        return self.conn.execute(statement.returning(t.key)).first() is not None

    def purge(self, before: datetime) -> int:
        """Drop the keys created before `before` (they expire after a day)."""
        t = idempotency_keys.c
        statement = delete(idempotency_keys).where(t.created_at < before).returning(t.key)
        return len(self.conn.execute(statement).all())


def open_cases_of_applicant(
    conn: Connection, bundle_key: str, match: dict[str, str], limit: int = 5
) -> list[dict[str, Any]]:
    """Running cases of any version of `bundle_key` whose data holds every `match` field with the
    given text (the applicant's ID number, else name and phone), newest first."""
    if not match:
        return []
    c = cases.c
    conditions = [c.data[name].as_string() == value for name, value in match.items()]
    rows = conn.execute(
        select(c.id, c.data, c.created_at, c.created_by)
        .join(bundle_versions, bundle_versions.c.id == c.bundle_version_id)
        .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
        .where(
            bundles.c.key == bundle_key,
            c.status.in_(("running", "suspended")),  # a suspended (挂起) case is still open
            and_(*conditions),
        )
        .order_by(c.id.desc())
        .limit(limit)
    ).all()
    return [{"id": r[0], "data": r[1], "created_at": r[2], "created_by": r[3]} for r in rows]
