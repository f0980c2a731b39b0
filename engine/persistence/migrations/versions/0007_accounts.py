"""Accounts and public codes: a session version per user (signing out and new passwords end
every earlier session), the throttle counters shared by every server process, and receipt-code
hashes keyed with the server secret.

A receipt code's hash was an unsalted SHA-256 of `<case id>:<code>`. Each such hash is replaced
by `hmac(sha256):` + HMAC-SHA256(key, old hash), the key derived from the server secret
(`LIANBAN_SECRET_KEY` or `var/secret-key`), so no unkeyed hash stays in the database and the
codes already printed on receipts keep working. New codes are stored as `hmac:` + HMAC-SHA256(key,
`<case id>:<code>`) (engine/domain/access_codes.py, whose derivation this repeats on purpose:
a migration does not change when the code does).

Revision ID: 0007
Revises: 0006
"""

import base64
import hashlib
import hmac

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LEGACY_PREFIX = "hmac(sha256):"
KEYED_PREFIXES = ("hmac:", LEGACY_PREFIX)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "throttles",
        sa.Column("scope", sa.String(20), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True)),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_throttles_updated_at", "throttles", ["updated_at"])
    _wrap_legacy_receipt_hashes()


def _wrap_legacy_receipt_hashes() -> None:
    conn = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer()), sa.column("access_hash", sa.String()))
    rows = conn.execute(
        sa.select(cases.c.id, cases.c.access_hash).where(cases.c.access_hash.is_not(None))
    ).all()
    legacy = [(i, h) for i, h in rows if not str(h).startswith(KEYED_PREFIXES)]
    if not legacy:
        return
    key = _access_key(_secret())
    for case_id, old in legacy:
        mac = hmac.new(key, str(old).encode(), hashlib.sha256).digest()
        wrapped = LEGACY_PREFIX + base64.urlsafe_b64encode(mac).decode().rstrip("=")
        conn.execute(sa.update(cases).where(cases.c.id == case_id).values(access_hash=wrapped))


def _secret() -> str:
    given = context.config.attributes.get("secret_key")
    if given:
        return str(given)
    from engine import config

    return config.secret_key()


def _access_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"lianban receipt code", hashlib.sha256).digest()


def downgrade() -> None:
    # The wrapped hashes cannot be unwrapped (that is their point): codes of cases created or
    # upgraded under 0007 stop working after a downgrade.
    op.drop_index("ix_throttles_updated_at", table_name="throttles")
    op.drop_table("throttles")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
