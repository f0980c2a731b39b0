"""The throttle counters (engine.domain.throttle), shared by every server process.

A counter is read and written under a row lock: the row is made to exist first (one `INSERT ...
ON CONFLICT DO NOTHING`), then locked (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the
write transaction, opened with BEGIN IMMEDIATE, already holds the database's write lock), so two
processes counting the same subject queue instead of both counting from the same old value.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.domain.throttle import Counter

from .tables import throttles

_ENSURE = {
    "postgresql": pg_insert(throttles).on_conflict_do_nothing(index_elements=["scope", "subject"]),
    "sqlite": sqlite_insert(throttles).on_conflict_do_nothing(index_elements=["scope", "subject"]),
}
_COUNTER = (
    throttles.c.failures,
    throttles.c.window_start,
    throttles.c.blocked_until,
    throttles.c.blocks,
    throttles.c.updated_at,
)


def _key(scope: str, subject: str) -> ColumnElement[bool]:
    return and_(throttles.c.scope == scope, throttles.c.subject == subject)


class ThrottleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def locked(self, scope: str, subject: str, now: datetime) -> Counter:
        """The subject's counter, its row locked until the transaction ends (a fresh counter,
        stored, when there was none)."""
        fresh = Counter.fresh(now)
        self.conn.execute(
            _ENSURE[self.conn.dialect.name],
            {"scope": scope, "subject": subject, **_values(fresh)},
        )
        query = select(*_COUNTER).where(_key(scope, subject))
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).one()
        return Counter(
            row.failures, row.window_start, row.blocked_until, row.blocks, row.updated_at
        )

    def save(self, scope: str, subject: str, counter: Counter) -> None:
        self.conn.execute(update(throttles).where(_key(scope, subject)).values(**_values(counter)))

    def clear(self, scope: str, subject: str) -> None:
        self.conn.execute(delete(throttles).where(_key(scope, subject)))

    def prune(self, quiet_since: datetime, now: datetime) -> int:
        """Drop the counters untouched since `quiet_since` and not blocking anyone now."""
        result = self.conn.execute(
            delete(throttles).where(
                throttles.c.updated_at < quiet_since,
                or_(throttles.c.blocked_until.is_(None), throttles.c.blocked_until <= now),
            )
        )
        return int(result.rowcount)

    def get(self, scope: str, subject: str) -> Counter | None:
        """The stored counter without locking it (for reports and tests)."""
        row = self.conn.execute(select(*_COUNTER).where(_key(scope, subject))).first()
        if row is None:
            return None
        return Counter(
            row.failures, row.window_start, row.blocked_until, row.blocks, row.updated_at
        )


def _values(counter: Counter) -> dict[str, object]:
    return {
        "failures": counter.failures,
        "window_start": counter.window_start,
        "blocked_until": counter.blocked_until,
        "blocks": counter.blocks,
        "updated_at": counter.updated_at,
    }
