"""听证 (Administrative Licensing Law Arts. 46–47) on a fake clock, on SQLite and PostgreSQL:
the notice when the decision task opens, deciding refused during the 5 working days, a request
opening a 听证 task across 国庆 2026 with the clock stopped (another branch's step does not
restart it), the hearing held and the clock resumed, the waiver, the period running out (the
worker's job), the refusals, the events against docs/openapi.yaml, the audit, the notice page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import Services, audit, cases, hearing, publishing, queries
from engine.services.worker import run_due
from tests.fixtures.clock import FakeClock
from tests.fixtures.hearing import APPLICATION, BUNDLE

# Beijing time; 2026: 国庆 10-01..10-07, makeup working Saturday 10-10
MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # 09-28 09:00


def at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


class World:
    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        publishing.deploy(self.svc, from_upload("heard.zip", BUNDLE), "test")
        self.users = users

    def user(self, name: str) -> Any:
        return self.users[name].user

    def start(self) -> dict[str, Any]:
        """A case accepted on Monday 09-28: the decision and the inspection open."""
        case = cases.start_case(self.svc, self.user("front_desk"), "heard", dict(APPLICATION))
        return cases.complete(self.svc, self.user("front_desk"), case["tasks"][0]["id"], {})

    def task(self, case_id: int, element: str) -> dict[str, Any]:
        case = queries.get_case(self.svc, self.user("auditor"), case_id)
        return next(t for t in case["tasks"] if t["element"] == element)

    def decide(self, case_id: int) -> dict[str, Any]:
        task = self.task(case_id, "decide")
        return cases.complete(self.svc, self.user("market_reviewer"), task["id"], {})

    def events(self, case_id: int) -> list[dict[str, Any]]:
        return queries.events(self.svc, self.user("auditor"), case_id)

    def of(self, case_id: int, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events(case_id) if e["type"] == kind]


@pytest.fixture
def world(services: Services, users: dict[str, Any]) -> World:
    return World(services, users)


def _check_events(world: World, case_id: int) -> None:
    from tests.e2e.test_openapi import component, problems

    for event in world.events(case_id):
        assert problems(event, component("Event")) == [], event
    assert audit.replay(world.svc, None, case_id)["verified"] is True


def test_request_hearing_stops_the_clock_until_it_is_held(world: World) -> None:
    case = world.start()
    assert (case["clock"], case["deadline"]) == ("running", "2026-10-23")
    told = world.of(case["id"], "hearing_rights_notified")
    assert len(told) == 1 and told[0]["element"] == "decide" and told[0]["actor"] == "system"
    # five working days from Monday 09-28 across 国庆: the makeup Saturday 10-10
    assert told[0]["data"] == {
        "decision": "decide",
        "request_by": "2026-10-10",
        "request_workdays": 5,
    }
    with world.svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    rights = [n for n in sent if n["recipient"] == "tel:13800000000"]
    assert len(rights) == 1 and "2026-10-10 前要求听证" in rights[0]["body"]
    assert "第四十七条" in rights[0]["body"]

    world.clock.now = at(29, 9)
    with pytest.raises(Conflict, match="申请人可在 2026-10-10 前要求听证"):
        world.decide(case["id"])
    with pytest.raises(Forbidden):  # neither the window nor a holder of the case
        hearing.answer(world.svc, world.user("issuer"), case["id"], "request")
    with pytest.raises(Invalid):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "maybe")

    # the window records the applicant's written request on Tuesday 09-29
    case = hearing.answer(world.svc, world.user("front_desk"), case["id"], "request", "书面申请")
    assert case["clock"] == "paused"
    held = world.task(case["id"], "hearing")
    assert held["kind"] == "hearing" and held["name"] == "听证: 许可决定"
    assert held["deadline"] == "2026-11-02"  # 20 working days from 09-29, 国庆 skipped
    with pytest.raises(Conflict, match="不能重复登记"):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "waive")
    paused = world.of(case["id"], "clock_paused")
    assert [e["data"] for e in paused] == [{"by": "hearing", "waiting_on": ["hearing"]}]

    # another branch moves on: the clock stays stopped
    world.clock.now = at(30, 9)
    inspect = world.task(case["id"], "inspect")
    case = cases.complete(world.svc, world.user("food_reviewer"), inspect["id"], {})
    assert case["clock"] == "paused" and world.of(case["id"], "clock_resumed") == []
    with pytest.raises(Conflict, match="听证尚未结束"):
        world.decide(case["id"])

    # held on Friday 10-09; the hearing group records the minutes
    world.clock.now = at(9)
    reviewer = world.user("market_reviewer")
    with pytest.raises(Invalid):
        cases.complete(world.svc, reviewer, held["id"], {"held_on": "2026-10-09"})
    with pytest.raises(Invalid):  # not in the future
        cases.complete(world.svc, reviewer, held["id"], {"minutes": "x", "held_on": "2026-10-12"})
    case = cases.complete(
        world.svc, reviewer, held["id"], {"minutes": "申请人陈述意见", "held_on": "2026-10-09"}
    )
    # waited 09-30, 10-08 and 10-09: the deadline moves from 10-23 by three working days
    assert (case["clock"], case["deadline"]) == ("running", "2026-10-28")
    resumed = world.of(case["id"], "clock_resumed")
    assert [e["data"] for e in resumed] == [
        {"by": "hearing", "waited_workdays": 3, "deadline": "2026-10-28"}
    ]
    completed = [e for e in world.of(case["id"], "task_completed") if e["task"] == held["id"]]
    assert completed[0]["data"]["kind"] == "hearing"

    case = world.decide(case["id"])
    assert case["status"] == "completed" and case["clock"] == "stopped"
    _check_events(world, case["id"])


def test_waiver_lets_the_decision_be_made(world: World) -> None:
    case = world.start()
    world.clock.now = at(29, 9)
    case = hearing.answer(world.svc, world.user("market_reviewer"), case["id"], "waive", "当面放弃")
    assert case["clock"] == "running"
    waived = world.of(case["id"], "hearing_waived")
    assert [e["data"] for e in waived] == [
        {"decision": "decide", "by": "applicant", "note": "当面放弃"}
    ]
    with pytest.raises(Conflict, match="已放弃听证"):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "request")
    world.decide(case["id"])
    _check_events(world, case["id"])


def test_the_period_runs_out(world: World) -> None:
    case = world.start()
    world.clock.now = at(10, hour=17)  # the last day (a makeup Saturday): still refused
    with pytest.raises(Conflict, match="2026-10-10"):
        world.decide(case["id"])
    world.clock.now = datetime(2026, 10, 11, 16, 1, tzinfo=UTC)  # 10-12 00:01 local
    run_due(world.svc)
    expired = world.of(case["id"], "hearing_waived")
    assert [(e["actor"], e["data"]["by"]) for e in expired] == [("system", "expired")]
    with pytest.raises(Conflict, match="期限"):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "request")
    world.decide(case["id"])
    run_due(world.svc)
    assert len(world.of(case["id"], "hearing_waived")) == 1
    _check_events(world, case["id"])


def test_deciding_after_the_period_before_the_job_ran(world: World) -> None:
    case = world.start()
    world.clock.now = at(12)  # past 10-10; the job has not run yet
    with pytest.raises(Conflict, match="届满"):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "request")
    world.decide(case["id"])  # allowed: the period is over
    run_due(world.svc)  # the lapse is recorded all the same
    assert [e["data"]["by"] for e in world.of(case["id"], "hearing_waived")] == ["expired"]
    _check_events(world, case["id"])


def test_no_notice_before_the_decision_opens(world: World) -> None:
    case = cases.start_case(world.svc, world.user("front_desk"), "heard", dict(APPLICATION))
    with pytest.raises(Conflict, match="尚未告知"):
        hearing.answer(world.svc, world.user("front_desk"), case["id"], "request")
