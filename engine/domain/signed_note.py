"""Signed notes and transparency-log checkpoints (C2SP signed-note and tlog-checkpoint), Ed25519.

A note is UTF-8 text of whole lines (it ends with "\\n"), a blank line, then one line per
signature: "— <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\\n", the
signature being over the text (with its final newline). Key id = the first 4 bytes of
SHA-256(key name || "\\n" || 0x01 || 32-byte public key).

Key texts (as Go's golang.org/x/mod/sumdb/note writes them):
- verifier: "<name>+<hex key id>+<base64(0x01 || public key)>", safe to publish;
- signer: "PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>", secret.

A checkpoint body is "<origin>\\n<decimal size>\\n<base64 root hash>\\n" and optional extension
lines after it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # EM DASH, space
MAX_NOTE_BYTES = 1_000_000
MAX_SIGNATURES = 100
_ROOT_SIZE = 32


class NoteError(ValueError):
    """A malformed note, key or checkpoint, or a note no known key signed."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"bad base64: {text[:40]!r}") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_parts(text: str, what: str) -> tuple[str, bytes, bytes]:
    """name, key id, raw 32-byte key from "<name>+<hex id>+<base64(0x01 || key)>"."""
    parts = text.strip().split("+", 2)  # base64 may contain "+"
    if len(parts) != 3:
        raise NoteError(f"malformed {what} key")
    name, hex_id, b64 = parts
    if not _valid_name(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"malformed {what} key")
    raw = _b64decode(b64)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"{what} key is not an Ed25519 key")
    return name, bytes.fromhex(hex_id), raw[1:]


class Verifier:
    """A public key that checks signatures of one name."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _valid_name(name):
            raise NoteError(f"bad key name {name!r}")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        name, kid, public_key = _key_parts(text, "verifier")
        verifier = cls(name, public_key)
        if verifier.key_id != kid:
            raise NoteError("verifier key id does not match the key")
        return verifier

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A private key that signs notes under one name."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not _valid_name(name):
            raise NoteError(f"bad key name {name!r}")
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self.name = name
        self._seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(name, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> Signer:
        prefix = "PRIVATE+KEY+"
        if not text.strip().startswith(prefix):
            raise NoteError("malformed signer key")
        name, kid, seed = _key_parts(text.strip()[len(prefix) :], "signer")
        signer = cls(name, seed)
        if signer.key_id != kid:
            raise NoteError("signer key id does not match the key")
        return signer

    @property
    def text(self) -> str:
        return (
            f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self._seed)}"
        )

    @property
    def verifier_text(self) -> str:
        return self.verifier().text

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:  # never show the seed
        return f"Signer({self.name!r}, key id {self.key_id.hex()})"


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key: (signer key text, verifier key text)."""
    if not _valid_name(name):
        raise NoteError(f"bad key name {name!r}: no spaces, no '+'")
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = Signer(name, seed)
    return signer.text, signer.verifier_text


def _check_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise NoteError("note text is not valid UTF-8") from exc
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("note text has control characters")


@dataclass(frozen=True)
class _Signature:
    name: str
    key_id: bytes
    signature: bytes
    line: str


def _split(note: str) -> tuple[str, list[_Signature]]:
    """The text and the signature lines of a note, without verifying anything."""
    _check_text(note)
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note is larger than 1 MB")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("note has no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("note has no signature lines")
    signatures: list[_Signature] = []
    for line in block[:-1].split("\n"):
        if len(signatures) >= MAX_SIGNATURES:
            raise NoteError("note has more than 100 signatures")
        if not line.startswith(SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not _valid_name(name) or not b64:
            raise NoteError("malformed signature line")
        raw = _b64decode(b64)
        if len(raw) < 5:
            raise NoteError("malformed signature line")
        signatures.append(_Signature(name, raw[:4], raw[4:], line))
    return text, signatures


def _signature_line(text: str, signer: Signer) -> str:
    signature = signer.sign(text.encode())
    return f"{SIG_PREFIX}{signer.name} {_b64(signer.key_id + signature)}\n"


def sign(body: str, signer: Signer) -> str:
    """The signed note: body, a blank line, the signer's signature line."""
    _check_text(body)
    return body + "\n" + _signature_line(body, signer)


def cosign(note: str, signer: Signer) -> str:
    """The note with one more signature line (unchanged if this key already signed it)."""
    text, signatures = _split(note)
    if any(s.name == signer.name and s.key_id == signer.key_id for s in signatures):
        return note
    if len(signatures) >= MAX_SIGNATURES:
        raise NoteError("note has more than 100 signatures")
    return note + _signature_line(text, signer)


def open_note(note: str, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """The note's text and the names of the known keys whose signatures verify.

    Signatures by unknown keys (name and key id) are ignored; a known key's bad signature,
    a malformed note, or no verified signature at all raise NoteError.
    """
    text, signatures = _split(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = text.encode()
    names: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for s in signatures:
        verifier = known.get((s.name, s.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, s.signature):
            raise NoteError(f"signature of {s.name} does not verify")
        if (s.name, s.key_id) not in seen:
            seen.add((s.name, s.key_id))
            names.append(s.name)
    if not names:
        raise NoteError("no known key signed the note")
    return text, names


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log `origin` commits to its first `size` leaves by `root`."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The checkpoint note text: origin, decimal size, base64 root, then extension lines."""
    if not origin or "\n" in origin or any(ord(ch) < 0x20 for ch in origin):
        raise NoteError("bad checkpoint origin")
    if size < 0:
        raise NoteError("bad checkpoint size")
    if len(root) != _ROOT_SIZE:
        raise NoteError("a checkpoint root hash is 32 bytes")
    for line in extensions:
        if not line or "\n" in line or any(ord(ch) < 0x20 for ch in line):
            raise NoteError("bad checkpoint extension line")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(root), *extensions))


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint in a note text (as `open_note` returns it)."""
    _check_text(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("checkpoint origin is empty")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise NoteError("checkpoint size is not a decimal number")
    root = _b64decode(root_text)
    if len(root) != _ROOT_SIZE:
        raise NoteError("checkpoint root hash is not 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("checkpoint has an empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))
