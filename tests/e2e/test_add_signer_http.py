"""并行加签 / 减签 through the API (issue 18 · 5), on SQLite and PostgreSQL: the answers and the
events match docs/openapi.yaml; a plain task has no signer to remove."""

from __future__ import annotations

from typing import Any

from engine.services import Services, accounts
from tests.e2e.test_openapi import assert_matches, component, problems
from tests.fixtures import multi_sign as bundles

API = "/api/v1"


def _headers(services: Services, name: str, groups: list[str]) -> dict[str, str]:
    _, token = accounts.create_user(services, name, "clerk", groups)
    return {"Authorization": f"Bearer {token}"}


def test_parallel_add_and_remove_through_the_api(
    client: Any, services: Services, users: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    fire = _headers(services, "fire", ["fire_dept"])
    _headers(services, "env", ["env_dept"])
    started = client.post(
        f"{API}/cases",
        headers=users["front_desk"].headers,
        json={
            "bundle": "joint",
            "data": {"shop_name": "好味", "departments": ["fire_dept", "health_dept"]},
        },
    )
    assert started.status_code == 201, started.json
    mine = next(t["id"] for t in started.json["tasks"] if t["groups"] == ["fire_dept"])
    added = client.post(
        f"{API}/tasks/{mine}/add-signer",
        headers=fire,
        json={"position": "parallel", "to": "env_dept", "reason": "涉及排污"},
    )
    assert added.status_code == 200, added.json
    case = assert_matches(added, "/tasks/{task_id}/add-signer", "post")
    assert sorted(t["groups"][0] for t in case["tasks"]) == ["env_dept", "fire_dept", "health_dept"]
    again = client.post(
        f"{API}/tasks/{mine}/add-signer",
        headers=fire,
        json={"position": "parallel", "to": "env_dept", "reason": "x"},
    )
    assert again.status_code == 409 and "已在此会签中" in again.json["error"]

    env_task = next(t["id"] for t in case["tasks"] if t["groups"] == ["env_dept"])
    removed = client.post(
        f"{API}/tasks/{env_task}/remove-signer", headers=fire, json={"reason": "经核实不涉及"}
    )
    assert removed.status_code == 200, removed.json
    case = assert_matches(removed, "/tasks/{task_id}/remove-signer", "post")
    assert sorted(t["groups"][0] for t in case["tasks"]) == ["fire_dept", "health_dept"]

    events = client.get(f"{API}/cases/{case['id']}/events", headers=users["auditor"].headers).json[
        "events"
    ]
    mine_events = [e for e in events if e["type"] in ("signer_added", "signer_removed")]
    assert [(e["type"], e["data"]["signer"]) for e in mine_events] == [
        ("signer_added", "env_dept"),
        ("signer_removed", "env_dept"),
    ]
    for event in mine_events:
        assert problems(event, component("Event")) == []
    verdict = client.get(f"{API}/cases/{case['id']}/replay", headers=users["auditor"].headers)
    assert verdict.json["verified"] is True, verdict.json


def test_a_plain_task_has_no_signer_to_remove(
    client: Any, services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from tests.fixtures.restaurant import APPLICATION

    desk = users["front_desk"].headers
    case = client.post(
        f"{API}/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    ).json
    task = case["tasks"][0]["id"]
    refused = client.post(f"{API}/tasks/{task}/remove-signer", headers=desk, json={"reason": "x"})
    assert refused.status_code == 409 and "没有可减的加签人" in refused.json["error"]


def test_the_task_page_adds_and_removes_a_signer(
    app: Any, services: Services, users: dict[str, Any]
) -> None:
    from engine.services import cases, queries
    from tests.fixtures.pages import csrf_token, sign_in

    bundles.deploy(services, "joint")
    fire, _ = accounts.create_user(services, "fire", "clerk", ["fire_dept"])
    accounts.create_user(services, "env", "clerk", ["env_dept"])
    case = cases.start_case(
        services,
        users["front_desk"].user,
        "joint",
        {"shop_name": "好味", "departments": ["fire_dept", "health_dept"]},
    )
    mine = next(t["id"] for t in case["tasks"] if t["groups"] == ["fire_dept"])
    page = app.test_client()
    sign_in(page, services, "fire", "Kx7-page-signer-pw")
    html = page.get(f"/work/tasks/{mine}").get_data(as_text=True)
    assert 'id="parallel-signer"' in html and '<option value="env_dept">' in html
    assert '<option value="fire_dept">' not in html  # already in the 会签
    token = csrf_token(html)
    missing = page.post(
        f"/work/tasks/{mine}/parallel-signer", data={"csrf_token": token, "to": "env_dept"}
    )
    assert missing.status_code == 422 and "请填写加签原因" in missing.get_data(as_text=True)
    added = page.post(
        f"/work/tasks/{mine}/parallel-signer",
        data={"csrf_token": token, "to": "env_dept", "reason": "涉及排污"},
    )
    assert added.status_code == 303
    now = queries.get_case(services, users["auditor"].user, case["id"])
    env_task = next(t["id"] for t in now["tasks"] if t["groups"] == ["env_dept"])
    html = page.get(f"/work/tasks/{mine}").get_data(as_text=True)
    assert 'data-signer="env_dept"' in html and 'data-signer="health_dept"' in html
    removed = page.post(
        f"/work/tasks/{mine}/parallel-signer/{env_task}/remove",
        data={"csrf_token": token, "reason": "不涉及"},
    )
    assert removed.status_code == 303
    now = queries.get_case(services, users["auditor"].user, case["id"])
    assert sorted(t["groups"][0] for t in now["tasks"]) == ["fire_dept", "health_dept"]
    assert fire.name == "fire"
