"""The receipt code (查询码): with the case number it lets the applicant follow and rate a case
without an account.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I), 60 random bits,
printed in groups of four (`7KQM-X4TD-9HWN`) and accepted with or without the dashes or spaces,
in either case. Only a keyed hash is stored: HMAC-SHA256 under a key derived from the server
secret, which lives outside the database, so a copy of the database alone cannot test codes.

Stored forms (`cases.access_hash`):

- `hmac:<mac>`: mac = HMAC(key, "<case id>:<code>"), for codes issued since migration 0007;
- `hmac(sha256):<mac>`: mac = HMAC(key, SHA-256("<case id>:<code>") in hex), an 8-digit code
  of an older case whose plain hash migration 0007 wrapped; those codes keep working as printed.

`<mac>` is the 32 bytes in unpadded base64url (43 characters), so both fit the column's 64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 12
GROUP = 4
KEYED = "hmac:"
WRAPPED = "hmac(sha256):"
# Codes printed before migration 0007: eight digits.
LEGACY_LENGTH = 8
# What may separate the groups when a code is typed back (ASCII and full-width forms fold first).
_SEPARATORS = str.maketrans("", "", " -_.\u00b7\u2010\u2011\u2012\u2013\u2014\u2212\u3000\t")
_KEY_LABEL = b"lianban receipt code"


def new_code() -> str:
    """A fresh code, shown in groups: `XXXX-XXXX-XXXX`."""
    return grouped("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def grouped(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(code: str) -> str:
    """The code as stored and compared: full-width forms folded, separators dropped, upper case."""
    return unicodedata.normalize("NFKC", code).translate(_SEPARATORS).upper()


def well_formed(code: str) -> bool:
    """Whether a normalised code has the shape of a code (a new one, or an older 8-digit one)."""
    if len(code) == LENGTH:
        return all(c in ALPHABET for c in code)
    return len(code) == LEGACY_LENGTH and code.isascii() and code.isdigit()


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(_key(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def keyed_hash(secret: str, case_id: int, code: str) -> str:
    """What is stored for a new code."""
    return KEYED + _mac(secret, f"{case_id}:{normalise(code)}")


def wrap_legacy(secret: str, plain_hash: str) -> str:
    """An older code's SHA-256 hash, wrapped as migration 0007 stores it."""
    return WRAPPED + _mac(secret, plain_hash)


def matches(stored: str | None, secret: str, case_id: int, code: str) -> bool:
    """Whether `code` is the code of the case whose stored hash is `stored` (constant time)."""
    if not stored:
        return False
    given = normalise(code)
    if stored.startswith(KEYED):
        expected = keyed_hash(secret, case_id, given)
    elif stored.startswith(WRAPPED):
        plain = hashlib.sha256(f"{case_id}:{given}".encode()).hexdigest()
        expected = wrap_legacy(secret, plain)
    else:  # an unkeyed hash is never accepted
        return False
    return hmac.compare_digest(stored.encode(), expected.encode())
