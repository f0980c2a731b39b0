"""The dashboard's rollups by month (issue 21): each row the sum of its month's day rows, so a
year's figures read 12 rows a bundle. Derived: `lianban stats rebuild` fills them.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stats_monthly",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("bundle_key", sa.String(64), primary_key=True),
        sa.Column("figures", Json, nullable=False),
    )
    op.create_table(
        "stats_task_monthly",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("bundle_key", sa.String(64), primary_key=True),
        sa.Column("element", sa.String(200), primary_key=True),
        sa.Column("group_name", sa.String(100), primary_key=True),
        sa.Column("clerk", sa.String(100), primary_key=True),
        sa.Column("task_name", sa.String(300), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
    )
    op.create_index("ix_stats_task_monthly_bundle", "stats_task_monthly", ["bundle_key", "month"])


def downgrade() -> None:
    op.drop_index("ix_stats_task_monthly_bundle", "stats_task_monthly")
    op.drop_table("stats_task_monthly")
    op.drop_table("stats_monthly")
