"""抄送 (issue 18 · 6): one row per reader a case was copied to, read or not.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_copies",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("via", sa.String(110), nullable=False),
        sa.Column("copied_by", sa.String(100), nullable=False),
        sa.Column("copied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_index("ix_case_copies_user_read", "case_copies", ["user_name", "read_at", "id"])
    op.create_index("ix_case_copies_case_user", "case_copies", ["case_id", "user_name"])


def downgrade() -> None:
    op.drop_index("ix_case_copies_case_user", table_name="case_copies")
    op.drop_index("ix_case_copies_user_read", table_name="case_copies")
    op.drop_table("case_copies")
