"""Engine-only progress is bounded per case: a loop through a timer stops as an incident an
administrator sees (`lianban incidents`), resumes or cancels; a timer step the engine refuses
does too. On SQLite and PostgreSQL; every case still re-executes to its record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.config import engine_limits
from engine.errors import Conflict, Forbidden
from engine.services import Services, cases, incidents, publishing, queries
from engine.services.audit import replay
from engine.services.worker import run_due
from tests.e2e.server import run_cli
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock

# After 办理, a loop through a timer whose duration comes from the case data (the upload refuses
# a constant "PT0S"), with nobody involved: round and round while `again` holds.
TIMER_LOOP = bpmn.document(
    """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="merge" />
  <bpmn:exclusiveGateway id="merge" />
  <bpmn:sequenceFlow id="f3" sourceRef="merge" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait" name="等待">
    <bpmn:timerEventDefinition><bpmn:timeDuration>pause</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="done" />
  <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="merge">
    <bpmn:conditionExpression>again == True</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="done" sourceRef="gw" targetRef="e" /><bpmn:endEvent id="e" />""",
    process_id="loop",
)

# A timer, then a gateway reading a field the case does not have: the timer step fails.
FAILING_AFTER_TIMER = bpmn.document(
    """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait" name="等待一小时">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="no" />
  <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="e1">
    <bpmn:conditionExpression>missing == 1</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="e2" />
  <bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />""",
    process_id="failing",
)


@pytest.fixture(autouse=True)
def default_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MAX_INSTANCES", "MAX_ENGINE_TASKS", "MIN_TIMER_SECONDS", "TIMER_BUDGET"):
        monkeypatch.delenv(f"LIANBAN_{name}", raising=False)
    engine_limits.cache_clear()
    yield
    engine_limits.cache_clear()


def looping_case(svc: Services, users: dict[str, Any], pause: str = "PT0S") -> int:
    publishing.deploy(svc, from_upload("loop.bpmn", TIMER_LOOP), "test")
    case = cases.start_case(svc, users["front_desk"].user, "loop", {"pause": pause, "again": True})
    cases.complete(svc, users["front_desk"].user, case["tasks"][0]["id"], {})
    return int(case["id"])


def types(svc: Services, users: dict[str, Any], case_id: int) -> list[str]:
    return [e["type"] for e in queries.events(svc, users["auditor"].user, case_id)]


def run_until_stopped(svc: Services, users: dict[str, Any], clock: FakeClock, case_id: int) -> None:
    """Let the worker run, a second at a time, until the case stops."""
    for _ in range(100):
        clock.advance(seconds=1)
        run_due(svc)
        if queries.get_case(svc, users["auditor"].user, case_id)["status"] != "running":
            return
    raise AssertionError("the case never stopped")


def test_a_loop_through_a_zero_timer_stops_as_an_incident_at_the_default_budget(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users)
    assert run_due(svc) == 0  # PT0S, yet not due at once: the minimum interval (1 s)
    run_until_stopped(svc, users, clock, case_id)
    case = queries.get_case(svc, users["auditor"].user, case_id)
    assert case["status"] == "error" and [t["element"] for t in case["tasks"]] == []
    history = queries.events(svc, users["auditor"].user, case_id)
    assert [e["type"] for e in history].count("timer_fired") == 30  # the budget: 30 in 60 s
    incident = history[-1]
    assert incident["type"] == "incident_raised" and incident["actor"] == "system"
    assert incident["element"] == "wait" and incident["data"]["kind"] == "timer_budget"
    assert "60 秒内定时触发已达 30 次" in incident["data"]["reason"]
    assert replay(svc, None, case_id)["verified"]
    # while in error its timer jobs do nothing
    clock.advance(minutes=10)
    assert run_due(svc) == 0
    assert types(svc, users, case_id)[-1] == "incident_raised"


def test_an_administrator_lists_resumes_and_cancels_incidents_with_the_command(
    services: Services, users: dict[str, Any], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANBAN_TIMER_BUDGET", "3/60")  # also for the commands run below
    engine_limits.cache_clear()
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users)
    run_until_stopped(svc, users, clock, case_id)
    assert types(svc, users, case_id).count("timer_fired") == 3

    listed = run_cli("incidents", db_url=db_url)
    assert listed.returncode == 0, listed.stderr
    assert str(case_id) in listed.stdout and "60 秒内定时触发已达 3 次" in listed.stdout
    assert "loop 第 1 版" in listed.stdout and "(wait)" in listed.stdout
    assert "共 1 个出错的办件" in listed.stderr

    resumed = run_cli("incidents", "resume", str(case_id), db_url=db_url)
    assert resumed.returncode == 0, resumed.stderr
    assert "已恢复办理 (重新安排 1 个定时器)" in resumed.stdout
    assert queries.get_case(svc, users["auditor"].user, case_id)["status"] == "running"
    clock.now = datetime.now(UTC) + timedelta(seconds=2)  # the command ran on the wall clock
    assert run_due(svc) == 1  # the loop goes on, its budget counted afresh
    assert types(svc, users, case_id)[-2:] == ["incident_resumed", "timer_fired"]
    # a running case is no incident to resume or cancel
    with pytest.raises(Conflict, match="不是出错"):
        incidents.resume(svc, users["admin"].user, case_id)
    not_stopped = run_cli("incidents", "cancel", str(case_id), "--reason", "x", db_url=db_url)
    assert not_stopped.returncode == 1 and "不是出错" in not_stopped.stderr

    run_until_stopped(svc, users, clock, case_id)
    after = types(svc, users, case_id)
    assert after[after.index("incident_resumed") :].count("timer_fired") == 3
    assert after[-1] == "incident_raised"
    cancelled = run_cli(
        "incidents", "cancel", str(case_id), "--reason", "循环配置错误", db_url=db_url
    )
    assert cancelled.returncode == 0, cancelled.stderr
    final = queries.get_case(svc, users["auditor"].user, case_id)
    assert final["status"] == "cancelled" and final["tasks"] == []
    assert types(svc, users, case_id)[-1] == "case_cancelled"
    assert incidents.list_incidents(svc, users["admin"].user) == []
    assert replay(svc, None, case_id)["verified"]
    # both events as the API gives them match docs/openapi.yaml
    from tests.e2e.test_openapi import assert_matches
    from web import create_app

    client = create_app({"SERVICES": svc, "TESTING": True}).test_client()
    response = client.get(f"/api/v1/cases/{case_id}/events", headers=users["auditor"].headers)
    events = assert_matches(response, "/cases/{case_id}/events", "get")["events"]
    assert {"incident_raised", "incident_resumed"} <= {e["type"] for e in events}


def test_the_budget_is_a_rate_a_slow_loop_runs_on(
    services: Services, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANBAN_TIMER_BUDGET", "5/60")
    engine_limits.cache_clear()
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users, pause="PT12S")
    for _ in range(12):  # about 4.6 a minute: under the budget of 5 a minute, for ever
        clock.advance(seconds=13)
        assert run_due(svc) == 1
    assert queries.get_case(svc, users["auditor"].user, case_id)["status"] == "running"
    assert types(svc, users, case_id).count("timer_fired") == 12
    assert replay(svc, None, case_id)["verified"]


def test_a_timer_step_the_engine_refuses_stops_the_case_as_an_incident(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("failing.bpmn", FAILING_AFTER_TIMER), "test")
    case = cases.start_case(svc, users["front_desk"].user, "failing", {})
    cases.complete(svc, users["front_desk"].user, case["tasks"][0]["id"], {})
    clock.advance(hours=1, seconds=1)
    assert run_due(svc) == 1  # one attempt, no retries: the job is done, the case stopped
    clock.advance(minutes=5)
    assert run_due(svc) == 0
    stopped = queries.get_case(svc, users["auditor"].user, case["id"])
    assert stopped["status"] == "error"
    incident = queries.events(svc, users["auditor"].user, case["id"])[-1]
    assert incident["type"] == "incident_raised" and incident["data"]["kind"] == "step_refused"
    assert "missing" in incident["data"]["reason"] and incident["element"] == "gw"
    assert replay(svc, None, case["id"])["verified"]
    listed = incidents.list_incidents(svc, users["admin"].user)
    assert [(i["case_id"], i["element"]) for i in listed] == [(case["id"], "gw")]


def test_only_administrators_handle_incidents(services: Services, users: dict[str, Any]) -> None:
    for name in ("front_desk", "auditor", "designer"):
        if name == "designer":  # designers see incidents (they fix the process), never act
            assert incidents.list_incidents(services, users[name].user) == []
        else:
            with pytest.raises(Forbidden):
                incidents.list_incidents(services, users[name].user)
        with pytest.raises(Forbidden):
            incidents.resume(services, users[name].user, 1)
    with pytest.raises(Forbidden):
        incidents.cancel(services, users["front_desk"].user, 1, "x")


def test_a_multi_instance_above_the_limit_is_a_422_that_changes_nothing(
    services: Services, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.errors import Invalid

    monkeypatch.setenv("LIANBAN_MAX_INSTANCES", "3")
    engine_limits.cache_clear()
    publishing.deploy(
        services,
        from_upload(
            "mi.bpmn",
            bpmn.document(
                """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="登记" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="mi" />
  <bpmn:userTask id="mi" name="会审" camunda:candidateGroups="front_desk">
    <bpmn:multiInstanceLoopCharacteristics>
      <bpmn:loopCardinality>reviewers</bpmn:loopCardinality>
    </bpmn:multiInstanceLoopCharacteristics>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="mi" targetRef="e" /><bpmn:endEvent id="e" />""",
                "review",
            ),
        ),
        "test",
    )
    clerk = users["front_desk"].user
    case = cases.start_case(services, clerk, "review", {})
    before = queries.events(services, users["auditor"].user, case["id"])
    with pytest.raises(Invalid) as err:
        cases.complete(services, clerk, case["tasks"][0]["id"], {"reviewers": 100000})
    assert err.value.details["errors"][0]["element"] == "mi"
    assert err.value.details["errors"][0]["message"].endswith("超过上限 3")
    assert "多实例数量 100000 超过上限 3" in err.value.message
    assert queries.events(services, users["auditor"].user, case["id"]) == before
    after = queries.get_case(services, users["auditor"].user, case["id"])
    assert after["status"] == "running" and [t["element"] for t in after["tasks"]] == ["t"]
    done = cases.complete(services, clerk, case["tasks"][0]["id"], {"reviewers": 3})
    assert [t["element"] for t in done["tasks"]] == ["mi", "mi", "mi"]
    assert replay(services, None, case["id"])["verified"]


def test_a_zero_timer_is_scheduled_the_minimum_interval_after_its_step(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users)
    with svc.uow() as uow:
        assert [k for k, _, _ in uow.jobs.for_case(case_id)] == ["timer"]
        assert uow.jobs.next_due() == clock.now + timedelta(seconds=1)  # the engine says now
    clock.advance(seconds=0.5)
    assert run_due(svc) == 0
    clock.advance(seconds=0.5)
    assert run_due(svc) == 1
    fired = queries.events(svc, users["auditor"].user, case_id)[-1]
    assert fired["type"] == "timer_fired" and fired["data"]["timers"] == ["wait"]
    assert replay(svc, None, case_id)["verified"]
