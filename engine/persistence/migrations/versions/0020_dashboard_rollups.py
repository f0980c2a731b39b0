"""The 效能监察 dashboard (issue 21): each case's facts, the day rollups per bundle and per
task, group and clerk, and the refresh's bookmark; an index on when tasks ended. All of it is
derived from the record: `lianban stats rebuild` fills it for existing cases.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "case_facts",
        sa.Column("case_id", Id, primary_key=True, autoincrement=False),
        sa.Column("bundle_key", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date()),
        sa.Column("ended_on", sa.Date()),
        sa.Column("result", sa.String(12), nullable=False),
        sa.Column("timeliness", sa.String(12)),
        sa.Column("handling_workdays", sa.Integer()),
        sa.Column("promised_workdays", sa.Integer()),
        sa.Column("statutory_workdays", sa.Integer()),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Boolean(), nullable=False),
        sa.Column("supplies_owed", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("post_check_failed", sa.Boolean(), nullable=False),
        sa.Column("certified", sa.Boolean(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer()),
        sa.Column("rated_on", sa.Date()),
        sa.Column("rectification", sa.String(12)),
        sa.Column("follow_up", sa.String(12)),
        sa.Column("touched_days", Json, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_index("ix_case_facts_received", "case_facts", ["received_on", "bundle_key"])
    op.create_index("ix_case_facts_accepted", "case_facts", ["accepted_on", "bundle_key"])
    op.create_index("ix_case_facts_ended", "case_facts", ["ended_on", "bundle_key"])
    op.create_index("ix_case_facts_rated", "case_facts", ["rated_on", "bundle_key"])
    op.create_index("ix_case_facts_result", "case_facts", ["result", "bundle_key"])
    op.create_table(
        "stats_daily",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("bundle_key", sa.String(64), primary_key=True),
        sa.Column("figures", Json, nullable=False),
    )
    op.create_table(
        "stats_task_daily",
        sa.Column("day", sa.Date(), primary_key=True),
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
    op.create_index("ix_stats_task_daily_bundle", "stats_task_daily", ["bundle_key", "day"])
    op.create_table(
        "stats_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_human_tasks_ended_at", "human_tasks", ["ended_at"])
    op.create_index("ix_certificates_issued_on", "certificates", ["issued_on"])
    op.create_index("ix_certificates_expires_on", "certificates", ["expires_on"])


def downgrade() -> None:
    op.drop_index("ix_certificates_expires_on", "certificates")
    op.drop_index("ix_certificates_issued_on", "certificates")
    op.drop_index("ix_human_tasks_ended_at", "human_tasks")
    op.drop_table("stats_state")
    op.drop_index("ix_stats_task_daily_bundle", "stats_task_daily")
    op.drop_table("stats_task_daily")
    op.drop_table("stats_daily")
    for name in ("result", "rated", "ended", "accepted", "received"):
        op.drop_index(f"ix_case_facts_{name}", "case_facts")
    op.drop_table("case_facts")
