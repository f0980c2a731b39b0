"""The writes of a transaction whose results nobody reads, sent together.

A step changes a handful of rows: its task closed, the tasks it opens, their group rows, jobs,
certificates, the case and its events. None of those statements' results is read back, so
they are collected and sent at once:

- before any other statement runs on the connection (a read always sees this transaction's
  writes: `watch` hooks `flush` to the engine's `before_execute`), and before the commit;
- on PostgreSQL in one pipeline (psycopg's pipeline mode): the statements, and at the end of
  the transaction its COMMIT, go out together and their results come back together: one
  network round trip instead of one per statement;
- on SQLite one after another, as they were written.

The case's UPDATE is guarded: it must find the revision it read (`guarded_revision`),
otherwise `StaleWrite` is raised and nothing is committed. An error in any write (a unique
violation, a deadlock) surfaces at the flush as the usual SQLAlchemy exception.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Table,
    bindparam,
    case,
    event,
    null,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.errors import Conflict

# Where `_flush_first` finds the writes of the transaction a connection is in.
WRITES_KEY = "lianban_writes"


_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()


def watch(engine: Engine) -> None:
    """Make every statement on `engine` send its transaction's queued writes first (once)."""
    if engine not in _WATCHED:
        if not event.contains(engine, "before_execute", _flush_first):
            event.listen(engine, "before_execute", _flush_first)
        _WATCHED.add(engine)


def _flush_first(conn: Connection, statement: Any, *_args: Any) -> None:
    if conn.invalidated:  # the statement fails anyway, and the writes with its transaction
        return
    writes = conn.info.get(WRITES_KEY)
    if writes is not None:
        if writes.read_only and (
            getattr(statement, "is_dml", False)
            # SELECT ... FOR UPDATE: on PostgreSQL a read-only unit has no transaction to hold it
            or getattr(statement, "_for_update_arg", None) is not None
        ):
            raise ReadOnlyWrite(f"a write or a lock in a read-only unit of work: {statement}")
        writes.flush()


class ReadOnlyWrite(RuntimeError):
    """A read-only unit of work was asked to write or to lock rows: a programming error, refused
    before the statement is sent (on PostgreSQL such a unit runs without a transaction)."""


class StaleWrite(Conflict):
    """A guarded write found its row changed since it was read; the step may be retried."""


def guarded_revision(table: Table) -> ColumnElement[Any]:
    """The new value of `table.revision` for an UPDATE that must find the revision it read:
    the bound `new_revision` if the row still has `b_revision`, else NULL, which the column's
    NOT NULL constraint refuses. The database itself thus fails the transaction when the row
    changed meanwhile, before anything queued after it or the COMMIT (sent with it) can run."""
    return case(
        (table.c.revision == bindparam("b_revision"), bindparam("new_revision")), else_=null()
    )


def _is_stale(err: IntegrityError) -> bool:
    """Whether `err` is `guarded_revision` refusing a write (PostgreSQL or SQLite's words)."""
    diag = getattr(err.orig, "diag", None)
    if diag is not None:
        return getattr(diag, "column_name", None) == "revision" and "null" in str(err.orig)
    return "NOT NULL constraint failed" in str(err.orig) and ".revision" in str(err.orig)


class DeferredWrites:
    def __init__(self, conn: Connection, read_only: bool = False) -> None:
        self.conn = conn
        self.read_only = read_only
        self._pending: list[tuple[Executable, Any]] = []
        self._flushing = False
        self._pipelined = conn.dialect.name == "postgresql"

    def add(self, statement: Executable, params: Any) -> None:
        """Queue a write: `params` a dict, or a list of dicts for one statement over many rows.
        An INSERT must not ask for anything back (build it with `.inline()`): its result is
        never read."""
        if self.read_only:
            raise ReadOnlyWrite(f"a write in a read-only unit of work: {statement}")
        self._pending.append((statement, params))

    def flush(self, commit: Callable[[], None] | None = None) -> None:
        """Send every queued write now, then `commit` if given: on PostgreSQL the COMMIT goes
        in the same pipeline as the writes. Raises `StaleWrite` if a guarded write found its
        row changed (and then nothing is committed)."""
        if self._flushing:
            return
        pending, self._pending = self._pending, []
        self._flushing = True
        try:
            if self._pipelined and pending:
                self._send_pipelined(pending, commit)
            else:
                for statement, params in pending:
                    self.conn.execute(statement, params)
                if commit is not None:
                    commit()
        except IntegrityError as err:
            if _is_stale(err):
                raise StaleWrite("办件已被他人同时修改, 请重试") from err
            raise
        finally:
            self._flushing = False

    def _send_pipelined(
        self, pending: list[tuple[Executable, Any]], commit: Callable[[], None] | None
    ) -> None:
        import psycopg

        driver: Any = self.conn.connection.driver_connection  # a psycopg.Connection
        try:
            with driver.pipeline() as pipeline:
                for statement, params in pending:
                    self.conn.execute(statement, params)
                if commit is not None:
                    commit()  # COMMIT rides along; any error above makes it a rollback
                else:
                    pipeline.sync()
        except BaseException as err:
            if commit is not None:
                # SQLAlchemy counts the transaction as ended by the failed COMMIT and would
                # hand the connection back to the pool still in the failed transaction
                driver.rollback()
            if isinstance(err, psycopg.Error):  # raised by the sync, outside SQLAlchemy
                raise DBAPIError.instance(None, None, err, psycopg.Error) from err
            raise
