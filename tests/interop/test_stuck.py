"""Diagrams other modelers write that used to be accepted and then got stuck (issue 22): each
file (tests/interop/files/stuck/, written the way the named modeler writes it) is uploaded
through the API and run to the end, or refused at upload saying where. On SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.services import audit

from .harness import Interop

FILES = Path(__file__).parent / "files" / "stuck"


def read(name: str) -> str:
    return (FILES / name).read_text(encoding="utf-8")


def elements(case: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in case["tasks"])


def incidents(interop: Interop, case_id: int) -> list[dict[str, Any]]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    assert answer.status_code == 200, answer.get_json()
    return [e for e in answer.get_json()["events"] if e["type"] == "incident_raised"]


# 1. untyped tasks (bpmn:task)


def test_an_untyped_task_is_passed_through_and_the_upload_says_so(interop: Interop) -> None:
    body = interop.accepted("untyped.bpmn", read("bpmnio_untyped_task.bpmn"))
    assert body["human_tasks"] == ["Activity_review"]
    said = {w["element"]: w["message"] for w in body["warnings"]}
    assert said["Activity_0ab1cd2"] == (
        "任务 '登记' (Activity_0ab1cd2) 没有类型 (bpmn:task), 办件将直接经过它; "
        "如需人工办理请改为用户任务 (它所在的泳道 'window' 不会使它成为人工任务)"
    )
    assert "Activity_1lg9xk2" in said and "'归档'" in said["Activity_1lg9xk2"]
    case = interop.start("untyped_task")
    assert [(t["element"], t["groups"]) for t in case["tasks"]] == [("Activity_review", ["review"])]
    assert interop.run_to_end(case) == ["Activity_review"]  # 归档 passed through too


def test_an_untyped_task_naming_its_people_is_a_human_task(interop: Interop) -> None:
    body = interop.accepted("groups.bpmn", read("camunda_task_with_groups.bpmn"))
    assert body["human_tasks"] == ["Activity_check", "Activity_sign"]
    assert not [w for w in body["warnings"] if "没有类型" in w["message"]]
    case = interop.start("task_with_groups")
    assert [(t["element"], t["groups"]) for t in case["tasks"]] == [("Activity_check", ["window"])]
    done = interop.complete(case["tasks"][0], {})
    assert done.status_code == 200, done.get_json()
    view = interop.case(case["id"])
    assert [(t["element"], t["assignee"]) for t in view["tasks"]] == [("Activity_sign", "chief")]
    assert interop.run_to_end(view) == ["Activity_sign"]


# 2. sequence flows without an id


def test_id_less_flows_are_named_at_upload_and_the_fork_join_runs(interop: Interop) -> None:
    text = read("engine_test_idless_flows.bpmn")
    first = interop.accepted("fork.bpmn", text)
    case = interop.start("idlessForkJoin")
    assert elements(case) == ["receivePayment", "shipOrder"]
    done = interop.run_to_end(case)
    assert sorted(done[:2]) == ["receivePayment", "shipOrder"] and done[2:] == ["archiveOrder"]
    assert audit.replay(interop.services, None, case["id"])["verified"]
    # the same file names its flows the same way: the same version again
    again = interop.upload("fork.bpmn", text).get_json()
    assert again["checksum"] == first["checksum"]
    # the stored version's test run names the flows the engine took
    run = interop.client.post(
        "/api/v1/bundles/test-run",
        headers=interop.designer,
        json={
            "bundle": {"key": "idlessForkJoin"},
            "steps": [{"start": {}}, {"complete": "receivePayment"}],
        },
    )
    assert run.status_code == 200, run.get_json()
    flows = set(run.get_json()["flows"])
    assert flows == {
        "Flow_theStart_fork",
        "Flow_fork_receivePayment",
        "Flow_fork_shipOrder",
        "Flow_receivePayment_join",
    }
    # a draft's test run, from the posted files, names them alike
    draft = interop.client.post(
        "/api/v1/bundles/test-run",
        headers=interop.designer,
        json={"files": {"fork.bpmn": text}, "steps": [{"start": {}}]},
    )
    assert draft.status_code == 200, draft.get_json()
    assert "Flow_theStart_fork" in draft.get_json()["flows"]


# 3. start events with no outgoing flow


@pytest.mark.parametrize(
    ("name", "element", "line"),
    [
        ("bpmnio_subprocess_start_no_outgoing.bpmn", "Event_sub_start", 11),
        ("bpmnio_second_start_no_outgoing.bpmn", "Event_second", 8),
        ("bpmnio_event_subprocess_start_no_outgoing.bpmn", "Event_reminder_start", 18),
        ("bpmnio_start_outgoing_missing_flow.bpmn", "StartEvent_1", 5),
    ],
)
def test_a_start_event_going_nowhere_is_refused_saying_where(
    interop: Interop, name: str, element: str, line: int
) -> None:
    answer = interop.upload(name, read(name))
    assert answer.status_code == 422, answer.get_json()
    found = [e for e in answer.get_json()["errors"] if e["element"] == element]
    assert found, answer.get_json()
    assert "没有出口连线" in found[0]["message"] and found[0]["line"] == line
    assert found[0]["file"] == name


# 4. a boundary timer on a subprocess, due but not yet fired


def test_a_task_completed_after_a_subprocess_timer_fell_due_then_the_timer_fires(
    interop: Interop,
) -> None:
    interop.accepted("timer.bpmn", read("engine_test_subprocess_timer.bpmn"))
    case = interop.start("subprocessTimer")
    interop.clock.advance(hours=2)  # the timer is due; the worker has not been round
    done = interop.complete(case["tasks"][0], {})
    assert done.status_code == 200, done.get_json()
    assert elements(done.get_json()) == ["i2"]
    assert interop.fire_timers(seconds=5) >= 1  # the worker fires it: the subprocess ends
    view = interop.case(case["id"])
    assert elements(view) == ["late"]
    assert interop.run_to_end(view) == ["late"]
    assert interop.case(case["id"])["outcome"]["element"] == "theEnd"
    assert audit.replay(interop.services, None, case["id"])["verified"]  # re-executes alike


def test_a_non_interrupting_subprocess_timer_due_during_a_step(interop: Interop) -> None:
    interop.accepted("timer.bpmn", read("engine_test_subprocess_timer_noninterrupting.bpmn"))
    case = interop.start("subprocessTimerNonInterrupting")
    interop.clock.advance(hours=2)
    done = interop.complete(case["tasks"][0], {})
    assert done.status_code == 200, done.get_json()
    assert elements(done.get_json()) == ["i2"]
    assert interop.fire_timers(seconds=5) >= 1
    view = interop.case(case["id"])
    assert elements(view) == ["i2", "late"]  # the subprocess goes on beside the late task
    # 'after' follows the subprocess once i2 ends it
    assert sorted(interop.run_to_end(view)) == ["after", "i2", "late"]
    assert audit.replay(interop.services, None, case["id"])["verified"]


# 5. a gateway with no way out, data the diagram needs that is missing


def test_a_gateway_none_of_whose_conditions_holds_is_a_422_naming_it(interop: Interop) -> None:
    interop.accepted("check.bpmn", read("camunda_gateway_no_match.bpmn"))
    case = interop.start("check_value")
    task = case["tasks"][0]
    answer = interop.complete(task, {"value": 7})
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["errors"][0]["element"] == "Gateway_CheckValue"
    assert body["error"] == (
        "网关 '数值?' (Gateway_CheckValue) 的出口条件 `${value > 10}`、`${value < 5}` 都不成立, "
        "也没有默认连线, 办件无法继续; 条件读取的数据: value = 7。"
        "请检查填写的数据, 或在流程中为这个网关设一条默认连线"
    )
    view = interop.case(case["id"])  # exactly as it was
    assert view["status"] == "running" and view["data"] == {}
    assert [t["id"] for t in view["tasks"]] == [task["id"]]
    assert incidents(interop, case["id"]) == []
    fixed = interop.complete(view["tasks"][0], {"value": 12})
    assert fixed.status_code == 200, fixed.get_json()
    assert interop.run_to_end(interop.case(case["id"])) == ["Activity_high"]


def test_a_condition_reading_a_missing_field_names_the_gateway(interop: Interop) -> None:
    """A field the case does not have is the process's fault (a misspelled name, say): an
    incident (engine/services/incidents.py), the case as it was but for its status."""
    interop.accepted("check.bpmn", read("camunda_gateway_no_match.bpmn"))
    case = interop.start("check_value")
    task = case["tasks"][0]
    answer = interop.complete(task, {})
    assert answer.status_code == 409, answer.get_json()
    view = interop.case(case["id"])
    assert view["data"] == {} and [t["id"] for t in view["tasks"]] == [task["id"]]
    [raised] = incidents(interop, case["id"])
    assert raised["element"] == "Gateway_CheckValue"
    assert "变量 'value' 未定义" in raised["data"]["reason"]
    assert raised["data"]["missing"] == ["value"]


def test_a_multi_instance_list_missing_is_a_422_naming_the_task(interop: Interop) -> None:
    interop.accepted("sign.bpmn", read("spiffarena_missing_collection.bpmn"))
    case = interop.start("missing_collection")
    task = case["tasks"][0]
    answer = interop.complete(task, {})
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["errors"][0]["element"] == "sign"
    assert body["error"].startswith(
        "多实例任务 '会签' (sign) 需要的列表字段 'signers' 在办件数据中不存在"
    )
    view = interop.case(case["id"])
    assert view["status"] == "running" and view["data"] == {}
    assert [t["id"] for t in view["tasks"]] == [task["id"]]
    fixed = interop.complete(view["tasks"][0], {"signers": ["wang", "li"]})
    assert fixed.status_code == 200, fixed.get_json()
    assert interop.run_to_end(interop.case(case["id"])) == ["sign", "sign"]
