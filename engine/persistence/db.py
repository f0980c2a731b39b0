"""Database engines: SQLite (embedded default) and PostgreSQL (production), set up alike.

SQLite: WAL with synchronous FULL (every commit durable), foreign keys on, a generous busy
timeout, and write transactions opened with BEGIN IMMEDIATE so two writers queue on the
database lock instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError

WRITE = "lianban_write"

# What the services hold: an opaque handle on the database (SQLAlchemy stays in this package).
Database = Engine


class TransientError(Exception):
    """The database could not finish the transaction now (deadlock, lock timeout, lost
    serialization); the same step may succeed if tried again."""


def is_transient(err: BaseException) -> bool:
    return isinstance(err, OperationalError | TransientError)


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    return _pg_engine(url, **kwargs)


# A pooled PostgreSQL connection idle for longer than this is checked before use.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "lianban_idle_since"


def _pg_engine(url: str, **kwargs: Any) -> Engine:
    """PostgreSQL through psycopg 3. A connection that sat in the pool for more than
    PING_AFTER_IDLE_S is pinged when taken out, and replaced if the server dropped it (a
    restart, an idle timeout); one in continuous use is not, which spares every transaction
    under load a round trip. A connection that breaks anyway fails its transaction with an
    OperationalError: steps retry (TransientError), and SQLAlchemy then replaces every
    connection of the pool that is older than the failure."""
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as err:  # the pool retries the checkout with a new connection
            raise DisconnectionError(f"stale pooled connection: {err}") from err

    return engine


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
