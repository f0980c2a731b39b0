"""The whole REST API fuzzed from docs/openapi.yaml (tests/fixtures/api_fuzz.py), on SQLite and
PostgreSQL: zero 5xx, and every response as the spec describes it (status, content type,
headers, body). Derandomized: every run sends the same requests. A longer, seeded run is
`make fuzz` (bench/fuzz.py)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures.api_fuzz import build_world, fuzz

EXAMPLES_PER_OPERATION = 40


def test_the_api_answers_every_generated_request_as_its_spec_says(
    services: Services, users: dict[str, Any], app: Any
) -> None:
    world = build_world(services, users, app)
    report = fuzz(world, EXAMPLES_PER_OPERATION)
    assert report.examples >= 20 * len(report.per_operation)
    assert not report.findings, report.summary()
    assert not [s for s in report.statuses if s >= 500]
