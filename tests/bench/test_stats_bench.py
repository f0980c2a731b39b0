"""bench/stats.py (issue 21) at a small N, so the loader cannot rot: the clones are what the
brief says (N cases over 365 days, 7 bundle keys, ~5 % open, 20 groups of clerks), the facts and
rollups it writes in bulk are exactly what `stats_refresh.rebuild` derives from the cloned
record, the measures produce their figures, and the database is reused by the next run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from bench import stats
from engine.services import Services, stats_refresh

N = 300
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[str, dict[str, Any]]]:
    db = f"lianban_bench_{os.getpid()}_stats_test"
    try:
        found = stats.run(N, reload=True, rounds=1, db=db)
        yield db, found
    finally:
        stats._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        stats._admin(f'DROP DATABASE IF EXISTS "{db}_tpl" WITH (FORCE)')


def _one(db: str, sql: str) -> object:
    with psycopg.connect(stats._url(db)) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_the_clones_spread_over_a_year_bundles_and_clerks(
    loaded: tuple[str, dict[str, Any]],
) -> None:
    db, found = loaded
    info = found["stats_load"]
    assert info["rows"]["cases"] == N == _one(db, "SELECT count(*) FROM cases")
    assert info["rows"]["case_facts"] == N
    assert info["open"] == round(N * stats.OPEN_SHARE)
    assert _one(db, "SELECT count(*) FROM cases WHERE status = 'running'") == info["open"]
    assert _one(db, "SELECT count(DISTINCT bundle_key) FROM case_facts") == stats.BUNDLE_KEYS
    groups = _one(db, "SELECT count(DISTINCT group_name) FROM human_task_groups")
    assert groups == 5 * stats.GROUP_VARIANTS + 1  # and supervisors, who do 整改 and 回访
    assert _one(db, "SELECT count(*) FROM users WHERE name LIKE 'clerk\\_%'") == 200
    first = _one(db, "SELECT min(created_at) FROM cases")
    last = _one(db, "SELECT max(coalesce(ended_at, created_at)) FROM cases")
    assert isinstance(first, datetime) and isinstance(last, datetime)
    now = datetime.now(UTC)
    assert now - timedelta(days=366) <= first and last <= now
    # ids grow with the day received, as they do
    assert (
        _one(
            db,
            "SELECT count(*) FROM cases a JOIN cases b ON b.id = a.id + 1 "
            "WHERE b.created_at < a.created_at - interval '7 days'",
        )
        == 0
    )
    # every path of the templates is there
    results = _one(db, "SELECT string_agg(DISTINCT result, ',' ORDER BY result) FROM case_facts")
    assert results == "finished,open,refused,withdrawn"
    assert _one(db, "SELECT count(DISTINCT timeliness) FROM case_facts") == 3
    assert _one(db, "SELECT count(DISTINCT rectification) FROM case_facts") == 2


def test_the_bulk_facts_are_what_rebuild_derives(loaded: tuple[str, dict[str, Any]]) -> None:
    db, _found = loaded
    svc = Services(stats._engine(stats._url(db)), None)
    try:
        checked = stats_refresh.rebuild(svc, check=True)
    finally:
        svc.engine.dispose()
    assert checked["differences"] == {"facts": [], "daily": [], "tasks": [], "months": []}
    assert checked["consistent"] is True


def test_every_measure_is_produced_and_the_database_is_reused(
    loaded: tuple[str, dict[str, Any]],
) -> None:
    db, found = loaded
    for key in ("stats_p95_ms", "search_p99_ms", "bytes_per_case"):
        assert isinstance(found[key], float) and found[key] > 0, (key, found.get(f"{key}_error"))
    tables = found["bytes_detail"]["tables"]
    assert tables["case_events"]["rows"] > N and tables["case_events"]["indexes"] > 0
    assert "figures year all admin" in found["stats_detail"]["by_call"]
    assert "clerk id number" in found["search_detail"]["by_call"]
    again = stats.run(N, rounds=1, measure_too=False, db=db)["stats_load"]
    assert again["reused"] is True and again["loaded_at"] == found["stats_load"]["loaded_at"]
    assert stats.loaded(N + 1, db) is None  # another N loads again
