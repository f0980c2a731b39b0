"""The 效能监察 dashboard's figures, drill-down and exports (engine/services/dashboard.py,
dashboard_export.py) from hand-written rollup rows, on both databases.

The world: two bundles, restaurant (督办 group `supervisors`) and cafe (a copy with the 督办 group
`cafe_watch`); seven real cases (r1..r5, c1, c2: open, each with its intake task waiting) whose
case_facts, stats_daily and stats_task_daily rows, completed tasks and certificates are written
here by hand. Every expected number below is counted by hand from those rows (see `FACTS`).
Today is Mon 2026-11-30 10:00 Beijing. November 2026 has no holiday and no 调休: its working days
are Mon–Fri.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import insert, select, update

from engine.bundles.source import from_path
from engine.domain.case_facts import CaseFacts, day_figures
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.stats_repository import StatsRepository
from engine.persistence.tables import (
    case_facts,
    cases,
    certificates,
    human_tasks,
    stats_daily,
    stats_task_daily,
)
from engine.services import Services, accounts, dashboard, dashboard_export, publishing
from engine.services import cases as case_service
from engine.services.dashboard import BadRequest, Period, parse_period
from tests.conftest import PROCESSES
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import APPLICATION

BEIJING = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period("month", date(2026, 11, 1), date(2026, 11, 30), "2026年11月")


def at(y: int, m: int, d: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def nov(day: int) -> date:
    return date(2026, 11, day)


def _facts(case_id: int, key: str, received_on: date, **given: Any) -> CaseFacts:
    base = CaseFacts(
        case_id=case_id,
        bundle_key=key,
        last_seq=1,
        received_on=received_on,
        accepted_on=None,
        ended_on=None,
        result="open",
        timeliness=None,
        handling_workdays=None,
        promised_workdays=None,
        statutory_workdays=None,
        corrections=0,
        gaps=False,
        supplies_owed=0,
        commitment=False,
        post_check_failed=False,
        certified=False,
        online=False,
        visits=1,
        rating=None,
        rated_on=None,
        rectification=None,
        follow_up=None,
        touched_days=(),
    )
    return replace(base, **given)


# The facts by case name (r5 has none: its drill-down row falls back on the case row).
FACTS: dict[str, dict[str, Any]] = {
    "r1": dict(
        received_on=nov(2),
        accepted_on=nov(2),
        ended_on=nov(5),
        result="finished",
        timeliness="early",
        handling_workdays=3,
        promised_workdays=7,
        statutory_workdays=20,
        corrections=1,
        visits=1,
        rating=5,
        rated_on=nov(6),
        certified=True,  # both licences on 11-05 (CERT_KINDS)
    ),
    "r2": dict(
        received_on=nov(3),
        accepted_on=nov(4),
        ended_on=nov(16),
        result="finished",
        timeliness="overdue",
        handling_workdays=9,
        promised_workdays=7,
        statutory_workdays=20,
        visits=2,
        gaps=True,
        supplies_owed=2,
        rating=1,
        rated_on=nov(17),
        rectification="late",
        follow_up="satisfied",
        certified=True,  # its business licence on 11-16
    ),
    "r3": dict(
        received_on=date(2026, 10, 30),
        accepted_on=nov(2),
        ended_on=nov(11),
        result="finished",
        timeliness="on_time",
        handling_workdays=7,
        promised_workdays=7,
        statutory_workdays=20,
        commitment=True,
        post_check_failed=True,
        online=True,
        visits=0,
        rating=4,
        rated_on=nov(12),
    ),
    "r4": dict(received_on=nov(10), ended_on=nov(10), result="refused", corrections=2, visits=3),
    "c1": dict(
        received_on=nov(5),
        accepted_on=nov(5),
        ended_on=nov(9),
        result="finished",
        timeliness="early",
        handling_workdays=1,
        promised_workdays=5,
        statutory_workdays=10,
        online=True,
        visits=0,
        rating=2,
        rated_on=nov(10),
        rectification="open",
    ),
    "c2": dict(received_on=nov(25), ended_on=nov(26), result="withdrawn"),
}
CERT_KINDS = {nov(5): {"business_licence": 1, "food_permit": 1}, nov(16): {"business_licence": 1}}


@pytest.fixture
def world(services: Services, users: dict[str, Any]) -> Iterator[dict[str, Any]]:
    clock = FakeClock(at(2026, 11, 30))
    services.clock = clock
    publishing.deploy(services, from_path(PROCESSES / "restaurant"), "test")
    cafe = from_path(PROCESSES / "restaurant")
    meta = json.loads(cafe.files["bundle.json"])
    meta["key"], meta["name"] = "cafe", "我要开咖啡馆"
    meta["time_limits"]["escalation_group"] = "cafe_watch"
    cafe.files["bundle.json"] = json.dumps(meta, ensure_ascii=False).encode()
    publishing.deploy(services, cafe, "test")
    made = {
        name: accounts.create_user(services, name, "clerk", groups)[0]
        for name, groups in (("boss", ["supervisors"]), ("watcher", ["cafe_watch"]))
    }
    accounts.edit_user(services, "front_desk", display_name="张敏", department="综合窗口")
    accounts.edit_user(services, "market_reviewer", display_name="李强", department="市场监管局")
    desk = users["front_desk"].user
    ids: dict[str, int] = {}
    for name in ("r1", "r2", "r3", "r4", "r5", "c1", "c2"):
        key = "cafe" if name.startswith("c") else "restaurant"
        ids[name] = case_service.start_case(services, desk, key, APPLICATION)["id"]
    # the open cases' rows as they stand now: created, deadline, paused, suspended
    created = {
        "r1": date(2026, 8, 3),
        "r2": nov(3),
        "r3": date(2026, 10, 30),
        "r4": nov(10),
        "r5": nov(19),
        "c1": nov(5),
        "c2": nov(25),
    }
    deadlines = {"r2": nov(27), "r3": date(2026, 12, 2), "r4": date(2026, 12, 3)}
    deadlines |= {"c1": nov(26), "c2": nov(20)}
    paused = {"c1": "2026-11-25", "c2": "2026-11-24"}
    with services.engine.begin() as conn:
        for name, case_id in ids.items():
            clock_json = conn.execute(select(cases.c.clock).where(cases.c.id == case_id)).scalar()
            clock_json = dict(clock_json or {}, paused_since=paused.get(name))
            day = created[name]
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id)
                .values(
                    created_at=at(day.year, day.month, day.day),
                    deadline=deadlines.get(name),
                    clock=clock_json,
                    status="suspended" if name == "c2" else "running",
                )
            )
        facts = [
            _facts(ids[n], "cafe" if n.startswith("c") else "restaurant", **given)
            for n, given in FACTS.items()
        ]
        conn.execute(insert(case_facts), [f.to_row() for f in facts])
        days = sorted({d for f in facts for d in f.days()} | set(CERT_KINDS))
        for key in ("restaurant", "cafe"):
            mine = [f for f in facts if f.bundle_key == key]
            for d in days:
                kinds = CERT_KINDS.get(d) if key == "restaurant" else None
                figures = day_figures(d, mine, kinds)
                if any(figures[k] for k in ("received", "concluded", "accepted", "rated")) or kinds:
                    conn.execute(insert(stats_daily).values(day=d, bundle_key=key, figures=figures))
        tasks = [
            # (id, case, element, name, group, created, ended, deadline, by)
            ("t1", "r1", "intake", "一窗受理", "front_desk", at(2026, 11, 2, 9), at(2026, 11, 2, 15), nov(3), "front_desk"),
            ("t2", "r2", "intake", "一窗受理", "front_desk", at(2026, 11, 3), at(2026, 11, 4), nov(3), "other_clerk"),
            ("t3", "r2", "licence_review", "营业执照审查", "market_regulation", at(2026, 11, 4), at(2026, 11, 13, 23, 30), nov(13), "market_reviewer"),
            ("t4", "c1", "intake", "一窗受理", "front_desk", at(2026, 11, 30), at(2026, 12, 1, 0, 30), None, "front_desk"),
            ("t5", "r1", "licence_review", "营业执照审查", "market_regulation", at(2026, 11, 3), at(2026, 11, 5), None, "market_reviewer"),
        ]  # fmt: skip
        conn.execute(
            insert(human_tasks),
            [
                {
                    "id": f"00000000-0000-0000-0000-00000000000{tid[1]}",
                    "case_id": ids[case],
                    "element": element,
                    "name": name,
                    "groups": [group],
                    "status": "completed",
                    "kind": "bpmn",
                    "deadline": deadline,
                    "created_at": created_at,
                    "ended_at": ended_at,
                    "ended_by": by,
                }
                for tid, case, element, name, group, created_at, ended_at, deadline, by in tasks
            ],
        )
        conn.execute(
            insert(stats_task_daily),
            [
                dict(zip(TASK_KEYS, row, strict=True))
                for row in [
                    (nov(2), "restaurant", "intake", "front_desk", "front_desk", "一窗受理", 1, 1, 0, 0),
                    (nov(4), "restaurant", "intake", "front_desk", "other_clerk", "一窗受理", 1, 0, 1, 1),
                    (nov(13), "restaurant", "licence_review", "market_regulation", "market_reviewer", "营业执照审查", 1, 1, 0, 7),
                    (nov(5), "restaurant", "licence_review", "market_regulation", "market_reviewer", "营业执照审查", 1, 0, 0, 2),
                    (date(2026, 12, 1), "cafe", "intake", "front_desk", "front_desk", "一窗受理", 1, 0, 0, 0),
                ]
            ],
        )  # fmt: skip
        # the month rollups are the sums of the day rows, as the refresh writes them
        repo = StatsRepository(conn)
        repo.replace_months(repo.month_rows())
        certs = [
            ("A", "r1", "business_licence", "营业执照", nov(5), date(2026, 12, 10), "valid"),
            ("B", "r1", "food_permit", "食品经营许可证", nov(5), date(2027, 1, 30), "valid"),
            ("C", "r2", "business_licence", "营业执照", nov(16), None, "valid"),
            ("D", "r3", "business_licence", "营业执照", date(2026, 10, 20), date(2026, 12, 1), "valid"),
            ("E", "r3", "food_permit", "食品经营许可证", date(2026, 10, 20), date(2026, 12, 5), "revoked"),
        ]  # fmt: skip
        conn.execute(
            insert(certificates),
            [
                {
                    "number": number,
                    "case_id": ids[case],
                    "bundle_key": "restaurant",
                    "kind": kind,
                    "title": title,
                    "holder": "某餐馆",
                    "fields": {},
                    "issuer": "某局",
                    "issued_on": issued,
                    "expires_on": expires,
                    "status": status,
                    "created_at": at(2026, 11, 1),
                }
                for number, case, kind, title, issued, expires, status in certs
            ],
        )
    yield {"ids": ids, "users": {**{n: u.user for n, u in users.items()}, **made}}


TASK_KEYS = (
    *("day", "bundle_key", "element", "group_name", "clerk", "task_name"),
    *("completed", "on_time", "overdue", "workdays"),
)

TOTALS = {
    "received": 5,
    "accepted": 4,
    "refused": 1,
    "withdrawn": 1,
    "finished": 4,
    "early": 2,
    "on_time": 1,
    "overdue": 1,
    "early_rate": 50.0,
    "on_time_rate": 25.0,
    "overdue_rate": 25.0,
    "handling": {
        "count": 4,
        "avg_workdays": 5.0,
        "p90_workdays": 9,
        "promised_avg": 6.5,
        "statutory_avg": 17.5,
        "compression": 62.9,
    },
    "corrections": {"concluded": 6, "cases": 2, "rounds": 3, "rate": 33.3},
    "gaps": {"count": 1, "owed_cases": 1, "owed_materials": 2},
    "commitment": {"count": 1, "post_check_failed": 1, "failure_rate": 100.0},
    "ratings": {
        "count": 4,
        "levels": {"5": 1, "4": 1, "3": 0, "2": 1, "1": 1},
        "satisfaction": 50.0,
        "bad": 2,
        "rectification_open": 1,
        "rectified_on_time": 0,
        "rectified_late": 1,
        "follow_up_satisfied": 1,
        "follow_up_unsatisfied": 0,
    },
    "visits": {
        "finished": 4,
        "one_visit": 3,
        "one_visit_rate": 75.0,
        "online": 2,
        "online_full": 2,
        "online_full_rate": 50.0,
    },
    "certified": 2,
    "certificates": 3,
}
OPEN_NOW = {
    "total": 7,
    "paused": 2,
    "warning": 2,
    "overdue": 2,
    "by_age": [
        {"label": "0–5 个工作日", "count": 1},
        {"label": "6–10 个工作日", "count": 1},
        {"label": "11–20 个工作日", "count": 3},
        {"label": "21–60 个工作日", "count": 1},
        {"label": "60 个工作日以上", "count": 1},
    ],
    "by_bundle": [
        {"key": "cafe", "name": "我要开咖啡馆", "total": 2, "warning": 1, "overdue": 1},
        {"key": "restaurant", "name": "我要开餐馆", "total": 5, "warning": 1, "overdue": 1},
    ],
}


def test_the_month_s_figures_are_the_hand_counted_ones(
    services: Services, world: dict[str, Any]
) -> None:
    shown = dashboard.figures(services, world["users"]["admin"], NOVEMBER)
    assert shown["period"] == {
        "kind": "month",
        "first": "2026-11-01",
        "last": "2026-11-30",
        "label": "2026年11月",
    }
    assert shown["bundles"] == [
        {"key": "cafe", "name": "我要开咖啡馆"},
        {"key": "restaurant", "name": "我要开餐馆"},
    ]
    assert shown["totals"] == TOTALS
    cafe, restaurant = shown["by_bundle"]
    assert (cafe["key"], cafe["received"], cafe["finished"], cafe["withdrawn"]) == ("cafe", 2, 1, 1)
    assert cafe["handling"]["compression"] == 50.0  # 1 - 5/10
    assert (restaurant["received"], restaurant["finished"], restaurant["certificates"]) == (3, 3, 3)
    assert restaurant["handling"]["compression"] == 65.0  # 1 - 21/60
    assert len(shown["trend"]) == 30
    assert shown["trend"][0] == {
        "bucket": "2026-11-01",
        "label": "11-01",
        "received": 0,
        "finished": 0,
        "overdue": 0,
        "refused": 0,
    }
    assert shown["trend"][15] == {
        "bucket": "2026-11-16",
        "label": "11-16",
        "received": 0,
        "finished": 1,
        "overdue": 1,
        "refused": 0,
    }
    assert [p["count"] for p in shown["funnel"]] == [5, 4, 4, 2]
    assert [p["label"] for p in shown["funnel"]] == ["收件", "受理", "办结", "发证"]
    assert shown["by_task"] == [
        {"bundle_key": "restaurant", "element": "intake", "name": "一窗受理", "completed": 2,
         "on_time": 1, "overdue": 1, "avg_workdays": 0.5},
        {"bundle_key": "restaurant", "element": "licence_review", "name": "营业执照审查",
         "completed": 2, "on_time": 1, "overdue": 0, "avg_workdays": 4.5},
    ]  # fmt: skip
    assert shown["by_group"] == [
        {"group": "front_desk", "completed": 2, "on_time": 1, "overdue": 1, "avg_workdays": 0.5,
         "open_now": 7},
        {"group": "market_regulation", "completed": 2, "on_time": 1, "overdue": 0,
         "avg_workdays": 4.5, "open_now": 0},
    ]  # fmt: skip
    assert shown["by_department"] == [
        {"department": "市场监管局", "completed": 2, "on_time": 1, "overdue": 0, "avg_workdays": 4.5},
        {"department": "未填写部门", "completed": 1, "on_time": 0, "overdue": 1, "avg_workdays": 1.0},
        {"department": "综合窗口", "completed": 1, "on_time": 1, "overdue": 0, "avg_workdays": 0.0},
    ]  # fmt: skip
    assert [(c["clerk"], c["display_name"], c["completed"]) for c in shown["by_clerk"]] == [
        ("market_reviewer", "李强", 2),
        ("front_desk", "张敏", 1),
        ("other_clerk", None, 1),
    ]
    heat = shown["overdue_heat"]
    assert heat["tasks"] == [{"bundle_key": "restaurant", "element": "intake", "name": "一窗受理"}]
    assert heat["cells"] == [[0, 3, 1]] and heat["buckets"][3]["bucket"] == "2026-11-04"
    assert shown["open_now"] == OPEN_NOW
    assert shown["certificates"] == {
        "issued": [
            {"kind": "business_licence", "title": "营业执照", "count": 2},
            {"kind": "food_permit", "title": "食品经营许可证", "count": 1},
        ],
        "renewals_30": 2,
        "renewals_90": 3,
    }
    assert shown["refreshed_at"] is None


def test_one_bundle_and_a_custom_period(services: Services, world: dict[str, Any]) -> None:
    admin = world["users"]["admin"]
    four_days = parse_period("custom", "2026-11-02", "2026-11-05", nov(30))
    shown = dashboard.figures(services, admin, four_days)
    assert shown["totals"]["received"] == 3  # r1, r2, c1
    assert [t["bucket"] for t in shown["trend"]] == [f"2026-11-0{d}" for d in (2, 3, 4, 5)]
    cafe = dashboard.figures(services, admin, NOVEMBER, "cafe")
    assert cafe["bundle"] == "cafe" and [b["key"] for b in cafe["by_bundle"]] == ["cafe"]
    assert cafe["totals"]["received"] == 2 and cafe["by_task"] == []
    assert cafe["open_now"]["total"] == 2 and cafe["certificates"]["renewals_90"] == 0
    assert cafe["by_group"] == [
        {"group": "front_desk", "completed": 0, "on_time": 0, "overdue": 0, "avg_workdays": None,
         "open_now": 2}
    ]  # fmt: skip
    quarter = dashboard.figures(
        services, admin, parse_period("quarter", "2026-11-15", None, nov(30))
    )
    assert quarter["trend"][0]["bucket"] == "2026-09-28" and len(quarter["trend"]) == 14
    assert quarter["totals"]["received"] == 6  # r3 on 10-30 too
    year = dashboard.figures(services, admin, parse_period("year", "2026-06-01", None, nov(30)))
    assert [t["label"] for t in year["trend"]][-2:] == ["2026-11", "2026-12"]
    assert year["trend"][10]["received"] == 5


@pytest.mark.parametrize(
    ("kind", "start", "end", "first", "last", "label"),
    [
        ("week", "2026-12-02", None, "2026-11-30", "2026-12-06", "2026-11-30 至 2026-12-06"),
        ("month", "2028-02-10", None, "2028-02-01", "2028-02-29", "2028年2月"),
        ("month", None, None, "2026-11-01", "2026-11-30", "2026年11月"),
        ("quarter", "2026-11-15", None, "2026-10-01", "2026-12-31", "2026年第4季度"),
        ("quarter", "2026-01-01", None, "2026-01-01", "2026-03-31", "2026年第1季度"),
        ("year", "2026-11-15", None, "2026-01-01", "2026-12-31", "2026年"),
        ("day", "2026-11-15", None, "2026-11-15", "2026-11-15", "2026年11月15日"),
        ("custom", "2026-11-02", "2026-12-31", "2026-11-02", "2026-12-31", "2026-11-02 至 2026-12-31"),
    ],
)  # fmt: skip
def test_periods(
    kind: str, start: str | None, end: str | None, first: str, last: str, label: str
) -> None:
    period = parse_period(kind, start, end, nov(30))
    assert (period.first.isoformat(), period.last.isoformat(), period.label) == (first, last, label)


@pytest.mark.parametrize(
    ("kind", "start", "end", "field"),
    [
        ("decade", "2026-11-01", None, "period"),
        ("month", "2026-13-01", None, "start"),
        ("month", "1900-01-01", None, "start"),
        ("custom", None, "2026-11-01", "start"),
        ("custom", "2026-11-01", None, "end"),
        ("custom", "2026-11-02", "2026-11-01", "end"),
        ("custom", "2000-01-01", "2026-11-01", "end"),
        ("custom", "2026-11-01", "x" * 5000, "end"),
    ],
)
def test_bad_periods_name_their_field(
    kind: str, start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_period(kind, start, end, nov(30))
    assert raised.value.status == 400 and raised.value.errors[0]["field"] == field


def test_who_may_view(services: Services, world: dict[str, Any]) -> None:
    u = world["users"]
    for name in ("admin", "auditor", "boss"):
        assert dashboard.may_view(services, u[name])
        shown = dashboard.figures(services, u[name], NOVEMBER)
        assert [b["key"] for b in shown["bundles"]] == ["cafe", "restaurant"]
    watcher = dashboard.figures(services, u["watcher"], NOVEMBER)
    assert [b["key"] for b in watcher["bundles"]] == ["cafe"]
    assert watcher["totals"]["received"] == 2 and watcher["open_now"]["total"] == 2
    assert dashboard.cases(services, u["watcher"], NOVEMBER, "received")["total"] == 2
    with pytest.raises(Forbidden):
        dashboard.figures(services, u["watcher"], NOVEMBER, "restaurant")
    with pytest.raises(NotFound):
        dashboard.figures(services, u["admin"], NOVEMBER, "nope")
    for name in ("front_desk", "designer"):
        assert not dashboard.may_view(services, u[name])
        with pytest.raises(Forbidden):
            dashboard.figures(services, u[name], NOVEMBER)
        with pytest.raises(Forbidden):
            dashboard.cases(services, u[name], NOVEMBER, "received")


# measure -> where its number is in the figures
NUMBERS: dict[str, tuple[str, ...]] = {
    **{m: ("totals", m) for m in ("received", "accepted", "refused", "withdrawn", "finished")},
    **{m: ("totals", m) for m in ("early", "on_time", "overdue", "certified", "certificates")},
    "handled": ("totals", "handling", "count"),
    "corrected": ("totals", "corrections", "cases"),
    "gaps": ("totals", "gaps", "count"),
    "gaps_owed": ("totals", "gaps", "owed_cases"),
    "commitment": ("totals", "commitment", "count"),
    "post_check_failed": ("totals", "commitment", "post_check_failed"),
    "one_visit": ("totals", "visits", "one_visit"),
    "online": ("totals", "visits", "online"),
    "online_full": ("totals", "visits", "online_full"),
    "rated": ("totals", "ratings", "count"),
    **{f"rating_{k}": ("totals", "ratings", "levels", str(k)) for k in range(1, 6)},
    **{
        m: ("totals", "ratings", m)
        for m in (
            "bad",
            "rectification_open",
            "rectified_on_time",
            "rectified_late",
            "follow_up_satisfied",
            "follow_up_unsatisfied",
        )
    },
    "open": ("open_now", "total"),
    "open_paused": ("open_now", "paused"),
    "open_warning": ("open_now", "warning"),
    "open_overdue": ("open_now", "overdue"),
    **{f"age_{i}": ("open_now", "by_age", str(i), "count") for i in range(5)},
    "renewals_30": ("certificates", "renewals_30"),
    "renewals_90": ("certificates", "renewals_90"),
}


def _number(shown: dict[str, Any], path: tuple[str, ...]) -> int:
    value: Any = shown
    for part in path:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return int(value)


def test_every_drill_down_total_is_its_number(services: Services, world: dict[str, Any]) -> None:
    admin = world["users"]["admin"]
    for bundle in (None, "cafe", "restaurant"):
        shown = dashboard.figures(services, admin, NOVEMBER, bundle)
        for measure, path in NUMBERS.items():
            found = dashboard.cases(services, admin, NOVEMBER, measure, bundle)
            assert found["total"] == _number(shown, path), (bundle, measure)
            assert len(found["cases"]) == found["total"]
            ids = [c["id"] for c in found["cases"]]
            assert ids == sorted(ids)
        totals: list[tuple[str, dict[str, str], int]] = [
            ("task_completed", {}, sum(t["completed"] for t in shown["by_task"])),
            ("task_on_time", {}, sum(t["on_time"] for t in shown["by_task"])),
            ("task_overdue", {}, sum(t["overdue"] for t in shown["by_task"])),
        ]
        for row in shown["by_task"]:
            for m in ("completed", "on_time", "overdue"):
                totals.append((f"task_{m}", {"element": row["element"]}, row[m]))
        for row in shown["by_group"]:
            totals.append(("task_completed", {"group": row["group"]}, row["completed"]))
        for row in shown["by_clerk"]:
            totals.append(("task_overdue", {"clerk": row["clerk"]}, row["overdue"]))
        for row in shown["by_department"]:
            for m in ("completed", "on_time", "overdue"):
                totals.append((f"task_{m}", {"department": row["department"]}, row[m]))
        for measure, filters, number in totals:
            found = dashboard.cases(services, admin, NOVEMBER, measure, bundle, **filters)
            assert found["total"] == number, (bundle, measure, filters)
    assert len(totals) > 10


def test_drill_down_rows_and_pages(services: Services, world: dict[str, Any]) -> None:
    admin, ids = world["users"]["admin"], world["ids"]
    finished = dashboard.cases(services, admin, NOVEMBER, "overdue")
    assert finished["label"] == "超期办结" and finished["pages"] == 1
    assert finished["cases"] == [
        {
            "id": ids["r2"],
            "bundle_key": "restaurant",
            "bundle_name": "我要开餐馆",
            "received_on": "2026-11-03",
            "accepted_on": "2026-11-04",
            "ended_on": "2026-11-16",
            "result": "finished",
            "timeliness": "overdue",
            "handling_workdays": 9,
            "rating": 1,
        }
    ]
    young = dashboard.cases(services, admin, NOVEMBER, "age_1")["cases"]
    assert [(c["id"], c["received_on"], c["result"]) for c in young] == [
        (ids["r5"], "2026-11-19", "open")  # no facts yet: from the case row
    ]
    tasks = dashboard.cases(services, admin, NOVEMBER, "task_completed")["cases"]
    assert [c["id"] for c in tasks] == sorted([ids["r1"], ids["r1"], ids["r2"], ids["r2"]])
    # the task finished at 23:30 Beijing on 11-13 counts on that day, by its deadline
    on_time = dashboard.cases(services, admin, NOVEMBER, "task_on_time", element="licence_review")
    assert [c["id"] for c in on_time["cases"]] == [ids["r2"]]
    certs = dashboard.cases(services, admin, NOVEMBER, "certificates")["cases"]
    assert [c["id"] for c in certs] == sorted([ids["r1"], ids["r1"], ids["r2"]])
    late = dashboard.cases(services, admin, NOVEMBER, "received", page=2)
    assert (late["total"], late["page"], late["pages"], late["cases"]) == (5, 2, 1, [])
    for bad, field in (
        ({"measure": "nope"}, "measure"),
        ({"measure": "received", "page": "0"}, "page"),
        ({"measure": "received", "page": "x"}, "page"),
        ({"measure": "received", "page": str(10**30)}, "page"),
        ({"measure": "task_completed", "clerk": "a\x00b"}, "clerk"),
        ({"measure": "task_completed", "group": "g" * 301}, "group"),
    ):
        with pytest.raises(Invalid) as raised:
            dashboard.cases(services, admin, NOVEMBER, **bad)
        assert raised.value.status == 400 and raised.value.errors[0]["field"] == field


def test_exports(services: Services, world: dict[str, Any]) -> None:
    admin = world["users"]["admin"]
    name, kind, content = dashboard_export.export_table(
        services, admin, NOVEMBER, "by_bundle", "xlsx"
    )
    assert name == "效能监察_按事项_2026年11月.xlsx" and kind.endswith(".sheet")
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet is not None and sheet.title == "按事项"
    rows = list(sheet.iter_rows(values_only=True))
    assert "2026年11月" in str(rows[0][0])
    header = list(rows[1])
    assert header[:7] == ["事项编码", "事项名称", "收件", "受理", "不予受理", "撤回", "办结"]
    restaurant = dict(zip(header, rows[3], strict=True))
    assert restaurant["事项编码"] == "restaurant" and restaurant["收件"] == 3
    assert restaurant["承诺压缩比(%)"] == 65.0 and restaurant["90%办理时长(工作日)"] == 9
    cafe = dict(zip(header, rows[2], strict=True))
    assert cafe["好评率(%)"] == 0.0 and cafe["发证"] == 0
    assert sheet.column_dimensions["B"].width >= 14  # 我要开咖啡馆: six wide characters

    name, kind, content = dashboard_export.export_table(services, admin, NOVEMBER, "totals", "csv")
    assert name == "效能监察_总体指标_2026年11月.csv" and kind == "text/csv; charset=utf-8"
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == ["指标", "数值"]
    assert dict(table[1:])["平均办理时长(工作日)"] == "5.0"
    assert dict(table[1:])["补正率(%)"] == "33.3"

    name, _kind, content = dashboard_export.export_table(
        services, admin, NOVEMBER, "cases", "xlsx", measure="task_completed", element="intake"
    )
    assert name == "效能监察_办件清单_完成的环节_2026年11月.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    listed = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in listed] == sorted([world["ids"]["r1"], world["ids"]["r2"]])
    assert listed[0][6] == "办结"

    for each in dashboard_export.TABLES:
        if each == "cases":
            continue
        for fmt in ("csv", "xlsx"):
            _name, _kind, content = dashboard_export.export_table(
                services, admin, NOVEMBER, each, fmt, "restaurant"
            )
            assert content
    for args, field in ((("nope", "csv"), "table"), (("totals", "pdf"), "format")):
        with pytest.raises(Invalid) as raised:
            dashboard_export.export_table(services, admin, NOVEMBER, *args)
        assert raised.value.errors[0]["field"] == field


def test_the_monthly_report(services: Services, world: dict[str, Any]) -> None:
    report = dashboard.monthly_report(services, world["users"]["boss"], nov(17))
    assert report["period"]["label"] == "2026年11月"
    assert report["totals"] == TOTALS
    assert [(b["key"], b["received"]) for b in report["bundles"]] == [
        ("cafe", 2),
        ("restaurant", 3),
    ]
    mine = dashboard.monthly_report(services, world["users"]["watcher"], nov(1), "cafe")
    assert [b["key"] for b in mine["bundles"]] == ["cafe"]


def test_a_period_splits_into_its_whole_months_and_the_days_around_them() -> None:
    from engine.persistence.dashboard_queries import whole_months

    assert whole_months(date(2026, 1, 1), date(2026, 12, 31)) == (
        [date(2026, m, 1) for m in range(1, 13)],
        [],
    )
    assert whole_months(date(2025, 12, 7), date(2026, 12, 6)) == (
        [date(2026, m, 1) for m in range(1, 12)],
        [(date(2025, 12, 7), date(2025, 12, 31)), (date(2026, 12, 1), date(2026, 12, 6))],
    )
    assert whole_months(date(2026, 2, 1), date(2026, 2, 28)) == ([date(2026, 2, 1)], [])
    assert whole_months(date(2026, 11, 2), date(2026, 11, 30)) == (
        [],
        [(date(2026, 11, 2), date(2026, 11, 30))],
    )
