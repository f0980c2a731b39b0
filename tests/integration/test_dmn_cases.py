"""Decision tables through the services, on SQLite and PostgreSQL: a DMN decides a case's route,
and what it decided is in the case data the API shows, whichever step ran it (a start, a
completion, a timer)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Conflict, Invalid
from engine.services import Services, cases, catalogue, publishing, queries
from engine.services.worker import run_due
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.unit.test_dmn import DEPARTMENTS, RISK, ROUTE, business_rule_task, routed_process


def deploy(svc: Services, files: dict[str, bytes | str]) -> dict[str, Any]:
    return publishing.deploy(svc, from_upload("x.zip", bpmn.zipped(dict(files))), "test")


def only_task(view: dict[str, Any], element: str) -> dict[str, Any]:
    assert [t["element"] for t in view["tasks"]] == [element], view["tasks"]
    return dict(view["tasks"][0])


@pytest.mark.parametrize(
    ("form", "route", "branch", "clerk", "decided"),
    [
        (
            {"kind": "food", "area": 600},
            {"route": "inspection", "fee": 300},
            "inspect",
            "inspector",
            {"departments": ["市场监管", "食品安全", "消防"], "risk": "high"},
        ),
        (
            {"kind": "retail", "area": 50},
            {"route": "fast", "fee": 0},
            "fast",
            "front_desk",
            {"departments": ["市场监管"], "risk": "low"},
        ),
    ],
)
def test_a_decision_routes_the_case_and_its_outputs_are_case_data(
    services: Services,
    users: dict[str, Any],
    form: dict[str, Any],
    route: dict[str, Any],
    branch: str,
    clerk: str,
    decided: dict[str, Any],
) -> None:
    deploy(
        services,
        {
            "p.bpmn": routed_process("spiffworkflow"),
            "route.dmn": ROUTE,
            "departments.dmn": DEPARTMENTS,
            "risk.dmn": RISK,
        },
    )
    view = cases.start_case(services, users["front_desk"].user, "p", {"applicant_name": "张三"})
    assert view["data"] == {"applicant_name": "张三"}
    view = cases.complete(services, users["front_desk"].user, only_task(view, "apply")["id"], form)
    assert view["data"] == {"applicant_name": "张三", **form, **route}
    task = only_task(view, branch)
    view = cases.complete(services, users[clerk].user, task["id"], {"opinion": "同意"})
    assert decided.items() <= view["data"].items()
    shown = queries.get_case(services, users["auditor"].user, view["id"])  # GET /cases/ID
    assert shown["data"] == {
        "applicant_name": "张三",
        **form,
        **route,
        "opinion": "同意",
        **decided,
    }
    view = cases.complete(services, users["issuer"].user, only_task(view, "issue")["id"], {})
    assert view["status"] == "completed" and view["outcome"]["element"] == "done"
    events = queries.events(services, users["auditor"].user, view["id"])
    assert [e["type"] for e in events] == ["case_started"] + ["task_completed"] * 3 + [
        "case_completed"
    ]
    from engine.services.audit import replay

    assert replay(services, users["auditor"].user, view["id"])["verified"]  # decisions re-made


def test_a_decision_made_at_start_ends_or_routes_the_case(
    services: Services, users: dict[str, Any]
) -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" />
  {business_rule_task("decide", "route", "camunda")}
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="ok" />
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="refused">
    <bpmn:conditionExpression>route == "refuse"</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="ok" sourceRef="gw" targetRef="t" />
  <bpmn:endEvent id="refused" name="不予受理" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    deploy(services, {"p.bpmn": bpmn.document(body), "route.dmn": ROUTE})
    clerk = users["front_desk"].user
    refused = cases.start_case(services, clerk, "p", {"kind": "hazardous", "area": 3})
    assert refused["status"] == "completed" and refused["outcome"]["element"] == "refused"
    assert refused["data"] == {"kind": "hazardous", "area": 3, "route": "refuse", "fee": 0}
    accepted = cases.start_case(services, clerk, "p", {"kind": "office", "area": 30})
    assert accepted["data"]["route"] == "fast" and only_task(accepted, "t")
    # no rule matches: the outputs are null (as in Camunda), the gateway takes its default
    unmatched = cases.start_case(services, clerk, "p", {"kind": "food", "area": 0})
    assert unmatched["data"]["route"] is None and only_task(unmatched, "t")
    # a cell that cannot be evaluated on the data is the process's fault (no case is made;
    # the administrators are told, engine/services/incidents.py)
    with pytest.raises(Conflict) as err:
        cases.start_case(services, clerk, "p", {"kind": "food", "area": "big"})
    [problem] = err.value.details["errors"]
    assert "决策 'route'" in problem["message"] and problem["element"] == "decide"


def test_a_decision_after_a_timer_reaches_the_case_data(
    services: Services, users: dict[str, Any]
) -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:boundaryEvent id="late" attachedToRef="t">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P10D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="late" targetRef="decide" />
  {business_rule_task("decide", "risk", "spiffworkflow")}
  <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="escalate" />
  <bpmn:userTask id="escalate" name="督办" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f4" sourceRef="escalate" targetRef="e2" /><bpmn:endEvent id="e2" />
  <bpmn:sequenceFlow id="f5" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    deploy(svc, {"p.bpmn": bpmn.document(body), "risk.dmn": RISK})
    case = cases.start_case(svc, users["front_desk"].user, "p", {"area": 800})
    assert "risk" not in case["data"]
    clock.advance(days=10, seconds=1)
    assert run_due(svc) == 1
    shown = queries.get_case(svc, users["auditor"].user, case["id"])
    assert shown["data"] == {"area": 800, "risk": "high"}
    only_task(shown, "escalate")


def test_an_upload_with_a_bad_table_stores_nothing(
    services: Services, users: dict[str, Any]
) -> None:
    bad = ROUTE.replace("&gt; 100", "__import__(&apos;os&apos;).system(&apos;id&apos;)")
    files = {"p.bpmn": routed_process(), "route.dmn": bad, "departments.dmn": DEPARTMENTS}
    with pytest.raises(Invalid) as err:
        deploy(services, {**files, "risk.dmn": RISK})
    assert [(p["element"], p["file"]) for p in err.value.errors] == [("route_r1_in2", "route.dmn")]
    assert catalogue.list_bundles(services, users["designer"].user) == []
