"""A clerk's step the process cannot carry out (here a gateway reading a misspelled field,
`sells_coldchain`) stops the case as an incident instead of telling the clerk the form is wrong:
the case stays as it was, the administrators and designers see why, and an administrator
retries the step (after correcting the data) or moves the case to a fixed version, which the
audit re-executes. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from engine.bundles.source import from_upload
from engine.errors import Conflict, Forbidden, Invalid
from engine.persistence.tables import cases as cases_table
from engine.services import Services, audit, cases, incidents, publishing, queries, recovery
from tests.fixtures import bpmn

MESSAGE = "此办件流程出错, 已通知管理员"


def shop(condition: str, intake: str = "intake") -> bytes:
    """受理 (no form), then a gateway on cold-chain sales: 药品冷链审查 or straight to the end."""
    return bpmn.document(
        f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="{intake}" />
  <bpmn:userTask id="{intake}" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="{intake}" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" name="冷链?" default="plain" />
  <bpmn:sequenceFlow id="cold" sourceRef="gw" targetRef="drug_review">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:userTask id="drug_review" name="药品冷链审查" camunda:candidateGroups="food_safety" />
  <bpmn:sequenceFlow id="f3" sourceRef="drug_review" targetRef="done" />
  <bpmn:endEvent id="done" name="审查后办结" />
  <bpmn:sequenceFlow id="plain" sourceRef="gw" targetRef="end" /><bpmn:endEvent id="end" />""",
        process_id="shop",
        name="药店许可",
    )


MISSPELLED = shop("sells_coldchain == True")
FIXED = shop("sells_cold_chain == True")


def stuck_case(svc: Services, users: dict[str, Any]) -> tuple[int, str]:
    """A case whose 受理 was completed and failed: (case id, the 受理 task id)."""
    publishing.deploy(svc, from_upload("shop.bpmn", MISSPELLED), "test")
    desk = users["front_desk"].user
    case = cases.start_case(svc, desk, "shop", {"sells_cold_chain": True})
    task = case["tasks"][0]["id"]
    with pytest.raises(Conflict) as refused:
        cases.complete(svc, desk, task, {"opinion": "材料齐全"})
    assert refused.value.message == MESSAGE
    return int(case["id"]), task


def events(svc: Services, users: dict[str, Any], case_id: int) -> list[dict[str, Any]]:
    """The case's events, each as docs/openapi.yaml describes an event."""
    from tests.e2e.test_openapi import component, problems

    found = queries.events(svc, users["auditor"].user, case_id)
    for event in found:
        assert problems(event, component("Event")) == [], event
    return found


