"""Time limits end to end on a fake clock: 受理 starts the clock, an expert review stops it, a
task past its own limit and a case past its deadline are flagged and escalated (督办)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, cases, publishing, queries
from engine.services.worker import run_due
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.fixtures.limits import BUNDLE

# 2026-09-28 09:00 in Beijing: a Monday, before the National Day holiday (10-01..10-07),
# with a makeup working Saturday on 10-10.
MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)


def at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


def test_the_clock_through_a_case(services: Services, users: dict[str, Any]) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    desk = users["front_desk"].user
    auditor = users["auditor"].user

    case = cases.start_case(svc, desk, "limited", {"applicant": "张三"})
    assert case["clock"] == "not_started" and case["deadline"] is None
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    assert (case["clock"], case["deadline"], case["remaining_workdays"]) == (
        "running",
        "2026-10-10",
        5,
    )
    assert case["statutory_deadline"] == "2026-10-30" and not case["deadline_provisional"]
    review = case["tasks"][0]
    assert review["element"] == "review" and review["deadline"] == "2026-09-30"

    clock.now = at(8)  # the review is past its own two working days
    assert run_due(svc) >= 1
    listed = {t["element"]: t for t in queries.worklist(svc, supervisor)["tasks"]}
    assert (
        listed["supervision"]["kind"] == "supervision" and "审查" in listed["supervision"]["name"]
    )
    market = queries.worklist(svc, users["market_reviewer"].user)["tasks"][0]
    assert market["overdue"] and market["flag"] == "overdue"
    assert market["case"]["remaining_workdays"] == 2 and market["case"]["timeliness"] == "warning"

    case = cases.complete(svc, users["market_reviewer"].user, review["id"], {})
    assert case["clock"] == "paused"  # 专家评审 stops the clock
    clock.now = at(12)
    assert queries.get_case(svc, auditor, case["id"])["remaining_workdays"] == 2  # frozen
    expert = next(t for t in case["tasks"] if t["element"] == "expert")
    case = cases.complete(svc, users["food_reviewer"].user, expert["id"], {})
    # waited 10-09, 10-10 and 10-12: the deadline moves from 10-10 by three working days
    assert (case["clock"], case["deadline"], case["remaining_workdays"]) == (
        "running",
        "2026-10-14",
        2,
    )

    clock.now = datetime(2026, 10, 12, 16, 1, tzinfo=UTC)  # 10-13 00:01 local: warning day
    run_due(svc)
    clock.now = datetime(2026, 10, 14, 16, 1, tzinfo=UTC)  # 10-15 00:01 local: past the deadline
    run_due(svc)
    case = queries.get_case(svc, auditor, case["id"])
    assert case["timeliness"] == "overdue" and case["remaining_workdays"] == -1
    events = queries.events(svc, auditor, case["id"])
    kinds = [e["type"] for e in events]
    assert kinds.count("case_overdue") == 1  # the check for the old deadline did nothing
    assert kinds.count("case_warning") == 2  # 10-08 for 10-10, then again for 10-14
    assert kinds.count("task_overdue") == 1
    assert kinds.count("supervision_opened") == 2
    assert kinds.index("clock_started") < kinds.index("clock_paused") < kinds.index("clock_resumed")
    resumed = next(e for e in events if e["type"] == "clock_resumed")
    assert resumed["data"] == {"waited_workdays": 3, "deadline": "2026-10-14"}

    issue = next(t for t in case["tasks"] if t["element"] == "issue")
    case = cases.complete(svc, users["issuer"].user, issue["id"], {})
    assert case["status"] == "completed" and case["clock"] == "stopped"
    assert case["outcome"] == {"element": "e", "name": "办结"}
    # the 督办 tasks stay with the supervisors until they record their findings
    assert len(queries.worklist(svc, supervisor)["tasks"]) == 2

    from tests.e2e.test_openapi import TIME_LIMIT_EVENTS, component, problems

    assert TIME_LIMIT_EVENTS <= set(kinds)
    for event in queries.events(svc, auditor, case["id"]):
        assert problems(event, component("Event")) == [], event

    with svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    assert {n["recipient"] for n in sent} == {"group:supervisors"}
    assert len(sent) == 2 and all(n["status"] == "sent" for n in sent)


CORRECTION_IN_REVIEW = bpmn.zipped(
    {
        "c.bpmn": bpmn.document(
            """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="accept" />
  <bpmn:userTask id="accept" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="correction" />
  <bpmn:userTask id="correction" name="审查中补正" camunda:candidateGroups="front_desk">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="clock" value="pause" />
    </camunda:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="correction" targetRef="e" /><bpmn:endEvent id="e" />""",
            process_id="corrected",
        ),
        "bundle.json": json.dumps({"time_limits": {"starts_at": "accept", "promised_workdays": 5}}),
    }
)


def test_the_clock_stops_while_the_applicant_corrects_materials(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("c.zip", CORRECTION_IN_REVIEW), "test")
    desk = users["front_desk"].user
    case = cases.start_case(svc, desk, "corrected", {})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})  # 受理 Monday: deadline 10-10
    assert (case["clock"], case["deadline"], case["remaining_workdays"]) == (
        "paused",
        "2026-10-10",
        5,
    )
    clock.now = at(9)  # the applicant returns on Friday 10-09
    assert queries.get_case(svc, users["auditor"].user, case["id"])["remaining_workdays"] == 5
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    events = queries.events(svc, users["auditor"].user, case["id"])
    resumed = next(e for e in events if e["type"] == "clock_resumed")
    assert resumed["data"]["waited_workdays"] == 4  # 09-29, 09-30, 10-08, 10-09
    assert case["time_limit"]["deadline"] == "2026-10-15"  # 5 + 4 working days after 09-28


def test_a_friday_deadline_is_overdue_on_monday_and_follows_calendar_changes(
    services: Services, users: dict[str, Any]
) -> None:

    clock = FakeClock(datetime(2026, 10, 23, 1, 0, tzinfo=UTC))  # Friday 09:00 in Beijing
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "limited", {})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    assert case["deadline"] == "2026-10-30"  # five working days: the next Friday

    def overdue_events() -> int:
        return [e["type"] for e in queries.events(svc, auditor, case["id"])].count("case_overdue")

    clock.now = datetime(2026, 10, 31, 1, 0, tzinfo=UTC)  # Saturday: not yet a working day late
    run_due(svc)
    assert overdue_events() == 0
    assert (
        queries.get_case(svc, auditor, case["id"])["timeliness"] == "warning"
    )  # 0 working days left
    clock.now = datetime(2026, 11, 1, 16, 1, tzinfo=UTC)  # Monday 00:01 in Beijing
    run_due(svc)
    assert overdue_events() == 1


def test_a_holiday_declared_after_acceptance_moves_the_deadline_and_its_check(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.services import calendar

    clock = FakeClock(datetime(2026, 10, 23, 1, 0, tzinfo=UTC))  # Friday 09:00 in Beijing
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.complete(
        svc, desk, cases.start_case(svc, desk, "limited", {})["tasks"][0]["id"], {}
    )
    assert case["deadline"] == "2026-10-30"
    calendar.set_day(svc, users["admin"].user, date(2026, 10, 28), False, "临时休息日")
    assert queries.get_case(svc, auditor, case["id"])["deadline"] == "2026-11-02"

    def overdue() -> list[Any]:
        return [e for e in queries.events(svc, auditor, case["id"]) if e["type"] == "case_overdue"]

    clock.now = datetime(2026, 11, 1, 16, 1, tzinfo=UTC)  # Monday 11-02 00:01: the old check
    run_due(svc)
    assert overdue() == []  # finds the deadline moved and schedules the check for the new one
    clock.now = datetime(2026, 11, 2, 16, 1, tzinfo=UTC)  # Tuesday 11-03 00:01
    run_due(svc)
    assert [e["data"]["deadline"] for e in overdue()] == ["2026-11-02"]
