"""Candidate users (issue 22): users besides the groups' members who may claim and complete a
task (`camunda:candidateUsers`, `flowable:`/`activiti:candidateUsers`, potentialOwner's
`user(x)`). `human_tasks.candidate_users` holds them with the task (NULL: none, as for every
older row); `human_task_users` holds the same, indexed as `human_task_groups` is, for a
candidate's worklist branch.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("candidate_users", Json))
    op.create_table(
        "human_task_users",
        sa.Column(
            "task_id",
            sa.String(36),
            sa.ForeignKey("human_tasks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_name", sa.String(100), primary_key=True),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_human_task_users_queue",
        "human_task_users",
        ["user_name", "open", "created_at", "task_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_human_task_users_queue", table_name="human_task_users")
    op.drop_table("human_task_users")
    # dropped in place, as 0015 and 0017 do (a batch rebuild would cascade to the group rows)
    op.drop_column("human_tasks", "candidate_users")
