"""One rating a channel: the window's rating (recorded for the applicant at the evaluation pad)
no longer takes away the applicant's own. `ratings` was unique by case; it is now unique by case
and channel (`online`, `window`).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ratings(unique: sa.UniqueConstraint) -> sa.Table:
    """The ratings table as SQLite rebuilds it (its old unique constraint has no name)."""
    return sa.Table(
        "ratings",
        sa.MetaData(),
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("rated_by", sa.String(100), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        unique,
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ratings_case_id_key", "ratings", type_="unique")
        op.create_unique_constraint("uq_ratings_case_channel", "ratings", ["case_id", "channel"])
        return
    new = sa.UniqueConstraint("case_id", "channel", name="uq_ratings_case_channel")
    with op.batch_alter_table("ratings", copy_from=_ratings(new), recreate="always"):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_ratings_case_channel", "ratings", type_="unique")
        op.create_unique_constraint("ratings_case_id_key", "ratings", ["case_id"])
        return
    with op.batch_alter_table(
        "ratings", copy_from=_ratings(sa.UniqueConstraint("case_id")), recreate="always"
    ):
        pass
