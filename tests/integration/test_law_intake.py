"""Art. 32 of the Administrative Licensing Law on a fake clock: the window answers materials
within 5 working days (受理, 不予受理 or a 补正 notice), or the case counts as accepted from the
day they arrived (engine/services/intake_limit.py, docs/time-limits.md).

Dates (checked with `lianban calendar add`): 中秋 Fri 2026-09-25 is a holiday, 国庆 10-01..10-07,
调休 working days Sun 09-20 and Sat 10-10.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.bundles.source import from_upload
from engine.persistence.tables import jobs as jobs_table
from engine.services import Services, accounts, audit, cases, publishing, queries
from engine.services.worker import run_due
from tests.e2e.test_openapi import component, problems
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock

BEIJING = ZoneInfo("Asia/Shanghai")

# 一窗受理 with its 补正 loop; 受理 is the gateway after it (the clock's `starts_at`)
PROCESS = bpmn.document(
    """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="merge" />
  <bpmn:exclusiveGateway id="merge" />
  <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="intake" />
  <bpmn:userTask id="intake" name="一窗受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f3" sourceRef="intake" targetRef="decide" />
  <bpmn:exclusiveGateway id="decide" name="受理决定" default="refuse" />
  <bpmn:sequenceFlow id="accept" sourceRef="decide" targetRef="accepted">
    <bpmn:conditionExpression>intake_decision == "accept"</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="correct" sourceRef="decide" targetRef="correction">
    <bpmn:conditionExpression>intake_decision == "correct"</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="refuse" sourceRef="decide" targetRef="refused" />
  <bpmn:userTask id="correction" name="申请人补正" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f4" sourceRef="correction" targetRef="merge" />
  <bpmn:exclusiveGateway id="accepted" name="受理" default="f5" />
  <bpmn:sequenceFlow id="f5" sourceRef="accepted" targetRef="review" />
  <bpmn:userTask id="review" name="审查" camunda:candidateGroups="market_regulation" />
  <bpmn:sequenceFlow id="f6" sourceRef="review" targetRef="done" />
  <bpmn:endEvent id="done" name="办结" />
  <bpmn:endEvent id="refused" name="不予受理" />""",
    process_id="intake_law",
    name="受理时限事项",
)


def bundle(key: str, **limits: Any) -> bytes:
    metadata = {
        "key": key,
        "name": "受理时限事项",
        "items": [{"code": "a", "name": "甲证", "statutory_workdays": 20, "promised_workdays": 10}],
        "time_limits": {"starts_at": "accepted", "warning_workdays": 2, **limits},
        "intake": {"element": "intake", "correction_element": "correction"},
    }
    return bpmn.zipped({"p.bpmn": PROCESS, "bundle.json": json.dumps(metadata)})


def local(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Beijing local time, as the UTC instant the fake clock holds."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


ACCEPT = {"intake_decision": "accept"}
CORRECT = {"intake_decision": "correct"}


def setup(services: Services, clock: FakeClock, **limits: Any) -> tuple[Services, Any]:
    svc = Services(services.engine, clock=clock)
    key = "intake_law"
    publishing.deploy(svc, from_upload(f"{key}.zip", bundle(key, **limits)), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    return svc, supervisor


def events_of(svc: Services, auditor: Any, case_id: int) -> list[dict[str, Any]]:
    found = queries.events(svc, auditor, case_id)
    for event in found:  # every event as the spec describes it
        assert problems(event, component("Event")) == [], event
    return found


def intake_task(case: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in case["tasks"] if t["element"] == "intake")


def jobs(svc: Services, case_id: int) -> list[tuple[str, str, datetime]]:
    """The case's Art. 32 jobs, as scheduled: kind, key, due."""
    query = select(jobs_table).where(jobs_table.c.case_id == case_id).order_by(jobs_table.c.id)
    with svc.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(r.kind, r.key, r.due_at) for r in rows if r.kind.startswith("intake_")]


