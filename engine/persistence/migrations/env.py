"""Alembic environment: run with a connection handed in by `engine.persistence.schema`."""

from alembic import context

from engine.persistence.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
