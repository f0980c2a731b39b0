"""The files a version's 办事指南 offers for download (bundle.json's materials[].sample and
materials[].blank_form: PDF, PNG, JPEG, DOCX, XLSX), stored as uploaded, apart from the text
files of `bundle_versions.files`.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_attachments",
        sa.Column(
            "bundle_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("bundle_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("path", sa.String(300), primary_key=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bundle_attachments")
