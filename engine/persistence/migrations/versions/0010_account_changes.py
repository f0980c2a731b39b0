"""The record of account changes an administrator makes (created, role and groups, password,
token, unblocked): who, when, what. Append-only: the database refuses to change or delete a row.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MESSAGE = "account_changes is append-only: account changes are never changed or deleted"


def upgrade() -> None:
    op.create_table(
        "account_changes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("before", Json),
        sa.Column("after", Json),
    )
    op.create_index("ix_account_changes_subject", "account_changes", ["subject"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION lianban_refuse_account_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER account_changes_append_only
            BEFORE UPDATE OR DELETE ON account_changes
            FOR EACH ROW EXECUTE FUNCTION lianban_refuse_account_change()
        """)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER account_changes_no_{action.lower()}
                BEFORE {action} ON account_changes
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER account_changes_append_only ON account_changes")
        op.execute("DROP FUNCTION lianban_refuse_account_change()")
    op.drop_index("ix_account_changes_subject", table_name="account_changes")
    op.drop_table("account_changes")