def test_materials_on_the_mid_autumn_holiday_are_deemed_accepted_after_national_day(
    services: Services, users: dict[str, Any]
) -> None:
    """(a) and (c): an online submission on Friday 09-25 (中秋, a holiday). The five working
    days are 09-28, 09-29, 09-30, 10-08 and 10-09: 预警 on day 4 (10-08), nothing on day 5, and
    at 00:00 on the 调休 Saturday 10-10 the case counts as accepted from 09-25."""
    clock = FakeClock(local(9, 25, 10))
    svc, supervisor = setup(services, clock, escalation_group="supervisors")
    desk, auditor = users["front_desk"].user, users["auditor"].user

    case = cases.start_case(svc, desk, "intake_law", {"applicant": "张三"})
    assert case["clock"] == "not_started"
    assert case["intake"] == {
        "received_on": "2026-09-25",
        "deadline": "2026-10-09",
        "remaining_workdays": 5,
        "timeliness": "normal",
        "deemed_accepted": False,
        "deemed_accepted_on": None,
    }
    assert problems(case, component("Case")) == []
    task = intake_task(case)
    assert task["intake_deadline"] == "2026-10-09" and task["intake_remaining_workdays"] == 5
    assert problems(task, component("Task")) == []
    assert [(k, key) for k, key, _ in jobs(svc, case["id"])] == [
        ("intake_warning", task["id"]),
        ("intake_deadline", task["id"]),
    ]

    clock.now = local(10, 7, 12)  # a holiday: still two working days
    assert run_due(svc) == 0
    row = queries.worklist(svc, desk)["tasks"][0]
    assert (row["intake_deadline"], row["intake_remaining_workdays"], row["flag"]) == (
        "2026-10-09",
        2,
        "normal",
    )

    clock.now = local(10, 8, 0, 1)  # day 4: 预警
    assert run_due(svc) == 1
    row = queries.worklist(svc, desk)["tasks"][0]
    assert (row["intake_remaining_workdays"], row["intake_timeliness"], row["flag"]) == (
        1,
        "warning",
        "warning",
    )
    assert problems(row, component("WorklistTask")) == []
    inbox = [m for m in svc_messages(svc, desk.name) if m["kind"] == "warning"]
    assert len(inbox) == 1 and "2026-10-09" in inbox[0]["body"]

    clock.now = local(10, 9, 23, 59)  # day 5, unanswered: not yet
    assert run_due(svc) == 0
    assert queries.get_case(svc, auditor, case["id"])["clock"] == "not_started"

    clock.now = local(10, 10, 0, 0)  # the 调休 Saturday: a working day past the limit
    row = queries.worklist(svc, desk)["tasks"][0]
    assert (row["intake_remaining_workdays"], row["flag"]) == (-1, "overdue")
    assert run_due(svc) >= 1
    case = queries.get_case(svc, auditor, case["id"])
    # the clock started on the day the materials arrived, not later
    assert case["clock"] == "running"
    assert case["time_limit"]["started_on"] == "2026-09-25"
    assert case["time_limit"]["deemed_accepted_on"] == "2026-10-10"
    assert (case["deadline"], case["statutory_deadline"]) == ("2026-10-15", "2026-10-29")
    assert case["remaining_workdays"] == 4  # 10-12 .. 10-15
    assert case["intake"] == {
        "received_on": "2026-09-25",
        "deadline": "2026-10-09",
        "remaining_workdays": None,
        "timeliness": "overdue",
        "deemed_accepted": True,
        "deemed_accepted_on": "2026-10-10",
    }
    assert "intake_deadline" not in intake_task(case)  # the limit no longer runs
    assert problems(case, component("Case")) == []

    found = events_of(svc, auditor, case["id"])
    kinds = [e["type"] for e in found]
    assert kinds == [
        "case_started",
        "intake_warning",
        "intake_deemed_accepted",
        "clock_started",
    ]
    warning, deemed, started = found[1:]
    assert warning["data"] == {
        "received_on": "2026-09-25",
        "intake_deadline": "2026-10-09",
        "remaining_workdays": 1,
    }
    assert warning["task"] == deemed["task"] == task["id"]
    assert deemed["actor"] == "system" and deemed["data"] == {
        "received_on": "2026-09-25",
        "intake_deadline": "2026-10-09",
        "intake_workdays": 5,
    }
    assert started["data"]["deemed"] is True and started["data"]["started_on"] == "2026-09-25"

    # the supervisors are told: a notification to their group and a message to each member
    with svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    assert [(n["kind"], n["recipient"], n["status"]) for n in sent] == [
        ("intake_deemed_accepted", "group:supervisors", "sent")
    ]
    assert "视为受理" in sent[0]["subject"] and "2026-09-25" in sent[0]["body"]
    assert any("视为受理" in m["title"] for m in svc_messages(svc, supervisor.name))
    assert not queries.worklist(svc, supervisor)["tasks"]  # no 督办 task

    # the clerk accepts after all: the clock stays as it was, started once
    clock.now = local(10, 12, 10)
    case = cases.complete(svc, desk, task["id"], ACCEPT)
    assert case["time_limit"]["started_on"] == "2026-09-25" and case["deadline"] == "2026-10-15"
    kinds = [e["type"] for e in events_of(svc, auditor, case["id"])]
    assert kinds.count("clock_started") == 1
    assert audit.replay(svc, auditor, case["id"])["verified"]


