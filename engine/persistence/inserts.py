"""What every repository's inserts share."""

from __future__ import annotations

from sqlalchemy import Connection, Insert


def insert_id(conn: Connection, statement: Insert) -> int:
    """Run an INSERT and return the new row's id (RETURNING works on SQLite and PostgreSQL)."""
    return int(conn.execute(statement.returning(statement.table.c.id)).scalar_one())
