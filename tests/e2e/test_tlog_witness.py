"""Witnesses over real HTTP (issue 20): a log pushes each new checkpoint to another lianban
instance serving as its witness, which co-signs a tree that extends what it saw and refuses a
fork."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.domain import merkle, signed_note
from engine.persistence.db import make_engine
from engine.services import Services, accounts, cases, tlog
from tests.conftest import PROCESSES
from tests.e2e.server import Server, run_cli
from tests.fixtures.restaurant import ACCEPT, APPLICATION

ORIGIN = "lianban/log-centre"


def test_the_log_pushes_checkpoints_to_a_witness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_signer, log_verifier = signed_note.generate_key(ORIGIN)
    witness_signer, witness_verifier = signed_note.generate_key("witness.example")
    (tmp_path / "log.key").write_text(log_signer)
    (tmp_path / "witness.key").write_text(witness_signer)

    witness_url = f"sqlite:///{tmp_path / 'witness.db'}"
    run_cli("init-db", db_url=witness_url, check=True)
    witness_engine = make_engine(witness_url)
    _, token = accounts.create_user(Services(witness_engine), "log-centre", "clerk", [])
    witness_engine.dispose()
    monkeypatch.setenv("LIANBAN_WITNESS_KEY", str(tmp_path / "witness.key"))
    monkeypatch.setenv("LIANBAN_WITNESS_LOGS", log_verifier)
    monkeypatch.setenv("LIANBAN_WITNESS_DIR", str(tmp_path / "witness-state"))

    log_url = f"sqlite:///{tmp_path / 'log.db'}"
    run_cli("init-db", db_url=log_url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=log_url, check=True)
    engine = make_engine(log_url)
    svc = Services(engine, PROCESSES.parent / "forms")
    clerk, _ = accounts.create_user(svc, "c", "clerk", ["front_desk"])

    def new_case() -> None:
        case = cases.start_case(svc, clerk, "restaurant", APPLICATION)
        cases.complete(svc, clerk, case["tasks"][0]["id"], ACCEPT)

    with Server(witness_url, workers=1) as witness:
        monkeypatch.setenv("LIANBAN_LOG_KEY", str(tmp_path / "log.key"))
        monkeypatch.setenv("LIANBAN_LOG_ORIGIN", ORIGIN)
        published = tmp_path / "published"
        monkeypatch.setenv("LIANBAN_LOG_DIR", str(published))
        monkeypatch.setenv("LIANBAN_LOG_WITNESSES", f"{witness.base} {token}")
        verifiers = [
            signed_note.Verifier.from_text(log_verifier),
            signed_note.Verifier.from_text(witness_verifier),
        ]
        for _ in range(3):  # three checkpoints, each extending the one before
            new_case()
            tlog.sequence(svc)
            made = tlog.sign(svc)
            assert made is not None
            kept = list((published / "witnessed").iterdir())
            assert len(kept) == 1
            body, names = signed_note.open_note(kept[0].read_text(), verifiers)
            assert names == [ORIGIN, "witness.example"]
            assert signed_note.parse_checkpoint(body).size == made.size

        # a fork signed with the log's own key (same size, another root): the witness refuses it
        forged = signed_note.sign(
            signed_note.checkpoint_body(ORIGIN, made.size, merkle.leaf_hash(b"fork")),
            signed_note.Signer.from_text(log_signer),
        )
        answers = tlog.push_to_witnesses(
            svc, published, (f"{witness.base} {token}",), forged, made.size
        )
        assert answers[witness.base].startswith("409"), answers
        # a witness that does not answer does not stop signing
        monkeypatch.setenv("LIANBAN_LOG_WITNESSES", "http://127.0.0.1:9 x")
        new_case()
        tlog.sequence(svc)
        assert tlog.sign(svc) is not None
    engine.dispose()