def test_a_correction_notice_on_day_5_stops_the_limit_and_a_new_one_counts_from_the_correction(
    services: Services, users: dict[str, Any]
) -> None:
    """(b): materials on Friday 09-18; the five working days are 09-20 (调休 Sunday), 09-21,
    09-22, 09-23 and 09-24. The 补正 notice on 09-24 (day 5) answers them: nothing is deemed.
    The applicant's correction on Monday 09-28 opens the intake again with a fresh limit,
    09-28 + 5 = Saturday 10-10 (调休); accepted on that last day, the clock starts then."""
    clock = FakeClock(local(9, 18, 15))
    svc, _ = setup(services, clock)
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "intake_law", {"applicant": "李四"})
    assert case["intake"]["deadline"] == "2026-09-24"

    clock.now = local(9, 23, 0, 1)  # day 4: 预警
    assert run_due(svc) == 1
    clock.now = local(9, 24, 16, 30)  # day 5: the 补正 notice
    case = cases.complete(svc, desk, intake_task(case)["id"], CORRECT)
    assert case["intake"] is None and case["clock"] == "not_started"  # the applicant owes now

    clock.now = local(9, 28, 0, 1)  # the deadline's check: the intake was answered
    run_due(svc)
    clock.now = local(9, 28, 9, 30)  # the corrected materials arrive
    correction = next(t for t in case["tasks"] if t["element"] == "correction")
    case = cases.complete(svc, desk, correction["id"], {})
    assert case["intake"] is not None
    assert (case["intake"]["received_on"], case["intake"]["deadline"]) == (
        "2026-09-28",
        "2026-10-10",
    )
    assert case["intake"]["remaining_workdays"] == 5
    second = intake_task(case)
    assert [(k, key) for k, key, _ in jobs(svc, case["id"])][-2:] == [
        ("intake_warning", second["id"]),
        ("intake_deadline", second["id"]),
    ]

    clock.now = local(10, 9, 0, 1)  # 预警 for the new limit (10-09, one working day left)
    run_due(svc)
    clock.now = local(10, 10, 17)  # accepted on the last day
    case = cases.complete(svc, desk, second["id"], ACCEPT)
    assert case["clock"] == "running" and case["time_limit"]["started_on"] == "2026-10-10"
    assert case["time_limit"]["deemed_accepted_on"] is None and case["intake"] is None

    clock.now = local(10, 12, 0, 1)  # the new limit's check: answered in time
    run_due(svc)
    found = events_of(svc, auditor, case["id"])
    kinds = [e["type"] for e in found]
    assert "intake_deemed_accepted" not in kinds
    warnings = [e for e in found if e["type"] == "intake_warning"]
    assert [(w["data"]["intake_deadline"], w["data"]["remaining_workdays"]) for w in warnings] == [
        ("2026-09-24", 1),
        ("2026-10-10", 1),
    ]
    assert kinds.count("clock_started") == 1
    assert audit.replay(svc, auditor, case["id"])["verified"]


