"""The bundle lifecycle: a version is a draft until published (or discarded), a bundle can be
retired and restored, and each transition is recorded in the append-only `bundle_transitions`.

Existing bundles stay as they were: each bundle's latest version is its published one, its older
versions are superseded, and each version gets the `upload` transition it had (by its deployer,
at its deployment time).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MESSAGE = "bundle_transitions is append-only: transitions are never changed or deleted"


def upgrade() -> None:
    with op.batch_alter_table("bundles") as batch:
        batch.add_column(sa.Column("published_version", sa.Integer()))
        batch.add_column(sa.Column("retired_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("bundle_versions") as batch:
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="published")
        )
    op.create_table(
        "bundle_transitions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("bundle_id", Id, sa.ForeignKey("bundles.id"), nullable=False),
        sa.Column("version", sa.Integer()),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bundle_transitions_bundle", "bundle_transitions", ["bundle_id"])
    op.execute("UPDATE bundles SET published_version = latest_version")
    op.execute(
        "UPDATE bundle_versions SET status = 'superseded' WHERE version < "
        "(SELECT latest_version FROM bundles WHERE bundles.id = bundle_versions.bundle_id)"
    )
    op.execute(
        "INSERT INTO bundle_transitions (bundle_id, version, action, to_state, actor, at) "
        "SELECT bundle_id, version, 'upload', 'published', deployed_by, deployed_at "
        "FROM bundle_versions ORDER BY id"
    )
    _append_only()


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION lianban_refuse_transition_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER bundle_transitions_append_only
            BEFORE UPDATE OR DELETE ON bundle_transitions
            FOR EACH ROW EXECUTE FUNCTION lianban_refuse_transition_change()
        """)
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER bundle_transitions_no_{action.lower()}
            BEFORE {action} ON bundle_transitions
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER bundle_transitions_append_only ON bundle_transitions")
        op.execute("DROP FUNCTION lianban_refuse_transition_change()")
    else:
        op.execute("DROP TRIGGER bundle_transitions_no_update")
        op.execute("DROP TRIGGER bundle_transitions_no_delete")
    op.drop_index("ix_bundle_transitions_bundle", table_name="bundle_transitions")
    op.drop_table("bundle_transitions")
    # Not a batch: SQLite would rebuild `bundles`, which other tables' foreign keys refer to.
    # Plain DROP COLUMN (SQLite 3.35 and later) needs no rebuild: none of these is constrained.
    for table, column in (
        ("bundle_versions", "status"),
        ("bundles", "retired_at"),
        ("bundles", "published_version"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
