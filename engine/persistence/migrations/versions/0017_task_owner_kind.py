"""加签 (issue 18 · 5): while a task is with an added signer, `owner_kind` says which kind
("sign_before" / "sign_after"); NULL for a task with an `owner` means 委派, so older rows stay
right.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("owner_kind", sa.String(20)))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can), as 0015 does: a batch rebuild would drop the table,
    # and with foreign keys on, its ON DELETE CASCADE would empty `human_task_groups`.
    op.drop_column("human_tasks", "owner_kind")
