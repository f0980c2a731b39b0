"""Indexes for the auditors' case search (engine/persistence/search_repository.py): by bundle
(its versions' cases, newest first) and by the day a case was received. The status and the
deadline already have theirs (ix_cases_status, ix_cases_deadline); the applicant is looked for in
the case data and has none (see docs/web/auditor.md).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_version", "cases", ["bundle_version_id", "id"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_index("ix_cases_version", table_name="cases")
