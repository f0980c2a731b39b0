"""Verifying many cases at once (issue 20 · part 2): a batch an auditor started, and its cases,
each with the verification the worker stored for it (NULL until verified).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verification_batches",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
    )
    op.create_table(
        "verification_batch_cases",
        sa.Column("batch_id", Id, primary_key=True, autoincrement=False),
        sa.Column("case_id", Id, primary_key=True, autoincrement=False),
        sa.Column("verification_id", Id),
        sa.Column("ok", sa.Boolean()),
        sa.ForeignKeyConstraint(["batch_id"], ["verification_batches.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["verification_id"], ["case_verifications.id"]),
    )


def downgrade() -> None:
    op.drop_table("verification_batch_cases")
    op.drop_table("verification_batches")
