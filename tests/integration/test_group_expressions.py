"""Candidate groups written as one expression on the case data (`camunda:candidateGroups=
"${town_group}"`, docs/bundles.md "Groups"): evaluated when the task opens, so each village's or
town's cases reach only its own worklist; a value that is no group name, or no group at all for a
task nobody else may work, refuses the step (422) or stops a timer's step as an incident. Through
the API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.interop.harness import Interop

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="levels" name="三级" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="receive" />
    <bpmn:userTask id="receive" name="村级受理" camunda:candidateGroups="${village_group}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="receive" targetRef="review" />
    <bpmn:userTask id="review" name="乡镇初审"
      camunda:candidateGroups="${town_group}, county_supervisors">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

CASE_A = {"village_group": "village_east", "town_group": "town_north"}
CASE_B = {"village_group": "village_west", "town_group": "town_south"}


def worklist(interop: Interop, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = interop.client.get("/api/v1/tasks", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json()["tasks"])


def refused_start(interop: Interop, data: dict[str, Any]) -> dict[str, Any]:
    answer = interop.client.post(
        "/api/v1/cases", headers=interop.starter, json={"bundle": "levels", "data": data}
    )
    assert answer.status_code == 422, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    assert body["errors"][0]["element"] == "receive", body
    return body


def test_each_case_goes_to_the_groups_its_data_names(interop: Interop) -> None:
    upload = interop.accepted("levels.bpmn", DIAGRAM)
    detail = interop.client.get(
        f"/api/v1/bundles/levels/versions/{upload['version']}", headers=interop.designer
    ).get_json()
    tasks = {t["element"]: t for t in detail["human_tasks"]}
    assert tasks["receive"]["groups"] == ["${village_group}"]  # as written
    assert tasks["review"]["groups"] == ["${town_group}", "county_supervisors"]
    a, b = interop.start("levels", CASE_A), interop.start("levels", CASE_B)
    assert a["tasks"][0]["groups"] == ["village_east"]
    assert b["tasks"][0]["groups"] == ["village_west"]
    east, west = interop.clerk(group="village_east"), interop.clerk(group="village_west")
    assert [t["case_id"] for t in worklist(interop, east)] == [a["id"]]
    assert [t["case_id"] for t in worklist(interop, west)] == [b["id"]]
    # another village's clerk may neither claim nor complete it
    claim = interop.client.post(f"/api/v1/tasks/{a['tasks'][0]['id']}/claim", headers=west)
    assert claim.status_code == 403, claim.get_json()
    assert interop.complete(a["tasks"][0], {}, headers=east).status_code == 200
    review = interop.case(a["id"])["tasks"][0]
    assert review["groups"] == ["town_north", "county_supervisors"]
    assert worklist(interop, interop.clerk(group="town_south")) == []
    assert [t["element"] for t in worklist(interop, interop.clerk(group="town_north"))] == [
        "review"
    ]
    assert interop.complete(review, {}).status_code == 200
    assert interop.case(a["id"])["status"] == "completed"


def test_no_group_or_a_value_that_is_no_group_name_refuses_the_step(interop: Interop) -> None:
    interop.accepted("levels.bpmn", DIAGRAM)
    body = refused_start(interop, {"town_group": "town_north"})
    assert "village_group" in body["error"] and "无人可以办理" in body["error"], body
    refused_start(interop, {"village_group": "  ", "town_group": "t"})
    for bad in (["a", "b"], 3, "a,b", "x" * 101, "${town_group}"):
        body = refused_start(interop, {"village_group": bad, "town_group": "t"})
        assert "办理组 `${village_group}`" in body["error"], body


def test_a_group_expression_beside_a_named_group_may_give_nothing(interop: Interop) -> None:
    interop.accepted("levels.bpmn", DIAGRAM)
    case = interop.start("levels", {"village_group": "village_east"})
    assert interop.complete(case["tasks"][0], {}).status_code == 200
    assert interop.case(case["id"])["tasks"][0]["groups"] == ["county_supervisors"]


def test_group_expressions_outside_the_language_are_refused_at_upload(interop: Interop) -> None:
    bad = DIAGRAM.replace("${village_group}", "${groups.find(village)}")
    [message] = interop.refused("bad.bpmn", bad)
    assert "办理组 `${groups.find(village)}`" in message and "表达式无效" in message
    mixed = DIAGRAM.replace("${village_group}", "village_${code}")
    assert interop.refused("mixed.bpmn", mixed) == [
        "办理组 `village_${code}` 只能是组名, 或整个写成一个表达式 (如 ${town_group}), "
        "不能把表达式嵌在文字中"
    ]


def test_a_timer_opening_a_task_whose_group_finds_nothing_stops_the_case_as_an_incident(
    interop: Interop,
) -> None:
    document = DIAGRAM.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="receive" />',
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
        '<bpmn:intermediateCatchEvent id="wait" name="一天后"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:sequenceFlow id="f0" sourceRef="wait" targetRef="receive" />',
    )
    interop.accepted("levels.bpmn", document)
    case = interop.start("levels", {"town_group": "town_north"})  # no village_group
    assert case["status"] == "running" and case["tasks"] == []
    assert interop.fire_timers(days=2) >= 1
    stopped = interop.case(case["id"])
    assert stopped["status"] == "error" and stopped["tasks"] == []
    events = interop.client.get(f"/api/v1/cases/{case['id']}/events", headers=interop.admin)
    [incident] = [e for e in events.get_json()["events"] if e["type"] == "incident_raised"]
    assert incident["element"] == "receive" and "village_group" in incident["data"]["reason"]
