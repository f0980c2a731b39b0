"""The whole REST API fuzzed from docs/openapi.yaml (tests/fixtures/api_fuzz.py), on SQLite and
PostgreSQL: zero 5xx, and every response as the spec describes it (status, content type,
headers, body). Derandomized by default: every run sends the same requests. `make fuzz` runs it
at length with a new seed: `--fuzz-examples 500 --fuzz-seed random` (the seed is printed, so a
run can be repeated with `--fuzz-seed N`)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from engine.services import Services
from tests.fixtures.api_fuzz import build_world, fuzz


def _seed(given: str | None) -> int | None:
    if given is None:
        return None
    if given == "random":
        return random.SystemRandom().randrange(2**32)
    return int(given)


def test_the_api_answers_every_generated_request_as_its_spec_says(
    services: Services, users: dict[str, Any], app: Any, request: pytest.FixtureRequest
) -> None:
    examples: int = request.config.getoption("--fuzz-examples")
    seed = _seed(request.config.getoption("--fuzz-seed"))
    world = build_world(services, users, app)
    report = fuzz(world, examples, random_seed=seed)
    summary = f"seed: {seed if seed is not None else 'derandomized'}\n{report.summary()}"
    print(summary)  # shown by `make fuzz` (-s), and with any failure
    assert report.examples >= examples // 2 * len(report.per_operation), summary
    assert not report.findings, summary
    assert not [s for s in report.statuses if s >= 500], summary
