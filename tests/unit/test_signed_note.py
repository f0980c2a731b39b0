"""C2SP signed notes and tlog checkpoints with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.domain.signed_note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    checkpoint_body,
    cosign,
    generate_key,
    open_note,
    parse_checkpoint,
    sign,
)

ROOT = hashlib.sha256(b"some tree").digest()

# The example of golang.org/x/mod/sumdb/note (its package documentation and note_test.go).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def keys(name: str) -> tuple[Signer, Verifier]:
    signer_text, verifier_text = generate_key(name)
    return Signer.from_text(signer_text), Verifier.from_text(verifier_text)


def sig_lines(note: str) -> list[str]:
    return note.split("\n\n")[-1].splitlines()


def test_go_reference_vector() -> None:
    signer = Signer.from_text(GO_SIGNER)
    assert signer.name == "PeterNeumann"
    assert signer.verifier_text == GO_VERIFIER
    assert signer.text == GO_SIGNER
    assert sign(GO_TEXT, signer) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_text(GO_VERIFIER)]) == (GO_TEXT, ["PeterNeumann"])


def test_key_texts_and_key_id_derivation() -> None:
    signer_text, verifier_text = generate_key("lianban.example/log")
    assert signer_text.startswith("PRIVATE+KEY+lianban.example/log+")
    name, hex_id, b64 = verifier_text.split("+", 2)
    raw = base64.b64decode(b64)
    assert name == "lianban.example/log" and raw[0] == 1 and len(raw) == 33
    # independently: key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]
    seed = base64.b64decode(signer_text.split("+", 4)[4])[1:]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert raw[1:] == public
    expected = hashlib.sha256(b"lianban.example/log\n\x01" + public).digest()[:4]
    assert hex_id == expected.hex()
    signer = Signer.from_text(signer_text)
    assert signer.key_id == expected and signer.verifier_text == verifier_text
    assert "PRIVATE" not in repr(signer) and b64 not in repr(signer)
    for bad in ["", "a b", "a+b", "a\tb"]:
        with pytest.raises(NoteError):
            generate_key(bad)


def test_round_trip_checkpoint() -> None:
    signer, verifier = keys("lianban.example/log")
    body = checkpoint_body("lianban.example/log", 42, ROOT)
    assert body == f"lianban.example/log\n42\n{base64.b64encode(ROOT).decode()}\n"
    note = sign(body, signer)
    assert note.startswith(body + "\n— lianban.example/log ")
    assert note.endswith("\n")
    text, names = open_note(note, [verifier])
    assert text == body and names == ["lianban.example/log"]
    assert parse_checkpoint(text) == Checkpoint("lianban.example/log", 42, ROOT)
    raw = base64.b64decode(sig_lines(note)[0].split(" ")[2])
    assert raw[:4] == verifier.key_id and len(raw) == 68


def test_cosign_with_two_keys() -> None:
    log, log_v = keys("log")
    witness, witness_v = keys("witness")
    note = cosign(sign(checkpoint_body("log", 3, ROOT), log), witness)
    assert len(sig_lines(note)) == 2
    assert open_note(note, [log_v, witness_v])[1] == ["log", "witness"]
    assert open_note(note, [witness_v])[1] == ["witness"]
    assert open_note(note, [log_v])[1] == ["log"]
    assert cosign(note, witness) == note  # signing twice adds nothing


def test_unknown_keys_are_ignored() -> None:
    log, log_v = keys("log")
    stranger, stranger_v = keys("stranger")
    note = cosign(sign("hello\n", log), stranger)
    assert open_note(note, [log_v]) == ("hello\n", ["log"])
    # a made-up signature line of an unknown key is ignored too
    junk = base64.b64encode(b"\x01\x02\x03\x04" + b"x" * 64).decode()
    assert open_note(note + f"— nobody {junk}\n", [log_v])[1] == ["log"]
    # a key of the same name but another key id is a different, unknown key
    _, other_v = keys("log")
    with pytest.raises(NoteError):
        open_note(sign("hello\n", log), [other_v])
    with pytest.raises(NoteError):
        open_note(note, [])
    with pytest.raises(NoteError):
        open_note(note, [keys("third")[1]])


def test_tampering_is_refused() -> None:
    log, log_v = keys("log")
    body = checkpoint_body("log", 10, ROOT)
    note = sign(body, log)
    # tampered body
    with pytest.raises(NoteError):
        open_note(note.replace("\n10\n", "\n11\n"), [log_v])
    # tampered signature
    line = sig_lines(note)[0]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    bad_sig = body + "\n— log " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_note(bad_sig, [log_v])
    # tampered key id: no longer the known key, so no verified signature
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[0] ^= 1
    bad_id = body + "\n— log " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(NoteError, match="no known key"):
        open_note(bad_id, [log_v])
    # a known key's bad signature fails the note even next to a good one
    witness, witness_v = keys("witness")
    with pytest.raises(NoteError):
        open_note(cosign(bad_sig, witness), [log_v, witness_v])


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no newline",
        "text\n",  # no signature block
        "text\n\n",  # empty signature block
        "text\n\n— log AAAAAAAA\n",  # signature too short
        "text\n\n- log AAAAAAAAAAAA\n",  # hyphen, not an em dash
        "text\n\n— log\n",
        "text\n\n— log !!notbase64!!\n",
        "text\n\n— a+b AAAAAAAAAAAA\n",
        "text\n\n— log AAAAAAAAAAAA",  # no final newline
        "te\x01xt\n\n— log AAAAAAAAAAAA\n",  # control character
    ],
)
def test_malformed_notes(note: str) -> None:
    _, log_v = keys("log")
    with pytest.raises(NoteError):
        open_note(note, [log_v])


def test_limits() -> None:
    log, log_v = keys("log")
    note = sign("a\n", log)
    junk = base64.b64encode(b"\x00" * 68).decode()
    many = note + f"— other {junk}\n" * 99
    assert open_note(many, [log_v])[1] == ["log"]
    with pytest.raises(NoteError, match="100"):
        open_note(many + f"— other {junk}\n", [log_v])
    big = "x" * 999_000 + "\n"
    with pytest.raises(NoteError, match="1 MB"):
        open_note(sign(big, log) + f"— other {junk}\n" * 20, [log_v])


def test_checkpoint_parsing() -> None:
    b64 = base64.b64encode(ROOT).decode()
    cp = parse_checkpoint(f"origin\n7\n{b64}\next one\next two\n")
    assert cp == Checkpoint("origin", 7, ROOT, ("ext one", "ext two"))
    body = checkpoint_body("origin", 7, ROOT, ["ext one", "ext two"])
    assert parse_checkpoint(body) == cp
    assert parse_checkpoint(f"origin\n0\n{b64}\n").size == 0
    for bad in [
        f"origin\n7\n{b64}",  # no final newline
        "origin\n7\n",
        f"\n7\n{b64}\n",
        f"origin\n07\n{b64}\n",
        f"origin\n-7\n{b64}\n",
        f"origin\nseven\n{b64}\n",
        "origin\n7\nAAAA\n",  # not 32 bytes
        "origin\n7\n!!!!\n",
        f"origin\n7\n{b64}\n\n",  # empty extension line
    ]:
        with pytest.raises(NoteError):
            parse_checkpoint(bad)
    with pytest.raises(NoteError):
        checkpoint_body("origin", 1, ROOT[:31])
    with pytest.raises(NoteError):
        checkpoint_body("two\nlines", 1, ROOT)
    with pytest.raises(ValueError):  # NoteError is a ValueError
        checkpoint_body("origin", -1, ROOT)


def test_bad_key_texts() -> None:
    signer_text, verifier_text = generate_key("k")
    name, hex_id, b64 = verifier_text.split("+", 2)
    other_id = f"{int(hex_id, 16) ^ 1:08x}"
    other_alg = base64.b64encode(b"\x02" + base64.b64decode(b64)[1:]).decode()
    for bad in [
        "",
        "k",
        f"k+{hex_id}",
        f"k+{other_id}+{b64}",  # key id does not match
        f"k+{hex_id}+{other_alg}",  # not algorithm 0x01
        f"k+{hex_id}+AAAA",
        f"k+XYZ+{b64}",
    ]:
        with pytest.raises(NoteError):
            Verifier.from_text(bad)
    with pytest.raises(NoteError):
        Signer.from_text(verifier_text)
    with pytest.raises(NoteError):
        Signer.from_text(signer_text.replace(hex_id, other_id))
    assert Verifier.from_text(verifier_text + "\n").text == verifier_text
