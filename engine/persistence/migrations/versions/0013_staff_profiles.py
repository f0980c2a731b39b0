"""Staff display names and departments, for the documents a clerk signs (补正告知书, 受理通知书,
receipts): "张敏 (综合窗口)" rather than the login name. Both may stay empty: the login name is
printed then.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(100)))
    op.add_column("users", sa.Column("department", sa.String(100)))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can): a batch rebuild would drop `users`, and with foreign
    # keys on, its ON DELETE CASCADE would empty `user_groups`.
    op.drop_column("users", "department")
    op.drop_column("users", "display_name")
