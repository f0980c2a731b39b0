"""好差评: the applicant rates a concluded case with the code on the receipt; a bad rating
opens a rectification (整改) with a deadline, then a follow-up (回访)."""

from __future__ import annotations

import re
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, publishing, queries
from tests.e2e.test_openapi import assert_matches
from tests.fixtures import bpmn


def concluded(services: Services, users: dict[str, Any], client: Any) -> dict[str, Any]:
    publishing.deploy(services, from_upload("p.bpmn", bpmn.linear()), "test")
    started = client.post(
        "/api/v1/cases",
        headers=users["front_desk"].headers,
        json={"bundle": "p", "data": {"applicant_name": "李四"}},
    ).json
    code = started["access_code"]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code), code
    early = client.post(
        f"/api/v1/public/cases/{started['id']}/rating", json={"code": code, "level": 5}
    )
    assert early.status_code == 409  # only after 办结
    client.post(
        f"/api/v1/tasks/{started['tasks'][0]['id']}/complete",
        headers=users["front_desk"].headers,
        json={"data": {}},
    )
    return {"id": started["id"], "code": code}


def test_a_good_rating_needs_the_right_code_and_counts_once(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case = concluded(services, users, client)
    url = f"/api/v1/public/cases/{case['id']}/rating"
    assert client.post(url, json={"code": "ABCD-EFGH-JKMN", "level": 5}).status_code == 403
    malformed = client.post(url, json={"code": "not-the-code", "level": 5})
    assert malformed.status_code == 422 and malformed.json["errors"][0]["field"] == "code"
    assert client.post(url, json={"code": case["code"], "level": 9}).status_code == 422
    ok = client.post(url, json={"code": case["code"], "level": "非常满意", "comment": "很快"})
    assert assert_matches(ok, "/public/cases/{case_id}/rating", "post") == {
        "case_id": case["id"],
        "level": 5,
        "label": "非常满意",
        "rectification": False,
    }
    assert client.post(url, json={"code": case["code"], "level": 1}).status_code == 409
    assert (
        "access_code"
        not in client.get(f"/api/v1/cases/{case['id']}", headers=users["auditor"].headers).json
    )
    events = queries.events(services, users["auditor"].user, case["id"])
    rated = events[-1]
    assert rated["type"] == "rated" and rated["actor"] == "applicant"
    assert rated["data"] == {
        "level": 5,
        "label": "非常满意",
        "comment": "很快",
        "channel": "online",
    }


def test_a_bad_rating_must_be_rectified_then_followed_up(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    supervisor, token = accounts.create_user(services, "chief", "clerk", ["supervisors"])
    headers = {"Authorization": f"Bearer {token}"}
    case = concluded(services, users, client)
    rated = client.post(
        f"/api/v1/cases/{case['id']}/rating",
        headers=users["front_desk"].headers,
        json={"level": 2, "comment": "等了很久"},
    )
    assert rated.status_code == 201 and rated.json["rectification"] is True
    [task] = client.get("/api/v1/tasks", headers=headers).json["tasks"]
    assert task["kind"] == "rectification" and task["name"] == "差评整改: 不满意"
    assert task["deadline"] is not None  # 10 working days by default
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=headers,
        json={"data": {"measures": "增加窗口", "result": "已整改"}},
    )
    assert done.status_code == 200 and done.json["status"] == "completed"
    [follow_up] = client.get("/api/v1/tasks", headers=headers).json["tasks"]
    assert follow_up["kind"] == "follow_up"
    client.post(
        f"/api/v1/tasks/{follow_up['id']}/complete",
        headers=headers,
        json={"data": {"applicant_satisfied": True}},
    )
    assert client.get("/api/v1/tasks", headers=headers).json["tasks"] == []
    kinds = [e["type"] for e in queries.events(services, users["auditor"].user, case["id"])]
    assert kinds[-5:] == [
        "rated",
        "rectification_opened",
        "task_completed",
        "follow_up_opened",
        "task_completed",
    ]


def test_the_applicant_follows_the_case_with_the_receipt_code(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case = concluded(services, users, client)
    url = f"/api/v1/public/cases/{case['id']}"
    header = {"X-Access-Code": case["code"]}
    assert client.get(url, headers={"X-Access-Code": "2222-3333-4444"}).status_code == 403
    assert client.get("/api/v1/public/cases/999999", headers=header).status_code == 403
    progress = assert_matches(client.get(url, headers=header), "/public/cases/{case_id}", "get")
    assert progress["status"] == "completed" and progress["rating"] is None
    # the same by POST, the code in the body, typed as people type it back
    typed = case["code"].replace("-", " ").lower()
    posted = assert_matches(
        client.post(url, json={"code": typed}), "/public/cases/{case_id}", "post"
    )
    assert posted == progress
    client.post(f"{url}/rating", json={"code": case["code"], "level": 4})
    rated = client.get(url, headers=header).json["rating"]
    assert rated["level"] == 4 and rated["channel"] == "online"
    assert (
        client.post(
            "/api/v1/public/cases/999999/rating", json={"code": case["code"], "level": 4}
        ).status_code
        == 403
    )


def test_the_code_is_never_taken_from_the_address(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    """A code in the query string would land in access logs: refused with where to put it."""
    case = concluded(services, users, client)
    url = f"/api/v1/public/cases/{case['id']}"
    for response in (
        client.get(f"{url}?code={case['code']}"),
        client.get(f"{url}?code={case['code']}", headers={"X-Access-Code": case["code"]}),
        client.post(f"{url}?code={case['code']}", json={"code": case["code"]}),
        client.post(f"{url}/rating?code={case['code']}", json={"level": 5}),
    ):
        assert response.status_code == 400
        assert "X-Access-Code" in response.json["errors"][0]["message"]
        assert "网址" in response.json["error"]
    missing = client.get(url)
    assert missing.status_code == 422 and missing.json["error"] == "请提供查询码"
    assert client.get(url, headers={"X-Access-Code": case["code"]}).status_code == 200


def test_wrong_codes_on_the_public_routes_are_throttled(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case = concluded(services, users, client)
    url = f"/api/v1/public/cases/{case['id']}"
    wrong = {"X-Access-Code": "2222-3333-4444"}
    answers = [client.get(url, headers=wrong).status_code for _ in range(5)]
    answers += [
        client.post(f"{url}/rating", json={"code": "2222-3333-4444", "level": 5}).status_code
        for _ in range(5)
    ]
    assert answers == [403] * 9 + [429]  # the case's 10th failure in an hour
    refused = client.get(url, headers={"X-Access-Code": case["code"]})
    body = assert_matches(refused, "/public/cases/{case_id}", "get")
    assert refused.headers["Retry-After"] == str(body["retry_after"]) == "900"
    assert body["error"].startswith("查询码验证失败次数过多, 请 15 分钟后再试")
    rating = client.post(f"{url}/rating", json={"code": case["code"], "level": 5})
    assert assert_matches(rating, "/public/cases/{case_id}/rating", "post")["retry_after"] > 0
    # malformed codes say what a code looks like and are not counted
    other = concluded(services, users, client)
    for _ in range(12):
        malformed = client.get(
            f"/api/v1/public/cases/{other['id']}", headers={"X-Access-Code": "x"}
        )
        assert malformed.status_code == 422
    assert "12 位" in malformed.json["errors"][0]["message"]
    good = client.get(
        f"/api/v1/public/cases/{other['id']}", headers={"X-Access-Code": other["code"]}
    )
    assert good.status_code == 200