def test_an_engine_failure_is_an_incident_and_the_case_stays_as_it_was(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    publishing.deploy(services, from_upload("shop.bpmn", MISSPELLED), "test")
    desk = users["front_desk"].user
    started = cases.start_case(services, desk, "shop", {"sells_cold_chain": True})
    task = started["tasks"][0]["id"]
    before = events(services, users, started["id"])
    answer = client.post(
        f"/api/v1/tasks/{task}/complete",
        json={"data": {"opinion": "材料齐全"}},
        headers=users["front_desk"].headers,
    )
    assert answer.status_code == 409 and answer.get_json()["error"] == MESSAGE
    [where] = answer.get_json()["errors"]  # the element and the reason, in Chinese
    assert where["element"] == "gw" and "未定义" in where["message"]
    case = queries.get_case(services, users["auditor"].user, started["id"])
    assert case["status"] == "error"
    assert [t["id"] for t in case["tasks"]] == [task]  # the task still open
    assert case["data"] == {"sells_cold_chain": True}  # the submission not kept
    history = events(services, users, started["id"])
    assert history[: len(before)] == before and len(history) == len(before) + 1
    raised = history[-1]
    assert raised["type"] == "incident_raised" and raised["actor"] == "system"
    assert raised["element"] == "gw"
    data = raised["data"]
    assert data["kind"] == "expression" and data["task_id"] == task
    assert data["task_element"] == "intake" and data["clerk"] == "front_desk"
    assert data["form"] == {"opinion": "材料齐全"}
    assert data["expression"] == "sells_coldchain == True"
    assert data["reads"] == {"sells_coldchain": None} and data["missing"] == ["sells_coldchain"]
    assert "sells_coldchain" in data["reason"]
    assert audit.replay(services, None, started["id"])["verified"]
    # the clerk can do nothing more with it; the administrators were told
    again = client.post(
        f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=users["front_desk"].headers
    )
    assert again.status_code == 409
    with services.uow() as uow:
        row = uow.notifications.get(1)
    assert row is not None and row.recipient == incidents.ADMINS and "出错" in row.subject


def test_form_errors_stay_form_errors(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from tests.fixtures.restaurant import APPLICATION

    case = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    with pytest.raises(Invalid):
        cases.complete(
            services, users["front_desk"].user, case["tasks"][0]["id"], {"intake_decision": "x"}
        )
    assert queries.get_case(services, users["auditor"].user, case["id"])["status"] == "running"


def test_administrators_and_designers_see_the_incident_with_its_data(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case_id, task = stuck_case(services, users)
    for who in ("admin", "designer"):
        listed = client.get("/api/v1/incidents", headers=users[who].headers)
        assert listed.status_code == 200
        [incident] = listed.get_json()["incidents"]
        assert incident["case_id"] == case_id and incident["element"] == "gw"
        assert incident["kind"] == "expression" and incident["task_id"] == task
        assert incident["reads"] == {"sells_coldchain": None}
        assert incident["data"] == {"sells_cold_chain": True}
        assert incident["form"] == {"opinion": "材料齐全"} and incident["retriable"]
    assert client.get("/api/v1/incidents", headers=users["front_desk"].headers).status_code == 403
    # designers look; only administrators act
    refused = client.post(
        f"/api/v1/cases/{case_id}/retry", json={}, headers=users["designer"].headers
    )
    assert refused.status_code == 403


def test_a_retry_that_fails_again_keeps_the_case_in_error(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case_id, _ = stuck_case(services, users)
    answer = client.post(f"/api/v1/cases/{case_id}/retry", headers=users["admin"].headers)
    assert answer.status_code == 409 and "sells_coldchain" in answer.get_json()["error"]
    history = events(services, users, case_id)
    assert [e["type"] for e in history].count("incident_raised") == 2
    assert history[-1]["data"]["retried_by"] == "admin"
    assert queries.get_case(services, users["auditor"].user, case_id)["status"] == "error"
    assert audit.replay(services, None, case_id)["verified"]


def test_the_administrator_corrects_the_data_and_retries(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case_id, task = stuck_case(services, users)
    with pytest.raises(Forbidden):
        recovery.correct_data(services, users["designer"].user, case_id, {"sells_coldchain": 1})
    corrected = client.post(
        f"/api/v1/cases/{case_id}/correct-data",
        json={"data": {"sells_coldchain": True}},
        headers=users["admin"].headers,
    )
    assert corrected.status_code == 200 and corrected.get_json()["changed"] == ["sells_coldchain"]
    done = client.post(f"/api/v1/cases/{case_id}/retry", headers=users["admin"].headers)
    assert done.status_code == 200, done.get_json()
    case = done.get_json()
    assert case["status"] == "running"
    assert [t["element"] for t in case["tasks"]] == ["drug_review"]
    history = events(services, users, case_id)
    kinds = [e["type"] for e in history]
    assert kinds[-4:] == [
        "incident_raised",
        "case_data_corrected",
        "task_completed",
        "incident_resumed",
    ]
    fix = history[-3]["data"]["fields"]
    assert fix == {"sells_coldchain": {"old": None, "new": True}}
    completed = history[-2]
    assert completed["actor"] == "admin" and completed["task"] == task
    assert completed["data"]["retry"] == {"by": "admin", "for": "front_desk", "note": "代为重试"}
    assert completed["data"]["form"] == {"opinion": "材料齐全"}
    assert audit.replay(services, None, case_id)["verified"]
    finished = cases.complete(services, users["food_reviewer"].user, case["tasks"][0]["id"], {})
    assert finished["status"] == "completed" and finished["outcome"]["element"] == "done"
    assert audit.replay(services, None, case_id)["verified"]


def test_a_retry_with_corrected_values_of_the_form(
    services: Services, users: dict[str, Any]
) -> None:
    case_id, _ = stuck_case(services, users)
    admin = users["admin"].user
    with pytest.raises(Invalid):  # checked like the clerk's: not JSON object
        recovery.retry(services, admin, case_id, ["sells_coldchain"])
    case = recovery.retry(services, admin, case_id, {"sells_coldchain": False})
    assert case["status"] == "completed" and case["outcome"]["element"] == "end"
    assert case["data"]["opinion"] == "材料齐全" and case["data"]["sells_coldchain"] is False
    assert audit.replay(services, None, case_id)["verified"]
    with pytest.raises(Conflict):  # no longer in error
        recovery.retry(services, admin, case_id)


def test_a_fixed_version_is_published_and_the_case_moves_to_it(
    services: Services, users: dict[str, Any], client: Any, db_url: str
) -> None:
    case_id, task = stuck_case(services, users)
    publishing.deploy(services, from_upload("shop.bpmn", FIXED), "test")
    url = f"/api/v1/cases/{case_id}/migrate"
    admin = users["admin"].headers
    check = client.post(url, json={"version": 2, "check": True}, headers=admin)
    assert check.status_code == 200, check.get_json()
    plan = check.get_json()
    assert plan["ok"] and plan["problems"] == []
    assert [(a["element"], a["kind"], a["state"]) for a in plan["active"]] == [
        ("intake", "UserTask", "ready")
    ]
    assert queries.get_case(services, users["auditor"].user, case_id)["version"] == 1
    moved = client.post(url, json={"version": 2}, headers=admin)
    assert moved.status_code == 200, moved.get_json()
    case = moved.get_json()
    assert case["status"] == "running" and case["version"] == 2
    assert [t["id"] for t in case["tasks"]] == [task]  # the same task, on the new version
    last = events(services, users, case_id)[-1]
    assert last["type"] == "case_migrated" and last["actor"] == "admin"
    assert last["data"]["from"]["version"] == 1 and last["data"]["to"]["version"] == 2
    assert last["data"]["mapping"] == {}
    verdict = audit.replay(services, None, case_id)
    assert verdict["verified"], verdict
    desk, food = users["front_desk"].user, users["food_reviewer"].user
    case = cases.complete(services, desk, task, {"opinion": "材料齐全"})
    assert [t["element"] for t in case["tasks"]] == ["drug_review"]
    case = cases.complete(services, food, case["tasks"][0]["id"], {})
    assert case["status"] == "completed" and case["outcome"]["element"] == "done"
    assert audit.replay(services, None, case_id)["verified"]
    step = audit.state_at(
        services, users["auditor"].user, case_id, len(events(services, users, case_id))
    )
    assert step["matches_record"]
    # a stored state that is not what the events lead to is caught
    with services.engine.begin() as conn:
        conn.execute(
            update(cases_table)
            .where(cases_table.c.id == case_id)
            .values(data={"sells_cold_chain": False})
        )
    assert not audit.replay(services, None, case_id)["verified"]


def test_a_mapping_is_checked_before_it_is_applied(
    services: Services, users: dict[str, Any]
) -> None:
    case_id, task = stuck_case(services, users)
    publishing.deploy(
        services, from_upload("shop.bpmn", shop("sells_cold_chain == True", "accept")), "test"
    )
    admin = users["admin"].user
    plan = recovery.check_migration(services, admin, case_id, 2)
    assert not plan["ok"]
    assert [p["element"] for p in plan["problems"]] == ["intake"]
    assert "第 2 版没有环节 intake" in plan["problems"][0]["message"]
    with pytest.raises(Invalid) as refused:
        recovery.migrate(services, admin, case_id, 2)
    assert "intake" in refused.value.message
    wrong_kind = recovery.check_migration(services, admin, case_id, 2, {"intake": "gw"})
    assert "排他网关" in wrong_kind["problems"][0]["message"]
    unknown = recovery.check_migration(services, admin, case_id, 2, {"nowhere": "accept"})
    assert any(p["element"] == "nowhere" for p in unknown["problems"])
    with pytest.raises(Invalid):
        recovery.check_migration(services, admin, case_id, "2")
    assert queries.get_case(services, users["auditor"].user, case_id)["status"] == "error"
    # with the renamed task mapped it moves; the open task now runs the new element
    case = recovery.migrate(services, admin, case_id, 2, {"intake": "accept"})
    assert [(t["id"], t["element"]) for t in case["tasks"]] == [(task, "accept")]
    worklist = queries.get_task(services, users["front_desk"].user, task)
    assert worklist["element"] == "accept"
    assert audit.replay(services, None, case_id)["verified"]
    done = cases.complete(services, users["front_desk"].user, task, {})
    assert [t["element"] for t in done["tasks"]] == ["drug_review"]
    assert audit.replay(services, None, case_id)["verified"]


def test_a_discarded_or_draft_version_is_no_target(
    services: Services, users: dict[str, Any]
) -> None:
    case_id, _ = stuck_case(services, users)
    publishing.deploy(services, from_upload("shop.bpmn", FIXED), "test", publish=False)
    plan = recovery.check_migration(services, users["admin"].user, case_id, 2)
    assert not plan["ok"] and "须已发布" in plan["problems"][0]["message"]
    with pytest.raises(Conflict):
        recovery.check_migration(services, users["admin"].user, case_id, 1)


def test_a_start_that_fails_in_the_process_makes_no_case_and_tells_the_administrators(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    """The start's own first gateway fails: there is no case to stop (nothing to retry from,
    and the applicant is still at the window), so nothing is kept, the clerk gets 409 with a
    message that is not a form error, and the administrators are notified."""
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="plain" />
  <bpmn:sequenceFlow id="cold" sourceRef="gw" targetRef="t">
    <bpmn:conditionExpression>sells_coldchain == True</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:userTask id="t" name="审查" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
  <bpmn:sequenceFlow id="plain" sourceRef="gw" targetRef="e" /><bpmn:endEvent id="e" />"""
    publishing.deploy(services, from_upload("p.bpmn", bpmn.document(body, "early")), "test")
    answer = client.post(
        "/api/v1/cases",
        json={"bundle": "early", "data": {"sells_cold_chain": True}},
        headers=users["front_desk"].headers,
    )
    assert answer.status_code == 409, answer.get_json()
    refused = answer.get_json()
    assert refused["error"] == incidents.START_MESSAGE
    assert refused["errors"][0]["element"] == "gw"
    with services.uow() as uow:
        assert uow.cases.ids() == []
        row = uow.notifications.get(1)
    assert row is not None and row.recipient == incidents.ADMINS and row.case_id is None
    assert "sells_coldchain == True" in row.body and "early" in row.subject


def test_the_commands_retry_and_migrate(
    services: Services, users: dict[str, Any], db_url: str
) -> None:
    from tests.e2e.server import run_cli

    first, _ = stuck_case(services, users)
    listed = run_cli("incidents", db_url=db_url)
    assert listed.returncode == 0 and "(gw)" in listed.stdout and "sells_coldchain" in listed.stdout
    retried = run_cli(
        "incidents", "retry", str(first), "--set", "sells_coldchain=true", db_url=db_url
    )
    assert retried.returncode == 0, retried.stderr
    assert "重试成功" in retried.stdout and "drug_review" in retried.stdout
    second = cases.start_case(services, users["front_desk"].user, "shop", {"sells_cold_chain": 1})
    with pytest.raises(Conflict):
        cases.complete(services, users["front_desk"].user, second["tasks"][0]["id"], {})
    publishing.deploy(services, from_upload("shop.bpmn", shop("x == 1", "accept")), "test")
    refused = run_cli("incidents", "migrate", str(second["id"]), "2", "--check", db_url=db_url)
    assert refused.returncode == 1 and "第 2 版没有环节 intake" in refused.stderr
    checked = run_cli(
        "incidents",
        "migrate",
        str(second["id"]),
        "2",
        "--map",
        "intake=accept",
        "--check",
        db_url=db_url,
    )
    assert checked.returncode == 0 and "检查通过" in checked.stdout, checked.stderr
    assert "当前所在: intake 受理 (用户任务)" in checked.stdout
    moved = run_cli(
        "incidents", "migrate", str(second["id"]), "2", "--map", "intake=accept", db_url=db_url
    )
    assert moved.returncode == 0 and "已迁移到第 2 版" in moved.stdout, moved.stderr
    assert audit.replay(services, None, second["id"])["verified"]


def test_a_case_stopped_at_a_timer_step_moves_to_the_fixed_version_and_its_timer_fires(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.services.worker import run_due
    from tests.fixtures.clock import FakeClock

    def timed(condition: str) -> bytes:
        return bpmn.document(
            f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait" name="公示一小时">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="no" />
  <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="e1">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="e2" />
  <bpmn:endEvent id="e1" name="冷链" /><bpmn:endEvent id="e2" />""",
            "timed",
        )

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("t.bpmn", timed("sells_coldchain == True")), "test")
    desk = users["front_desk"].user
    case = cases.start_case(svc, desk, "timed", {"sells_cold_chain": True})
    cases.complete(svc, desk, case["tasks"][0]["id"], {})
    clock.advance(hours=1, seconds=1)
    assert run_due(svc) == 1
    assert queries.get_case(svc, users["auditor"].user, case["id"])["status"] == "error"
    publishing.deploy(svc, from_upload("t.bpmn", timed("sells_cold_chain == True")), "test")
    plan = recovery.check_migration(svc, users["admin"].user, case["id"], 2)
    assert [(a["element"], a["state"]) for a in plan["active"]] == [("wait", "waiting")]
    clock.advance(minutes=5)
    moved = recovery.migrate(svc, users["admin"].user, case["id"], 2)
    assert moved["status"] == "running" and moved["version"] == 2
    assert audit.replay(svc, None, case["id"])["verified"]
    assert run_due(svc) >= 1  # the timer, due since before the move, fires at once
    done = queries.get_case(svc, users["auditor"].user, case["id"])
    assert done["status"] == "completed" and done["outcome"]["element"] == "e1"
    assert audit.replay(svc, None, case["id"])["verified"]


def test_a_token_waiting_at_a_join_moves_with_the_case(
    services: Services, users: dict[str, Any]
) -> None:
    def parallel(after_join: str) -> bytes:
        return bpmn.document(
            f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="split" />
  <bpmn:parallelGateway id="split" />
  <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="a" />
  <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="b" />
  <bpmn:userTask id="a" name="市场监管审查" camunda:candidateGroups="front_desk" />
  <bpmn:userTask id="b" name="食品安全审查" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="join" />
  <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="join" />
  <bpmn:parallelGateway id="join" />
  {after_join}""",
            "par",
        )

    v1 = parallel(
        '<bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="e" /><bpmn:endEvent id="e" />'
    )
    v2 = parallel(
        """<bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="issue" />
  <bpmn:userTask id="issue" name="发证" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f10" sourceRef="issue" targetRef="e" /><bpmn:endEvent id="e" />"""
    )
    publishing.deploy(services, from_upload("par.bpmn", v1), "test")
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "par", {})
    by_element = {t["element"]: t["id"] for t in case["tasks"]}
    case = cases.complete(services, desk, by_element["a"], {})
    publishing.deploy(services, from_upload("par.bpmn", v2), "test")
    admin = users["admin"].user
    plan = recovery.check_migration(services, admin, case["id"], 2)
    assert plan["ok"], plan["problems"]
    assert [(a["element"], a["state"]) for a in plan["active"]] == [
        ("b", "ready"),
        ("join", "waiting"),
    ]
    moved = recovery.migrate(services, admin, case["id"], 2)  # a running case may move too
    assert [t["id"] for t in moved["tasks"]] == [by_element["b"]]
    assert audit.replay(services, None, case["id"])["verified"]
    case = cases.complete(services, desk, by_element["b"], {})
    assert [t["element"] for t in case["tasks"]] == ["issue"]  # through the join, on v2
    case = cases.complete(services, desk, case["tasks"][0]["id"], {})
    assert case["status"] == "completed"
    assert audit.replay(services, None, case["id"])["verified"]
