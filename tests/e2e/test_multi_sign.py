"""会签 / 或签 (issue 18 · 4) through the REST API, on SQLite and on PostgreSQL: one task per
signer (a group or a person from the case data), all must approve, a rejection ending a 会签
early, 或签, a vote by ratio, one after another, the cap on instances; each case's record
(every signer's decision and opinion) and its audit replay."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from engine.config import engine_limits
from engine.services import accounts, audit, case_pages, case_record, multi_sign
from engine.services.context import Services
from tests.e2e.test_openapi import assert_matches, component, problems
from tests.fixtures import multi_sign as bundles

API = "/api/v1"
DEPARTMENTS = ["fire_dept", "health_dept", "env_dept", "market_regulation"]


@pytest.fixture
def people(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    """The test clerks, one clerk of each department, and two food inspectors."""
    made = dict(users)
    for name, groups in [
        ("fire", ["fire_dept"]),
        ("health", ["health_dept"]),
        ("env", ["env_dept"]),
        ("inspector_a", ["food_safety"]),
        ("inspector_b", ["food_safety"]),
    ]:
        user, token = accounts.create_user(services, name, "clerk", groups)
        made[name] = SimpleNamespace(
            user=user, token=token, headers={"Authorization": f"Bearer {token}"}
        )
    made["market"] = made["market_reviewer"]
    return made


def _start(client: Any, people: dict[str, Any], key: str, data: dict[str, Any]) -> Any:
    return client.post(
        f"{API}/cases",
        headers=people["front_desk"].headers,
        json={"bundle": key, "data": {"shop_name": "好味餐厅", **data}},
    )


def _sign(client: Any, who: Any, task_id: str, decision: str, opinion: str = "") -> Any:
    body = {"data": {"decision": decision, "opinion": opinion or f"{decision} 意见"}}
    return client.post(f"{API}/tasks/{task_id}/complete", headers=who.headers, json=body)


def _by_group(case: dict[str, Any]) -> dict[str, str]:
    return {t["groups"][0]: t["id"] for t in case["tasks"] if t["element"] == "sign"}


def _task(client: Any, people: dict[str, Any], task_id: str) -> dict[str, Any]:
    found = client.get(f"{API}/tasks/{task_id}", headers=people["auditor"].headers)
    assert found.status_code == 200
    task: dict[str, Any] = found.json
    return task


def _verified(services: Services, people: dict[str, Any], case_id: int) -> None:
    verdict = audit.replay(services, people["auditor"].user, case_id)
    assert verdict["verified"] is True, verdict


def _signatures(services: Services, people: dict[str, Any], case_id: int) -> list[Any]:
    record = case_record.labelled_data(services, people["auditor"].user, case_id)
    return [
        (s["actor"], s["decision"]["text"], s["opinion"]["text"] if s["opinion"] else None)
        for s in record["steps"]
        if s["element"] == "sign"
    ]


def test_huiqian_of_departments_all_approve(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    started = _start(client, people, "joint", {"departments": ["fire_dept", "health_dept"]})
    assert started.status_code == 201, started.json
    case = started.json
    tasks = _by_group(case)
    assert set(tasks) == {"fire_dept", "health_dept"}  # one task per department
    assert all(t["assignee"] is None for t in case["tasks"])
    progress = multi_sign.case_progress(services, people["fire"].user, case["id"])
    assert progress["sign"]["label"] == "会签 (0/2)"

    # a department cannot sign the other's instance
    refused = _sign(client, people["health"], tasks["fire_dept"], "approve")
    assert refused.status_code == 403
    done = _sign(client, people["fire"], tasks["fire_dept"], "approve", "消防验收合格")
    assert done.status_code == 200, done.json
    assert [t["element"] for t in done.json["tasks"]] == ["sign"]
    assert "sign_result" not in done.json["data"]
    progress = multi_sign.case_progress(services, people["fire"].user, case["id"])
    assert progress["sign"]["label"] == "会签 (1/2)" and progress["sign"]["approvals"] == 1

    done = _sign(client, people["health"], tasks["health_dept"], "approve", "卫生条件合格")
    assert done.status_code == 200, done.json
    assert [t["element"] for t in done.json["tasks"]] == ["issue"]
    data = done.json["data"]
    assert data["sign_result"] == "approved"
    assert data["sign_signatures"] == [
        {"signer": "fire_dept", "decision": "approve"},
        {"signer": "health_dept", "decision": "approve"},
    ]
    assert "department" not in data  # the instance's item stays with its instance
    assert _signatures(services, people, case["id"]) == [
        ("fire", "同意", "消防验收合格"),
        ("health", "同意", "卫生条件合格"),
    ]
    issued = client.post(
        f"{API}/tasks/{done.json['tasks'][0]['id']}/complete",
        headers=people["front_desk"].headers,
        json={"data": {}},
    )
    assert issued.json["status"] == "completed"
    assert issued.json["outcome"]["element"] == "granted"
    _verified(services, people, case["id"])


def test_one_rejection_ends_a_huiqian_early(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint", condition=bundles.REJECTION_ENDS)
    case = _start(client, people, "joint", {"departments": DEPARTMENTS[:3]}).json
    tasks = _by_group(case)
    assert _sign(client, people["fire"], tasks["fire_dept"], "approve").status_code == 200
    done = _sign(client, people["health"], tasks["health_dept"], "reject", "后厨不达标")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    assert done.json["outcome"]["element"] == "refused"
    assert done.json["data"]["sign_result"] == "rejected"
    # the environment department's instance was cancelled, and says why in the history
    assert _task(client, people, tasks["env_dept"])["status"] == "cancelled"
    late = _sign(client, people["env"], tasks["env_dept"], "approve")
    assert late.status_code == 409
    events = client.get(f"{API}/cases/{case['id']}/events", headers=people["auditor"].headers)
    assert assert_matches(events, "/cases/{case_id}/events", "get")  # docs/openapi.yaml
    for event in events.json["events"]:
        assert problems(event, component("Event")) == []
    ended = [e for e in events.json["events"] if e["data"].get("signs_ended")]
    assert len(ended) == 1
    assert ended[0]["data"]["signs_ended"] == [
        {"element": "sign", "result": "rejected", "cancelled": [tasks["env_dept"]]}
    ]
    page = case_pages.case_page(services, people["front_desk"].user, case["id"])
    details = [e["detail"] for e in page["timeline"]]
    assert any("会签已结束 (不通过), 未签的 1 个任务已取消" in d for d in details), details
    assert _signatures(services, people, case["id"]) == [
        ("fire", "同意", "approve 意见"),
        ("health", "不同意", "后厨不达标"),
    ]
    _verified(services, people, case["id"])


def test_without_the_early_end_a_rejection_waits_for_everyone(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    case = _start(client, people, "joint", {"departments": DEPARTMENTS[:2]}).json
    tasks = _by_group(case)
    first = _sign(client, people["fire"], tasks["fire_dept"], "reject")
    assert [t["element"] for t in first.json["tasks"]] == ["sign"]  # health still signs
    done = _sign(client, people["health"], tasks["health_dept"], "approve")
    assert done.json["data"]["sign_result"] == "rejected"
    assert done.json["outcome"]["element"] == "refused"
    _verified(services, people, case["id"])


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_huoqian_between_two_inspectors_the_first_decides(
    services: Services, client: Any, people: dict[str, Any], first: str
) -> None:
    bundles.deploy(
        services,
        "inspect",
        collection="inspectors",
        item="inspector",
        assign="assignee",
        groups="food_safety",
        condition=bundles.ANY_ONE,
        name="食品检查",
    )
    case = _start(client, people, "inspect", {"inspectors": ["inspector_a", "inspector_b"]}).json
    mine = {t["assignee"]: t for t in case["tasks"]}
    assert set(mine) == {"inspector_a", "inspector_b"}  # each signer their own task
    assert all(t["groups"] == ["food_safety"] for t in case["tasks"])
    progress = multi_sign.case_progress(services, people["inspector_a"].user, case["id"])
    assert progress["sign"]["label"] == "或签 (0/2)"
    # the other inspector may neither claim nor complete it
    other = client.post(
        f"{API}/tasks/{mine['inspector_a']['id']}/claim", headers=people["inspector_b"].headers
    )
    assert other.status_code == 409
    refused = _sign(client, people["inspector_b"], mine["inspector_a"]["id"], first)
    assert refused.status_code == 403

    done = _sign(client, people["inspector_b"], mine["inspector_b"]["id"], first)
    assert done.status_code == 200, done.json
    assert done.json["data"]["sign_result"] == ("approved" if first == "approve" else "rejected")
    assert _task(client, people, mine["inspector_a"]["id"])["status"] == "cancelled"
    assert [t["element"] for t in done.json["tasks"]] == (["issue"] if first == "approve" else [])
    _verified(services, people, case["id"])


def test_a_vote_by_ratio_ends_when_half_approve(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "vote", condition=bundles.HALF)
    case = _start(client, people, "vote", {"departments": DEPARTMENTS}).json
    tasks = _by_group(case)
    assert len(tasks) == 4
    assert _sign(client, people["fire"], tasks["fire_dept"], "reject").status_code == 200
    assert _sign(client, people["health"], tasks["health_dept"], "approve").status_code == 200
    progress = multi_sign.case_progress(services, people["fire"].user, case["id"])
    assert progress["sign"] | {"label": ""} == {
        "signed": 2,
        "total": 4,
        "sequential": False,
        "approvals": 1,
        "rejections": 1,
        "any_one": False,
        "label": "",
    }
    done = _sign(client, people["env"], tasks["env_dept"], "approve")  # 2 of 4: carried
    assert done.json["data"]["sign_result"] == "approved"
    assert [t["element"] for t in done.json["tasks"]] == ["issue"]
    assert _task(client, people, tasks["market_regulation"])["status"] == "cancelled"
    _verified(services, people, case["id"])


def test_a_sequential_huiqian_goes_in_list_order(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "chain", sequential=True)
    order = ["health_dept", "fire_dept", "env_dept"]
    case = _start(client, people, "chain", {"departments": order}).json
    by_name = {"fire_dept": "fire", "health_dept": "health", "env_dept": "env"}
    seen = []
    for step, department in enumerate(order):
        open_signs = [t for t in case["tasks"] if t["element"] == "sign"]
        assert [t["groups"] for t in open_signs] == [[department]]  # one at a time
        progress = multi_sign.case_progress(services, people["fire"].user, case["id"])
        assert progress["sign"]["label"] == f"依次会签 ({step}/3)"
        seen.append(department)
        signed = _sign(client, people[by_name[department]], open_signs[0]["id"], "approve")
        assert signed.status_code == 200, signed.json
        case = signed.json
    assert [s["signer"] for s in case["data"]["sign_signatures"]] == seen
    assert case["data"]["sign_result"] == "approved"
    _verified(services, people, case["id"])


def test_a_sequential_huiqian_stops_at_a_rejection_when_told(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "chain", sequential=True, condition=bundles.REJECTION_ENDS)
    case = _start(client, people, "chain", {"departments": ["fire_dept", "health_dept"]}).json
    done = _sign(client, people["fire"], case["tasks"][0]["id"], "reject")
    assert done.json["status"] == "completed" and done.json["data"]["sign_result"] == "rejected"
    assert done.json["data"]["sign_signatures"] == [{"signer": "fire_dept", "decision": "reject"}]
    _verified(services, people, case["id"])


@pytest.mark.parametrize("sequential", [False, True])
def test_a_boolean_decision_named_by_the_output_item(
    services: Services, client: Any, people: dict[str, Any], sequential: bool
) -> None:
    bundles.deploy(services, "check", output="passed", sequential=sequential)
    # one after another: the first signer's `passed` does not stop the next instance
    # (SpiffWorkflow refuses to create one while the data holds the output item)
    case = _start(client, people, "check", {"departments": DEPARTMENTS[:2]}).json
    for department, who in (("fire_dept", "fire"), ("health_dept", "health")):
        task = next(t for t in case["tasks"] if t["groups"] == [department])
        body = {"data": {"passed": department == "fire_dept", "report": "见报告"}}
        done = client.post(
            f"{API}/tasks/{task['id']}/complete", headers=people[who].headers, json=body
        )
        assert done.status_code == 200, done.json
        case = done.json
    assert case["data"]["sign_result"] == "rejected"
    assert [s["decision"] for s in case["data"]["sign_signatures"]] == [True, False]
    record = case_record.labelled_data(services, people["auditor"].user, case["id"])
    assert [s["decision"]["text"] for s in record["steps"] if s["element"] == "sign"] == [
        "符合要求",
        "不符合要求",
    ]
    _verified(services, people, case["id"])


def test_signers_fixed_in_the_diagram(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "fixed", signers="fire_dept, health_dept")
    started = _start(client, people, "fixed", {})
    assert started.status_code == 201, started.json
    case = started.json
    assert case["data"]["departments"] == ["fire_dept", "health_dept"]  # recorded with the start
    tasks = _by_group(case)
    assert set(tasks) == {"fire_dept", "health_dept"}
    # the diagram's list wins over one in the start data
    other = _start(client, people, "fixed", {"departments": ["env_dept"]}).json
    assert set(_by_group(other)) == {"fire_dept", "health_dept"}
    _sign(client, people["fire"], tasks["fire_dept"], "approve")
    done = _sign(client, people["health"], tasks["health_dept"], "approve")
    assert done.json["data"]["sign_result"] == "approved"
    _verified(services, people, case["id"])


def test_signers_above_the_cap_are_refused_and_change_nothing(
    services: Services, client: Any, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANBAN_MAX_INSTANCES", "3")
    engine_limits.cache_clear()
    try:
        bundles.deploy(services, "joint")
        refused = _start(client, people, "joint", {"departments": DEPARTMENTS})
        assert refused.status_code == 422, refused.json
        assert "多实例数量 4 超过上限 3" in refused.json["error"]
        listed = client.get(f"{API}/tasks", headers=people["fire"].headers)
        assert listed.json["tasks"] == []
        assert _start(client, people, "joint", {"departments": DEPARTMENTS[:3]}).status_code == 201
    finally:
        monkeypatch.delenv("LIANBAN_MAX_INSTANCES")
        engine_limits.cache_clear()


def test_a_signer_that_is_not_a_name_is_refused(
    services: Services, client: Any, people: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    refused = _start(client, people, "joint", {"departments": ["fire_dept", "x" * 101]})
    assert refused.status_code == 422, refused.json
    assert "办理组过长" in refused.json["error"]
