"""The transparency log (issue 20): every case event becomes a leaf of an RFC 9162 Merkle
tree (`log_leaves`), the complete subtrees' hashes are kept (`log_nodes`), and each signed
checkpoint is stored (`log_checkpoints`); the three are append-only like `case_events` (0002).
`case_verifications` keeps the results of verifying a case's history.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

LOG_TABLES = ("log_leaves", "log_nodes", "log_checkpoints")
MESSAGE = "the transparency log is append-only: leaves, nodes and checkpoints never change"


def upgrade() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["case_events.id"]),
        sa.UniqueConstraint("event_id", name="uq_log_leaves_event"),
    )
    op.create_index("ix_log_leaves_case_seq", "log_leaves", ["case_id", "seq"])
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_verifications",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verifier", sa.String(100), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("first_bad_seq", sa.Integer()),
        sa.Column("reason", sa.Text()),
        sa.Column("checkpoint_size", sa.BigInteger()),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_index(
        "ix_case_verifications_case_at", "case_verifications", ["case_id", "verified_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION lianban_refuse_log_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
        """)
        for table in LOG_TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_append_only
                BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION lianban_refuse_log_change()
            """)
    else:
        for table in LOG_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"""
                    CREATE TRIGGER {table}_no_{action.lower()}
                    BEFORE {action} ON {table}
                    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOG_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION lianban_refuse_log_change()")
    else:
        for table in LOG_TABLES:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{action}")
    op.drop_index("ix_case_verifications_case_at", table_name="case_verifications")
    op.drop_table("case_verifications")
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_index("ix_log_leaves_case_seq", table_name="log_leaves")
    op.drop_table("log_leaves")
