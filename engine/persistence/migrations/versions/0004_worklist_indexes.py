"""Indexes for the clerks' worklist pages (filters and keyset paging over many open tasks).

A worklist page is the union of one branch per group of the clerk and one for the tasks
assigned to the clerk, each read in (created_at, id) order straight from an index and cut at
the page size. For the group branches the task's creation time is copied into
human_task_groups (set when the task is added, never changed), indexed
(group_name, open, created_at, task_id); the assignee branch uses human_tasks
(assignee, status, created_at, id).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task_groups") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE human_task_groups SET created_at = (SELECT human_tasks.created_at FROM human_tasks"
        " WHERE human_tasks.id = human_task_groups.task_id)"
    )
    with op.batch_alter_table("human_task_groups") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index("ix_human_task_groups_worklist")
        batch.create_index(
            "ix_human_task_groups_queue", ["group_name", "open", "created_at", "task_id"]
        )
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_index("ix_human_tasks_assignee")
        batch.create_index(
            "ix_human_tasks_assignee_queue", ["assignee", "status", "created_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_index("ix_human_tasks_assignee_queue")
        batch.create_index("ix_human_tasks_assignee", ["assignee", "status"])
    with op.batch_alter_table("human_task_groups") as batch:
        batch.drop_index("ix_human_task_groups_queue")
        batch.create_index("ix_human_task_groups_worklist", ["group_name", "open", "task_id"])
        batch.drop_column("created_at")
