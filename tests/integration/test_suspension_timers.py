"""挂起 and the worker: a suspended case's timers and deadline checks wait (the jobs run doing
nothing), and on 恢复 those that fell due meanwhile run at the worker's next turn; both
databases, with the real worker loop (`run_due`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, cases, publishing, queries, suspension
from engine.services.audit import replay
from engine.services.worker import run_due
from tests.fixtures.clock import FakeClock
from tests.fixtures.limits import BUNDLE
from tests.processes.test_constructs import BOUNDARY_TIMER

MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def kinds(svc: Services, auditor: Any, case_id: int) -> list[str]:
    return [e["type"] for e in queries.events(svc, auditor, case_id)]


def test_a_timer_waits_while_the_case_is_suspended_and_fires_on_resume(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("timer.bpmn", BOUNDARY_TIMER), "test")
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "p", {})  # the boundary timer is due in ten days
    started = clock.now
    clock.advance(days=2)
    suspension.suspend(svc, desk, case["id"], "等待法院裁定", "court")
    clock.advance(days=9)  # the timer's due time passes while suspended
    assert run_due(svc) == 1  # the job runs and leaves the case alone
    assert run_due(svc) == 0
    assert "timer_fired" not in kinds(svc, auditor, case["id"])
    assert queries.get_case(svc, auditor, case["id"])["status"] == "suspended"

    clock.advance(days=3)
    resumed = suspension.resume(svc, desk, case["id"], "法院已裁定")
    assert resumed["status"] == "running" and len(resumed["tasks"]) == 1
    assert run_due(svc) == 1  # due at once: the timer fires now
    final = queries.get_case(svc, auditor, case["id"])
    assert final["status"] == "completed" and final["outcome"]["element"] == "escalated"
    events = queries.events(svc, auditor, case["id"])
    fired = next(e for e in events if e["type"] == "timer_fired")
    assert datetime.fromisoformat(fired["data"]["due"]) == started + timedelta(days=10)
    assert datetime.fromisoformat(fired["at"]) == clock.now  # after the resume, not at its due
    assert [e["type"] for e in events][-4:] == [
        "case_suspended",
        "case_unsuspended",
        "timer_fired",
        "case_completed",
    ]
    assert replay(svc, None, case["id"])["verified"]


def test_a_timer_not_yet_due_when_resumed_fires_at_its_time(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("timer.bpmn", BOUNDARY_TIMER), "test")
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "p", {})
    suspension.suspend(svc, desk, case["id"], "等待", "other")
    clock.advance(days=3)
    suspension.resume(svc, desk, case["id"])
    assert run_due(svc) == 0  # nothing ran while suspended, nothing is put back
    clock.advance(days=7, seconds=1)
    assert run_due(svc) == 1
    assert queries.get_case(svc, auditor, case["id"])["status"] == "completed"
    assert replay(svc, None, case["id"])["verified"]


def test_deadline_checks_wait_while_suspended_and_run_on_resume(
    services: Services, users: dict[str, Any]
) -> None:
    """A court ruling does not stop the clock: the case passes its deadline while suspended,
    but 超期 and the task's limit are recorded (and 督办 opened) only once it is resumed."""
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    desk, auditor = users["front_desk"].user, users["auditor"].user
    case = cases.start_case(svc, desk, "limited", {})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})  # deadline 10-10; review 09-30
    suspension.suspend(svc, supervisor, case["id"], "等待法院裁定", "court")
    clock.now = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # past both
    assert run_due(svc) >= 3  # warning, deadline, task limit: each ran, doing nothing
    assert run_due(svc) == 0
    found = kinds(svc, auditor, case["id"])
    assert not {"case_warning", "case_overdue", "task_overdue", "supervision_opened"} & set(found)
    assert queries.worklist(svc, supervisor)["tasks"] == []

    suspension.resume(svc, supervisor, case["id"])
    assert run_due(svc) >= 3
    found = kinds(svc, auditor, case["id"])
    assert found.count("case_overdue") == 1 and found.count("task_overdue") == 1
    assert found.count("supervision_opened") == 2
    assert {t["kind"] for t in queries.worklist(svc, supervisor)["tasks"]} == {"supervision"}
    assert run_due(svc) == 0
    assert replay(svc, None, case["id"])["verified"]


def test_a_stopped_clock_gets_checks_for_its_new_deadline(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    desk, auditor = users["front_desk"].user, users["auditor"].user
    admin = users["admin"].user
    case = cases.start_case(svc, desk, "limited", {})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})  # deadline 10-10
    clock.now = datetime(2026, 9, 29, 1, 0, tzinfo=UTC)
    suspension.suspend(svc, admin, case["id"], "检验检测", "testing")  # stops the clock
    clock.now = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)  # past the old deadline
    run_due(svc)
    resumed = suspension.resume(svc, admin, case["id"])
    # waited 09-30, 10-08, 10-09, 10-10 (makeup Saturday), 10-12: five working days
    assert resumed["deadline"] == "2026-10-16" and resumed["timeliness"] == "normal"
    run_due(svc)  # the old checks, put back, find the deadline moved: no 超期
    found = kinds(svc, auditor, case["id"])
    assert "case_overdue" not in found and "case_warning" not in found
    clock.now = datetime(2026, 10, 19, 16, 1, tzinfo=UTC)  # 10-20 00:01 local: past 10-16
    run_due(svc)
    assert kinds(svc, auditor, case["id"]).count("case_overdue") == 1
    assert replay(svc, None, case["id"])["verified"]
