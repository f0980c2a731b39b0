"""The migrations create exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.persistence.db import make_engine
from engine.persistence.schema import upgrade
from engine.persistence.tables import metadata


def test_migrations_match_the_declared_tables_and_rerun_cleanly(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)  # a second run (the fixture ran the first) changes nothing
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {t.name for t in metadata.sorted_tables} | {"alembic_version"} == tables
    finally:
        engine.dispose()
