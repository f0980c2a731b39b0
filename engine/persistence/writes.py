"""The writes of a transaction whose results nobody reads, sent together.

A step changes a handful of rows: its task closed, the tasks it opens, their group rows, jobs,
certificates, the case and its events. None of those statements' results is read back (the
case's revision check aside), so they are collected and sent at once:

- before any other statement runs on the connection (a read always sees this transaction's
  writes: `watch` hooks `flush` to the engine's `before_execute`), and before the commit;
- on PostgreSQL in one pipeline (psycopg's pipeline mode): the statements go out together and
  their results come back together, one network round trip instead of one per statement;
- on SQLite one after another, as they were written.

A guarded write (the case's UPDATE ... WHERE revision = the one read) must change exactly one
row; otherwise `StaleWrite` is raised and the transaction is not committed. An error in any
write (a unique violation, a deadlock) surfaces at the flush as the usual SQLAlchemy exception.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Executable, event
from sqlalchemy.exc import DBAPIError

from engine.errors import Conflict

# Where `_flush_first` finds the writes of the transaction a connection is in.
WRITES_KEY = "lianban_writes"


def watch(engine: Engine) -> None:
    """Make every statement on `engine` send its transaction's queued writes first (once)."""
    if not event.contains(engine, "before_execute", _flush_first):
        event.listen(engine, "before_execute", _flush_first)


def _flush_first(conn: Connection, *_args: Any) -> None:
    writes = conn.info.get(WRITES_KEY)
    if writes is not None:
        writes.flush()


class StaleWrite(Conflict):
    """A guarded write found its row changed since it was read; the step may be retried."""


class DeferredWrites:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pending: list[tuple[Executable, Any, bool]] = []
        self._flushing = False
        self._pipelined = conn.dialect.name == "postgresql"

    def add(self, statement: Executable, params: Any, guarded: bool = False) -> None:
        """Queue a write: `params` a dict, or a list of dicts for one statement over many rows.
        `guarded`: it must change exactly one row. An INSERT must not ask for anything back
        (build it with `.inline()`): its result is never read."""
        self._pending.append((statement, params, guarded))

    def flush(self) -> None:
        """Send every queued write now (a no-op when none is queued, or while sending)."""
        if not self._pending or self._flushing:
            return
        pending, self._pending = self._pending, []
        self._flushing = True
        try:
            stale = self._send_pipelined(pending) if self._pipelined else self._send(pending)
        finally:
            self._flushing = False
        if stale:
            raise StaleWrite("办件已被他人同时修改, 请重试")

    def _send(self, pending: list[tuple[Executable, Any, bool]]) -> bool:
        for statement, params, guarded in pending:
            if self.conn.execute(statement, params).rowcount != 1 and guarded:
                return True  # the rest would be rolled back with it
        return False

    def _send_pipelined(self, pending: list[tuple[Executable, Any, bool]]) -> bool:
        import psycopg

        guarded = []
        driver: Any = self.conn.connection.driver_connection  # a psycopg.Connection
        try:
            with driver.pipeline() as pipeline:
                for statement, params, must_change_one in pending:
                    result = self.conn.execute(statement, params)
                    if must_change_one:
                        # the row count is known once the results are in (after the sync)
                        guarded.append(result.context.cursor)
                pipeline.sync()
        except psycopg.Error as err:  # raised by the sync, outside SQLAlchemy: wrap it as it would
            raise DBAPIError.instance(None, None, err, psycopg.Error) from err
        return any(cursor.rowcount != 1 for cursor in guarded)
