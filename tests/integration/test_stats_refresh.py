"""The dashboard's facts and day rollups agree with the cases: a known mix (stats_mix.py) on a fake
clock, every figure checked exactly; a later rating moves only its day; `rebuild(check=True)`
finds tampering and `rebuild()` mends it; `lianban stats` as an operator runs it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select, update

from engine.domain.case_facts import CaseFacts
from engine.persistence.tables import case_facts, stats_daily, stats_task_daily
from engine.services import Services, follow_ups, stats_refresh
from tests.e2e.server import run_cli
from tests.fixtures.clock import FakeClock
from tests.integration.stats_mix import build_mix, local, nov

SKIPPED = ("case_id", "bundle_key", "last_seq")


def stored_facts(svc: Services) -> dict[int, dict[str, Any]]:
    with svc.engine.connect() as conn:
        rows = conn.execute(select(case_facts)).all()
    out = {}
    for r in rows:
        facts = CaseFacts.from_row(r._mapping)
        out[facts.case_id] = {
            k: getattr(facts, k) for k in CaseFacts.__dataclass_fields__ if k not in SKIPPED
        }
    return out


def stored_daily(svc: Services) -> dict[tuple[date, str], dict[str, Any]]:
    with svc.engine.connect() as conn:
        rows = conn.execute(select(stats_daily)).all()
    return {(r.day, r.bundle_key): dict(r.figures) for r in rows}


def stored_tasks(svc: Services) -> list[tuple[Any, ...]]:
    with svc.engine.connect() as conn:
        rows = conn.execute(select(stats_task_daily)).all()
    return sorted(tuple(r) for r in rows)


def mixed(services: Services, users: dict[str, Any]) -> tuple[dict[str, Any], FakeClock]:
    clock = FakeClock(local(2, 9))
    mix = build_mix(services, users, clock)
    clock.now = local(30, 12)
    return mix, clock


def test_every_figure_of_the_mix_after_a_refresh(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    mix, _clock = mixed(services, users)
    done = stats_refresh.refresh(services)
    assert done["cases"] == len(mix["ids"]) == 11
    facts = stored_facts(services)
    for role, case_id in mix["ids"].items():
        assert facts[case_id] == mix["facts"][role], role
    assert stored_daily(services) == {
        (day, "restaurant"): figures for day, figures in mix["daily"].items()
    }
    # the task rollups: one row per day, task, group and clerk; the 整改 of 11-23 was late
    tasks = stored_tasks(services)
    rectified = [t for t in tasks if t[2] == "rectification"]
    assert [(t[0], t[4], t[6], t[7], t[8]) for t in rectified] == [
        (nov(16), "chief", 1, 1, 0),
        (nov(23), "chief", 1, 0, 1),
    ]
    intake = {t[0]: t[6] for t in tasks if t[2] == "intake"}
    # 一窗受理 completions: 11-02 x3, 11-03 x4 (two 补正 notices, 不予受理, 受理), 11-04 x3,
    # 11-05 x3 (the second 补正 notice, 告知承诺, online), 11-09 x1
    assert intake == {nov(2): 3, nov(3): 4, nov(4): 3, nov(5): 3, nov(9): 1}
    # nothing changed since: the next refresh looks at no case
    assert stats_refresh.refresh(services)["cases"] == 0
    assert stats_refresh.rebuild(services, check=True)["consistent"] is True


def test_a_later_rating_moves_only_its_day(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    mix, clock = mixed(services, users)
    stats_refresh.refresh(services)
    before = stored_daily(services)
    facts_before = stored_facts(services)
    clock.now = local(24, 15)  # Tue 11-24: the 容缺 case that supplied its materials, rated 3
    svc = Services(services.engine, clock=clock)
    case_id = mix["ids"]["gaps_supplied"]
    follow_ups.rate(svc, case_id, 3, "一般", user=None, code_checked=True)
    assert stored_daily(services) == before  # not yet: the worker's next round
    done = stats_refresh.refresh(svc)
    assert done["cases"] == 1
    after = stored_daily(services)
    added = after.pop((nov(24), "restaurant"))
    assert after == before
    assert (added["rated"], added["ratings"], added["bad"], added["received"]) == (
        1,
        {"3": 1},
        0,
        0,
    )
    facts = stored_facts(services)
    assert facts.pop(case_id) == {**facts_before.pop(case_id), "rating": 3, "rated_on": nov(24)}
    assert facts == facts_before


def test_check_reports_tampering_and_rebuild_mends_it(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    mix, _clock = mixed(services, users)
    stats_refresh.refresh(services)
    good_daily, good_facts = stored_daily(services), stored_facts(services)
    refused = mix["ids"]["refused"]
    tampered = {**good_daily[(nov(4), "restaurant")], "received": 99}
    with services.engine.begin() as conn:
        conn.execute(
            update(stats_daily)
            .where(stats_daily.c.day == nov(4), stats_daily.c.bundle_key == "restaurant")
            .values(figures=tampered)
        )
        conn.execute(delete(case_facts).where(case_facts.c.case_id == refused))
        conn.execute(delete(stats_task_daily).where(stats_task_daily.c.day == nov(16)))
    checked = stats_refresh.rebuild(services, check=True)
    assert checked["consistent"] is False
    assert checked["differences"] == {
        "facts": [{"case_id": refused, "fields": ["missing"]}],
        "daily": [{"day": "2026-11-04", "bundle_key": "restaurant", "fields": ["received"]}],
        "tasks": [
            {
                "day": "2026-11-16",
                "bundle_key": "restaurant",
                "element": "rectification",
                "group_name": "supervisors",
                "clerk": "chief",
                "fields": ["missing"],
            }
        ],
        # the November rows, still right, are no longer the sums of the tampered days
        "months": [
            {"month": "2026-11-01", "bundle_key": "restaurant", "fields": ["received", "tasks"]}
        ],
    }
    assert stored_daily(services)[(nov(4), "restaurant")]["received"] == 99  # nothing written
    mended = stats_refresh.rebuild(services)
    # the days mended first rewrite their month: no month is left to mend after them
    assert mended["differences"] == {**checked["differences"], "months": []}
    assert stored_daily(services) == good_daily and stored_facts(services) == good_facts
    assert stats_refresh.rebuild(services, check=True)["consistent"] is True


def test_the_stats_commands(
    services: Services, users: dict[str, Any], restaurant: Any, db_url: str
) -> None:
    mixed(services, users)
    refreshed = run_cli("stats", "refresh", db_url=db_url)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "已刷新 11 件办件的统计" in refreshed.stdout
    fine = run_cli("stats", "rebuild", "--check", db_url=db_url)
    assert fine.returncode == 0 and fine.stdout.startswith("一致"), fine.stdout + fine.stderr
    with services.engine.begin() as conn:
        conn.execute(
            update(stats_daily).where(stats_daily.c.day == nov(2)).values(figures={"received": 1})
        )
    wrong = run_cli("stats", "rebuild", "--check", db_url=db_url)
    assert wrong.returncode == 1
    assert "2026-11-02 restaurant 的日汇总不一致: accepted" in wrong.stdout
    assert "2026-11 restaurant 的月汇总与日汇总不一致: accepted" in wrong.stdout
    assert "received" in wrong.stdout and "共 2 处不一致" in wrong.stdout
    mended = run_cli("stats", "rebuild", db_url=db_url)
    assert mended.returncode == 0 and "修正 1 处" in mended.stdout, mended.stdout
    assert run_cli("stats", "rebuild", "--check", db_url=db_url).returncode == 0
