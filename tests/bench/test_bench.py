"""The benchmark suite (bench/, issue 6) at tiny sizes, so it cannot rot: every part runs and
produces its figures, the last line is one JSON object with the keys issue 6 lists, and the
databases it made are gone. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench.common import PG_SERVER, percentile, window_median
from bench.suite import REQUIRED, TINY
from engine.persistence.db import normalise_url
from tests.conftest import ROOT

# Figures that must be measured (positive) in every run, whatever the engine's limits.
MEASURED = (
    "bare_cases_per_s",
    "bare_cases_per_s_beside_sqlite",
    "bare_cases_per_s_beside_pg",
    "spiff_cases_per_s",
    "sqlite_cases_per_s",
    "sqlite_ratio",
    "pg_cases_per_s",
    "pg_ratio",
    "sqlite_commit_ms",
    "pg_commit_ms",
    "pg_roundtrip_ms",
    "http_cases_per_s",
    "http_p50_ms",
    "http_p99_ms",
    "worklist_p99_ms",
    "worklist_small_group_p99_ms",
    "replay_ms_per_event_100",
    "step_ratio_400_vs_10",
    "step_ratio_400_vs_10_memory",
    "step_ratio_400_vs_10_spiff",
)
# Figures that may be null while the engine cannot reach them, but then say why.
REACHABLE_OR_EXPLAINED = ("step_ratio_500_vs_10", "replay_ms_per_event")


@pytest.fixture(scope="module")
def tiny_run() -> dict[str, Any]:
    """`python -m bench --sizes tiny`, as a user runs the suite: its output and its pid."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", "--sizes", "tiny"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, stderr[-4000:]
    lines = stdout.strip().splitlines()
    return {"lines": lines, "stderr": stderr, "pid": process.pid}


@pytest.mark.postgres
def test_the_last_line_is_json_with_every_key_of_issue_6(tiny_run: dict[str, Any]) -> None:
    result = json.loads(tiny_run["lines"][-1])
    assert isinstance(result, dict)
    missing = [k for k in REQUIRED if k not in result]
    assert not missing, missing
    errors = {k: v for k, v in result.items() if k.endswith("_error")}
    assert not errors, f"{errors}\n{tiny_run['stderr'][-4000:]}"
    assert result["mode"] == "tiny"


@pytest.mark.postgres
def test_every_figure_is_produced(tiny_run: dict[str, Any]) -> None:
    result = json.loads(tiny_run["lines"][-1])
    for key in MEASURED:
        value = result[key]
        assert isinstance(value, int | float) and value > 0, (key, value)
    for key in REACHABLE_OR_EXPLAINED:
        value = result[key]
        if value is None:
            assert result[f"{key}_unavailable"], key
        else:
            assert isinstance(value, int | float) and value > 0, (key, value)
    # each ratio is against the bare engine measured alternately with that database's cases
    for db in ("sqlite", "pg"):
        expected = result[f"{db}_cases_per_s"] / result[f"bare_cases_per_s_beside_{db}"]
        assert result[f"{db}_ratio"] == pytest.approx(expected, rel=1e-3)
    assert result["worklist_open_tasks"] == TINY.worklist_tasks
    assert result["http_p50_ms"] <= result["http_p99_ms"]
    assert result["http_errors"] == 0, result.get("http_error_samples")
    assert result["http_requests_per_case"] == 5
    assert result["sqlite_settings"] == {"journal_mode": "wal", "synchronous": "2"}
    assert result["pg_settings"]["synchronous_commit"] == "on"
    # at tiny sizes the loop stays far below the depth limit: both are reached
    assert result["step_ratio_500_vs_10"] is not None
    # the ratio of the two windows measured alternately, step by step
    expected = result["step_ms_after_500"] / result["step_ms_after_10"]
    assert result["step_ratio_500_vs_10"] == pytest.approx(expected, rel=1e-3)
    assert result["replay_ms_per_event"] is not None
    assert result["replay_ms_per_event_1000_with_claims"] > 0


@pytest.mark.postgres
def test_the_table_shows_each_target(tiny_run: dict[str, Any]) -> None:
    table = "\n".join(tiny_run["lines"][:-1])
    assert "figure" in table and "target" in table and "verdict" in table
    for key in ("sqlite_ratio", "pg_ratio", "http_p99_ms", "worklist_p99_ms"):
        row = next(line for line in table.splitlines() if line.startswith(key + " "))
        assert "met" in row.lower(), row
    assert "Slowest worklist query" in table


@pytest.mark.postgres
def test_the_run_drops_its_databases(tiny_run: dict[str, Any]) -> None:
    admin = create_engine(normalise_url(PG_SERVER))
    try:
        with admin.connect() as conn:
            left = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"lianban_bench_{tiny_run['pid']}\\_%"},
            ).all()
    finally:
        admin.dispose()
    assert left == []


def test_percentile_is_an_observed_value() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0


def test_window_median_needs_every_step_of_its_window() -> None:
    steps = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert window_median(steps, 0, 2) == 1.5
    assert window_median(steps, 3, 2) == 4.5
    assert window_median(steps, 4, 2) is None
