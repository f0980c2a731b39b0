"""Durable timers: BPMN timers become jobs, run by workers exactly once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.bundles.source import from_upload
from engine.domain.jobs import JobStatus
from engine.persistence.tables import jobs
from engine.services import Services, cases, publishing, queries
from engine.services.worker import run_due
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.fixtures.concurrency import simultaneously
from tests.processes.test_constructs import BOUNDARY_TIMER


def deploy_timer_bundle(svc: Services) -> None:
    publishing.deploy(svc, from_upload("timer.bpmn", BOUNDARY_TIMER), "test")


def test_a_due_timer_fires_once_on_the_injected_clock(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    deploy_timer_bundle(svc)
    case = cases.start_case(svc, users["front_desk"].user, "p", {})
    with svc.uow() as uow:
        assert [(k, s) for k, _, s in uow.jobs.for_case(case["id"])] == [("timer", "pending")]
    clock.advance(days=9)
    assert run_due(svc) == 0
    clock.advance(days=1, seconds=1)
    assert run_due(svc) == 1
    assert run_due(svc) == 0
    final = queries.get_case(svc, users["auditor"].user, case["id"])
    assert final["status"] == "completed" and final["tasks"] == []
    events = queries.events(svc, users["auditor"].user, case["id"])
    fired = [e for e in events if e["type"] == "timer_fired"]
    assert (
        len(fired) == 1 and fired[0]["actor"] == "system" and fired[0]["data"]["timers"] == ["late"]
    )
    assert events[-1]["type"] == "case_completed"
    from engine.services.audit import replay

    assert replay(svc, None, case["id"])["verified"]


def test_a_timer_whose_task_finished_first_does_nothing(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    deploy_timer_bundle(svc)
    case = cases.start_case(svc, users["front_desk"].user, "p", {})
    cases.complete(svc, users["front_desk"].user, case["tasks"][0]["id"], {})
    clock.advance(days=11)
    assert run_due(svc) == 1  # the job runs, finds nothing waiting, and is done
    events = queries.events(svc, users["auditor"].user, case["id"])
    assert [e["type"] for e in events] == ["case_started", "task_completed", "case_completed"]


def test_two_workers_racing_run_each_due_job_exactly_once(
    services: Services, users: dict[str, Any], db_url: str
) -> None:
    from engine.persistence.db import make_engine

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    deploy_timer_bundle(svc)
    ids = [cases.start_case(svc, users["front_desk"].user, "p", {"n": n})["id"] for n in range(30)]
    clock.advance(days=10, seconds=1)
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        workers = [Services(e, clock=clock) for e in engines]
        counts = simultaneously(*(lambda w=w: run_due(w) for w in workers))
    finally:
        for e in engines:
            e.dispose()
    assert all(isinstance(c, int) for c in counts), counts
    assert sum(counts) == 30
    for case_id in ids:
        events = queries.events(svc, users["auditor"].user, case_id)
        assert [e["type"] for e in events].count("timer_fired") == 1
    with svc.uow() as uow:
        assert uow.jobs.next_due() is None


def test_a_failing_job_is_retried_later_and_then_given_up(services: Services) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    with svc.uow(write=True) as uow:
        uow.jobs.schedule("no-such-kind", "k", clock.now, clock.now)
        uow.commit()
    for _ in range(5):
        assert run_due(svc) == 1
        clock.advance(seconds=64)
    assert run_due(svc) == 0
    with svc.engine.connect() as conn:
        row = conn.execute(select(jobs)).one()
    assert row.status == JobStatus.FAILED and row.attempts == 5 and "no handler" in row.last_error
    assert clock.now - timedelta(seconds=5 * 64) < row.due_at


WORKDAY_TIMER = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:boundaryEvent id="late" attachedToRef="t">
    <bpmn:timerEventDefinition><bpmn:timeDuration>workdays(5)</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated" /><bpmn:endEvent id="escalated" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")


def test_a_working_day_timer_skips_the_national_day_holiday(
    services: Services, users: dict[str, Any]
) -> None:
    # Monday 2026-09-28, 10:00 in Beijing: five working days on is Saturday 10-10 (调休).
    clock = FakeClock(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("wd.bpmn", WORKDAY_TIMER), "test")
    case = cases.start_case(svc, users["front_desk"].user, "p", {})
    with svc.uow() as uow:
        [job] = [j for j in uow.jobs.for_case(case["id"]) if j[0] == "timer"]
    due = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
    clock.now = due - timedelta(seconds=1)
    assert run_due(svc) == 0
    clock.now = due + timedelta(seconds=1)
    assert run_due(svc) == 1
    assert (
        queries.get_case(svc, users["auditor"].user, case["id"])["outcome"]["element"]
        == "escalated"
    )


def test_a_job_is_scheduled_once_per_kind_and_key_the_first_one_staying(
    services: Services, db_url: str
) -> None:
    """Scheduling writes no row when one of the same kind and key exists: scheduled earlier in
    the same transaction, committed before, or committed by a racing transaction meanwhile
    (one INSERT ... ON CONFLICT DO NOTHING; the racing one neither fails nor overwrites)."""
    from engine.persistence.db import make_engine

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    later = clock.now + timedelta(days=1)
    with svc.uow(write=True) as uow:
        uow.jobs.schedule("notify", "a", clock.now, clock.now, payload={"n": 1})
        uow.jobs.schedule("notify", "a", later, clock.now, payload={"n": 2})
        uow.jobs.schedule("notify", "b", later, clock.now)
        # a read through the repository sees what this transaction scheduled
        assert uow.jobs.next_due() == clock.now
        uow.commit()
    with svc.uow(write=True) as uow:
        uow.jobs.schedule("notify", "b", clock.now, clock.now, payload={"n": 3})
        uow.jobs.schedule("timer", "a", later, clock.now)  # another kind: its own job
        uow.commit()
    engines = [make_engine(db_url), make_engine(db_url)]
    try:

        def racer(engine: Any, n: int) -> None:
            with Services(engine, clock=clock).uow(write=True) as uow:
                uow.jobs.schedule("notify", "c", clock.now, clock.now, payload={"n": n})
                uow.commit()

        outcomes = simultaneously(*(lambda e=e, n=n: racer(e, n) for n, e in enumerate(engines)))
    finally:
        for e in engines:
            e.dispose()
    assert outcomes == [None, None], outcomes
    with svc.engine.connect() as conn:
        rows = conn.execute(select(jobs).order_by(jobs.c.id)).all()
    assert [(r.kind, r.key) for r in rows] == [
        ("notify", "a"),
        ("notify", "b"),
        ("timer", "a"),
        ("notify", "c"),
    ]
    assert rows[0].payload == {"n": 1} and rows[0].due_at == clock.now
    assert rows[1].payload == {} and rows[1].due_at == later
    assert rows[3].payload in ({"n": 0}, {"n": 1})
