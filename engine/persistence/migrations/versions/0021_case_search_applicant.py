"""The case search at a province's scale (issue 21): the applicant's id number and name are
read from the case data, so at a million cases a search by applicant read every row (0.7 s).
On PostgreSQL: a btree index on the id number (exact match) and a trigram index (pg_trgm, GIN)
on the name (a part of it, LIKE '%...%'; three characters or more use the index, a two-character
name falls back to reading cases newest first). Both cover the default field names of bundle.json
`applicant` (`applicant_name`, `applicant_id_number`); a bundle that names other fields is
searched as before. SQLite: nothing (a centre's SQLite holds far fewer cases).

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # a trusted extension: the owner may
    op.execute("CREATE INDEX ix_cases_applicant_id ON cases ((data ->> 'applicant_id_number'))")
    op.execute(
        "CREATE INDEX ix_cases_applicant_name ON cases "
        "USING gin ((data ->> 'applicant_name') gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_cases_applicant_name")
    op.execute("DROP INDEX ix_cases_applicant_id")
