"""下级初审 (Administrative Licensing Law Art. 43) on a fake clock across 国庆 2026, on both
databases: the town's 20 working days from its 受理, the county's limit from the forwarding (转报),
a forwarding on time and one after the lower level's deadline (超期, 督办)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.bundles.source import from_upload
from engine.services import (
    Services,
    accounts,
    audit,
    cases,
    publishing,
    queries,
)
from engine.services import progress as case_progress
from engine.services.worker import run_due
from tests.conftest import FORMS
from tests.e2e.test_openapi import component, problems
from tests.fixtures import law_preliminary
from tests.fixtures.clock import FakeClock

# 2026-09-28 09:00 in Beijing: a Monday before the National Day holiday (10-01..10-07, 10-10 a
# makeup working Saturday). 09-28 + 20 working days = 10-30 (Friday).
MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)


def at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


def _task(case: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in case["tasks"] if t["element"] == element))


def _events(svc: Services, auditor: Any, case_id: int) -> list[dict[str, Any]]:
    events = queries.events(svc, auditor, case_id)
    for event in events:
        assert problems(event, component("Event")) == [], event
    return events


def test_the_lower_level_has_its_own_limit_and_the_upper_starts_on_forwarding(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, FORMS, clock=clock)
    publishing.deploy(svc, from_upload("three.zip", law_preliminary.BUNDLE), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    desk, town, county = (
        users["front_desk"].user,
        users["market_reviewer"].user,
        users["food_reviewer"].user,
    )
    auditor = users["auditor"].user

    on_time = cases.start_case(svc, desk, "three_level", {"applicant_name": "王五"})
    late = cases.start_case(svc, desk, "three_level", {"applicant_name": "赵六"})
    assert on_time["preliminary"] is None and on_time["clock"] == "not_started"
    on_time = cases.complete(svc, desk, _task(on_time, "town_accept"), {})
    late = cases.complete(svc, desk, _task(late, "town_accept"), {})
    expected = {
        "limit": 20,
        "started_on": "2026-09-28",
        "deadline": "2026-10-30",
        "forwarded_on": None,
        "on_time": None,
        "text": "下级初审期限 20 个工作日, 至 2026-10-30",
    }
    assert on_time["preliminary"] == expected
    assert on_time["clock"] == "not_started"  # the county's clock waits for the forwarding
    assert problems(on_time, component("Case")) == []
    started = [
        e for e in _events(svc, auditor, on_time["id"]) if e["type"] == "preliminary_started"
    ]
    assert [e["data"] for e in started] == [
        {"started_on": "2026-09-28", "limit": 20, "deadline": "2026-10-30", "level": "乡镇人民政府"}
    ]
    # the worklist shows the town's limit with the case
    row = next(t for t in queries.worklist(svc, town)["tasks"] if t["case"]["id"] == on_time["id"])
    assert row["case"]["preliminary"]["text"] == "下级初审期限 20 个工作日, 至 2026-10-30"

    # the town forwards on Friday 10-09 (after 国庆): the county's 15 working days start then
    clock.now = at(9)
    on_time = cases.complete(svc, town, _task(on_time, "town_review"), {})
    on_time = cases.complete(svc, town, _task(on_time, "forward"), {})
    assert on_time["time_limit"]["started_on"] == "2026-10-09"
    assert (on_time["deadline"], on_time["statutory_deadline"]) == ("2026-10-29", "2026-11-05")
    assert on_time["preliminary"]["forwarded_on"] == "2026-10-09"
    assert on_time["preliminary"]["on_time"] is True
    assert on_time["preliminary"]["text"].endswith("2026-10-09 已转报 (按期)")
    events = _events(svc, auditor, on_time["id"])
    kinds = [e["type"] for e in events]
    assert kinds.index("preliminary_started") < kinds.index("case_forwarded")
    assert kinds.index("case_forwarded") < kinds.index("clock_started")
    forwarded = events[kinds.index("case_forwarded")]
    assert forwarded["data"] == {
        "forwarded_on": "2026-10-09",
        "preliminary_deadline": "2026-10-30",
        "on_time": True,
    }
    progress = case_progress.progress_view(svc, on_time["id"])
    assert progress["preliminary"]["on_time"] is True
    assert problems(progress, component("CaseProgress")) == []
    done = cases.complete(svc, county, _task(on_time, "county"), {})
    assert done["status"] == "completed"
    assert done["time_limit"]["forwarded_on"] == "2026-10-09"  # kept when the clock stopped

    # the other case is still with the town on Monday 11-02: overdue at the lower level
    clock.now = datetime(2026, 11, 1, 16, 1, tzinfo=UTC)  # 11-02 00:01 local
    run_due(svc)
    events = _events(svc, auditor, late["id"])
    overdue = [e for e in events if e["type"] == "case_overdue"]
    assert [e["data"] for e in overdue] == [{"deadline": "2026-10-30", "preliminary": True}]
    assert any(e["type"] == "supervision_opened" for e in events)
    supervised = queries.worklist(svc, supervisor)["tasks"]
    assert [t["case_id"] for t in supervised] == [late["id"]]
    assert "初审已超过法定期限" in supervised[0]["name"]
    # the forwarded case's check found nothing to do
    assert not [e for e in _events(svc, auditor, on_time["id"]) if e["type"] == "case_overdue"]
    run_due(svc)  # run again: recorded once
    assert len([e for e in _events(svc, auditor, late["id"]) if e["type"] == "case_overdue"]) == 1

    clock.now = at(3, 11)
    late = cases.complete(svc, town, _task(late, "town_review"), {})
    late = cases.complete(svc, town, _task(late, "forward"), {})
    assert late["preliminary"]["on_time"] is False
    assert late["preliminary"]["text"].endswith("2026-11-03 已转报 (超期)")
    assert (late["time_limit"]["started_on"], late["deadline"]) == ("2026-11-03", "2026-11-24")
    forwarded = next(e for e in _events(svc, auditor, late["id"]) if e["type"] == "case_forwarded")
    assert forwarded["data"]["on_time"] is False

    done = cases.complete(svc, county, _task(late, "county"), {})
    assert done["status"] == "completed"
    for case in (on_time, late):
        assert audit.replay(svc, auditor, case["id"])["verified"]
