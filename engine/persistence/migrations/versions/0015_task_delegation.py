"""委派 (issue 18 · 3): while a task is delegated for an opinion, `owner` is the clerk who
delegated it (the task's assignee is the delegate); NULL otherwise.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("owner", sa.String(100)))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can), as 0013 does: a batch rebuild would drop the table,
    # and with foreign keys on, its ON DELETE CASCADE would empty `human_task_groups`.
    op.drop_column("human_tasks", "owner")
