"""The whole REST API fuzzed from docs/openapi.yaml (tests/fixtures/api_fuzz.py), on SQLite and
PostgreSQL: zero 5xx, and every response as the spec describes it (status, content type,
headers, body). Derandomized by default: every run sends the same requests. `make fuzz` runs it
at length with a new seed: `--fuzz-examples 500 --fuzz-seed random` (the seed is printed, so a
run can be repeated with `--fuzz-seed N`)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from engine.domain import signed_note
from engine.services import Services
from tests.fixtures.api_fuzz import build_world, fuzz


def _seed(given: str | None) -> int | None:
    if given is None:
        return None
    if given == "random":
        return random.SystemRandom().randrange(2**32)
    return int(given)


def _sign_and_witness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transparency log configured as in production: a signing key, and this instance a
    witness of it (unconfigured, those routes answer 503 by design: tests/integration/test_tlog.py)."""
    log_key, log_verifier = signed_note.generate_key("lianban/fuzz")
    witness_key, _ = signed_note.generate_key("fuzz-witness")
    (tmp_path / "log.key").write_text(log_key + "\n")
    (tmp_path / "witness.key").write_text(witness_key + "\n")
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(tmp_path / "log.key"))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", "lianban/fuzz")
    monkeypatch.setenv("LIANBAN_WITNESS_KEY", str(tmp_path / "witness.key"))
    monkeypatch.setenv("LIANBAN_WITNESS_LOGS", log_verifier)
    monkeypatch.setenv("LIANBAN_WITNESS_DIR", str(tmp_path / "witnessed"))
    monkeypatch.delenv("LIANBAN_LOG_DIR", raising=False)
    monkeypatch.delenv("LIANBAN_LOG_WITNESSES", raising=False)


def test_the_api_answers_every_generated_request_as_its_spec_says(
    services: Services,
    users: dict[str, Any],
    app: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sign_and_witness(tmp_path, monkeypatch)
    examples: int = request.config.getoption("--fuzz-examples")
    seed = _seed(request.config.getoption("--fuzz-seed"))
    world = build_world(services, users, app)
    report = fuzz(world, examples, random_seed=seed)
    summary = f"seed: {seed if seed is not None else 'derandomized'}\n{report.summary()}"
    print(summary)  # shown by `make fuzz` (-s), and with any failure
    assert report.examples >= examples // 2 * len(report.per_operation), summary
    assert not report.findings, summary
    assert not [s for s in report.statuses if s >= 500], summary
