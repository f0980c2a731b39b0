"""A bundle's recorded test runs (engine/services/test_runs.py): the steps a designer replays on
each draft as its regression tests, with the path and end event they gave when saved.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bundle_test_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("bundle_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("steps", Json, nullable=False),
        sa.Column("expected", Json, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_bundle_test_runs_bundle_key", "bundle_test_runs", ["bundle_key"])


def downgrade() -> None:
    op.drop_index("ix_bundle_test_runs_bundle_key", table_name="bundle_test_runs")
    op.drop_table("bundle_test_runs")
