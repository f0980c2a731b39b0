"""Hour limits (`time_limit: 4h`, working hours): `human_tasks.due_at`, the moment a task with an
hour limit is due (NULL for every other task, and for every older row). `deadline` stays the
local date of that moment, so every date-based page and statistic reads it as before. Not
indexed: it is read with the task, never searched.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("due_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # dropped in place, as 0015, 0017 and 0023 do (a batch rebuild would cascade to group rows)
    op.drop_column("human_tasks", "due_at")
