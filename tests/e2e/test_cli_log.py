"""`lianban log keygen | checkpoint | public-key` (issue 20): a signer key file only its owner
can read, a checkpoint signed and published on demand, and the verifier key to hand out."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engine.domain import merkle, signed_note
from engine.services import Services, accounts, cases, tlog
from tests.conftest import PROCESSES
from tests.e2e.server import run_cli
from tests.fixtures.restaurant import ACCEPT, APPLICATION


def test_keygen_checkpoint_and_public_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.persistence.db import make_engine

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    engine = make_engine(url)
    svc = Services(engine, PROCESSES.parent / "forms")
    clerk, _ = accounts.create_user(svc, "c", "clerk", ["front_desk"])
    case = cases.start_case(svc, clerk, "restaurant", APPLICATION)
    cases.complete(svc, clerk, case["tasks"][0]["id"], ACCEPT)

    monkeypatch.delenv("LIANBAN_LOG_KEY", raising=False)
    unsigned = run_cli("log", "checkpoint", db_url=url)
    assert unsigned.returncode == 1 and "LIANBAN_LOG_KEY" in unsigned.stderr
    assert "Traceback" not in unsigned.stderr

    key = tmp_path / "keys" / "log.key"
    key.parent.mkdir()
    made = run_cli("log", "keygen", "--name", "lianban/test", "--out", str(key), db_url=url)
    assert made.returncode == 0, made.stderr
    verifier = made.stdout.strip()
    assert verifier.startswith("lianban/test+") and "PRIVATE" not in made.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("PRIVATE+KEY+lianban/test+")
    again = run_cli("log", "keygen", "--name", "lianban/test", "--out", str(key), db_url=url)
    assert again.returncode != 0 and "已存在" in again.stderr

    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", "lianban/test")
    monkeypatch.setenv("LIANBAN_LOG_DIR", str(tmp_path / "published"))
    shown = run_cli("log", "public-key", db_url=url)
    assert shown.returncode == 0 and shown.stdout.strip() == verifier

    signed = run_cli("log", "checkpoint", db_url=url)
    assert signed.returncode == 0, signed.stderr
    body, names = signed_note.open_note(signed.stdout, [signed_note.Verifier.from_text(verifier)])
    assert names == ["lianban/test"]
    checkpoint = signed_note.parse_checkpoint(body)
    assert tlog.leaf_of(svc, case["id"], 1) is not None  # the command sequenced the events
    assert checkpoint.size > 0 and len(checkpoint.root) == merkle.HASH_SIZE
    assert (tmp_path / "published" / "checkpoint").read_text() == signed.stdout
    engine.dispose()
