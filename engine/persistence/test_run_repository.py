"""A bundle's recorded test runs (`bundle_test_runs`): the steps and what they gave when saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from .tables import bundle_test_runs

_COLUMNS = (
    bundle_test_runs.c.id,
    bundle_test_runs.c.bundle_key,
    bundle_test_runs.c.name,
    bundle_test_runs.c.steps,
    bundle_test_runs.c.expected,
    bundle_test_runs.c.created_by,
    bundle_test_runs.c.created_at,
    bundle_test_runs.c.updated_at,
)


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


class TestRunRepository:
    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def for_bundle(self, key: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(*_COLUMNS)
            .where(bundle_test_runs.c.bundle_key == key)
            .order_by(bundle_test_runs.c.id)
        ).all()
        return [_row(r) for r in rows]

    def count(self, key: str) -> int:
        query = select(func.count()).where(bundle_test_runs.c.bundle_key == key)
        return int(self.conn.execute(query).scalar() or 0)

    def get(self, key: str, run_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(*_COLUMNS).where(
                bundle_test_runs.c.bundle_key == key, bundle_test_runs.c.id == run_id
            )
        ).first()
        return _row(row) if row else None

    def add(
        self,
        key: str,
        name: str,
        steps: list[dict[str, Any]],
        expected: dict[str, Any],
        by: str,
        at: datetime,
    ) -> int:
        result = self.conn.execute(
            insert(bundle_test_runs)
            .values(
                bundle_key=key,
                name=name,
                steps=steps,
                expected=expected,
                created_by=by,
                created_at=at,
                updated_at=at,
            )
            .returning(bundle_test_runs.c.id)
        )
        return int(result.scalar_one())

    def update(self, key: str, run_id: int, values: dict[str, Any], at: datetime) -> None:
        self.conn.execute(
            update(bundle_test_runs)
            .where(bundle_test_runs.c.bundle_key == key, bundle_test_runs.c.id == run_id)
            .values(**values, updated_at=at)
        )

    def delete(self, key: str, run_id: int) -> bool:
        result = self.conn.execute(
            delete(bundle_test_runs).where(
                bundle_test_runs.c.bundle_key == key, bundle_test_runs.c.id == run_id
            )
        )
        return bool(result.rowcount)