def test_same_day_intake_and_a_late_correction_notice_after_deemed_acceptance(
    services: Services, users: dict[str, Any]
) -> None:
    """(d): `intake_workdays: 0` (当场受理). Materials at 16:00 on Monday 09-28, unanswered that
    day: no 预警 (a margin before the day itself), deemed accepted at 00:00 on 09-29 from 09-28.
    Without a supervisor group the intake task's group is notified. A 补正 notice after that is
    recorded, but the clock keeps running; the corrected materials bring no new limit."""
    clock = FakeClock(local(9, 28, 16))
    svc, _ = setup(services, clock, intake_workdays=0)
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "intake_law", {"applicant": "王五"})
    assert case["intake"]["deadline"] == "2026-09-28"
    assert case["intake"]["remaining_workdays"] == 0 and case["intake"]["timeliness"] == "warning"
    assert [k for k, _, _ in jobs(svc, case["id"])] == ["intake_deadline"]

    clock.now = local(9, 28, 23, 59)
    assert run_due(svc) == 0
    clock.now = local(9, 29, 0, 1)
    assert run_due(svc) >= 1
    case = queries.get_case(svc, auditor, case["id"])
    assert case["time_limit"]["started_on"] == "2026-09-28"
    assert case["time_limit"]["deemed_accepted_on"] == "2026-09-29"
    assert case["deadline"] == "2026-10-16"  # 09-28 + 10 working days
    with svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    assert [n["recipient"] for n in sent] == ["group:front_desk"]

    clock.now = local(9, 29, 10)  # a late 补正 notice: allowed, the clock runs on
    case = cases.complete(svc, desk, intake_task(case)["id"], CORRECT)
    assert case["clock"] == "running" and case["intake"]["deemed_accepted"] is True
    clock.now = local(9, 30, 10)
    correction = next(t for t in case["tasks"] if t["element"] == "correction")
    case = cases.complete(svc, desk, correction["id"], {})
    assert "intake_deadline" not in intake_task(case)
    assert [k for k, _, _ in jobs(svc, case["id"])] == ["intake_deadline"]  # nothing new
    case = cases.complete(svc, desk, intake_task(case)["id"], ACCEPT)
    assert case["time_limit"]["started_on"] == "2026-09-28"
    kinds = [e["type"] for e in events_of(svc, auditor, case["id"])]
    assert kinds.count("clock_started") == 1 and kinds.count("intake_deemed_accepted") == 1
    assert audit.replay(svc, auditor, case["id"])["verified"]


def test_a_case_refused_in_time_is_never_deemed(services: Services, users: dict[str, Any]) -> None:
    clock = FakeClock(local(9, 28, 9))
    svc, _ = setup(services, clock)
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "intake_law", {})
    clock.now = local(9, 29, 9)
    case = cases.complete(svc, desk, intake_task(case)["id"], {"intake_decision": "refuse"})
    assert case["status"] == "completed" and case["intake"] is None
    clock.now = local(10, 12, 9)
    run_due(svc)
    kinds = [e["type"] for e in events_of(svc, auditor, case["id"])]
    assert "intake_deemed_accepted" not in kinds and "intake_warning" not in kinds


def svc_messages(svc: Services, user_name: str) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return [dict(r._mapping) for r in uow.messages.for_user(user_name, 100)]
