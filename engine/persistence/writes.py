"""The writes of a transaction whose results nobody reads, sent together.

A step changes a handful of rows: its task closed, the tasks it opens, their group rows, jobs,
certificates, the case and its events. None of those statements' results is read back, so
they are collected and sent at once:

- before any other statement runs on the connection (a read always sees this transaction's
  writes: `watch` hooks `flush` to the engine's `before_execute`), and before the commit;
- on PostgreSQL in one pipeline (psycopg's pipeline mode): the statements, and at the end of
  the transaction its COMMIT, go out together and their results come back together: one
  network round trip instead of one per statement;
- on SQLite one after another, as they were written;
- straight to the driver's cursor: each statement is compiled once per database and set of
  columns (`_compiled`), and its parameters go through the same conversions SQLAlchemy applies
  (JSON, dates); that skips SQLAlchemy's per-execution work, which costs more than the
  statement itself on SQLite. A driver error is raised as SQLAlchemy's exception, as before.

The case's UPDATE is guarded: it must find the revision it read (`guarded_revision`),
otherwise `StaleWrite` is raised and nothing is committed. An error in any write (a unique
violation, a deadlock) surfaces at the flush as the usual SQLAlchemy exception.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, cast

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
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

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


class _Compiled:
    """A queued statement compiled for one database and one set of parameter names: its SQL,
    and how a row of parameters becomes what the driver takes."""

    def __init__(self, statement: Executable, dialect: Dialect, names: list[str], many: bool):
        clause = cast(ClauseElement, statement)
        compiled = clause.compile(dialect=dialect, column_keys=names, for_executemany=many)
        assert isinstance(compiled, SQLCompiler)
        # What this shortcut does not do, SQLAlchemy would have: values computed on the client
        # (Python-side column defaults), expanded IN lists, renamed parameters. None of the
        # queued statements needs them; a new one that did fails here, in the tests.
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.escaped_bind_names
            or compiled.effective_returning
        ):
            raise TypeError(f"not a statement for queued writes: {compiled.string}")
        self.compiled = compiled
        self.sql = compiled.string
        # the JSON and date conversions, per parameter name
        self.processors = cast(dict[str, Callable[[Any], Any]], compiled._bind_processors)
        self.order = compiled.positiontup if compiled.positional else None

    def row(self, params: dict[str, Any]) -> Any:
        """The driver's parameters for one row (with the statement's own bound constants)."""
        values = self.compiled.construct_params(params, escape_names=False)
        for name, process in self.processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.order is not None:
            return tuple(values[name] for name in self.order)
        return values


_COMPILED: dict[tuple[int, str, tuple[str, ...], bool], tuple[Executable, _Compiled]] = {}


def _compiled(statement: Executable, dialect: Dialect, names: list[str], many: bool) -> _Compiled:
    key = (id(statement), dialect.name, tuple(names), many)
    found = _COMPILED.get(key)
    if found is None or found[0] is not statement:  # the statement is kept: its id stays its own
        found = (statement, _Compiled(statement, dialect, names, many))
        _COMPILED[key] = found
    return found[1]


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
                self._send(pending)
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
                self._send(pending)
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

    def _send(self, pending: list[tuple[Executable, Any]]) -> None:
        """Run the writes on the driver's cursor, inside the connection's transaction."""
        conn = self.conn
        dialect = conn.dialect
        driver: Any = conn.connection.driver_connection
        cursor = driver.cursor()
        # SQLAlchemy's cursor events still see every statement (statement logs, tracing); the
        # execution context they are given is None
        events = conn._has_events or conn.engine._has_events
        sql, params = None, None
        try:
            for statement, rows in pending:
                many = isinstance(rows, list) and len(rows) > 1
                first = rows[0] if isinstance(rows, list) else rows
                compiled = _compiled(statement, dialect, list(first), many)
                sql = compiled.sql
                params = [compiled.row(p) for p in rows] if many else compiled.row(first)
                if events:
                    conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
                if events:
                    conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, driver, cursor):
                self.conn.invalidate(err)
            raise DBAPIError.instance(
                sql, params, err, dialect.loaded_dbapi.Error, dialect=dialect
            ) from err
        finally:
            cursor.close()
