"""退回 and 撤回 through the API and the pages, on SQLite and PostgreSQL (issue 18 · 1, 7)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.services import Services
from tests.e2e.test_openapi import assert_matches, component, problems
from tests.e2e.test_pages_clerk import Desk, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def _task(case: dict[str, Any], element: str) -> dict[str, Any]:
    return next(t for t in case["tasks"] if t["element"] == element)


def test_the_api_sends_back_and_recalls(desk: Desk, users: dict[str, Any]) -> None:
    client = desk.app.test_client()
    food = users["food_reviewer"].headers
    case = desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)
    review = _task(case, "review_food")

    offered = client.get(f"/api/v1/tasks/{review['id']}/send-back", headers=food)
    assert offered.status_code == 200
    assert_matches(offered, "/tasks/{task_id}/send-back", "get")
    assert offered.json["allowed"] is True
    assert [t["element"] for t in offered.json["targets"]] == ["intake"]
    # another group's clerk cannot see where to send it, nor send it
    other = users["inspector"].headers
    assert client.get(f"/api/v1/tasks/{review['id']}/send-back", headers=other).status_code == 403
    refused = client.post(
        f"/api/v1/tasks/{review['id']}/send-back", headers=food, json={"target": "intake"}
    )
    assert refused.status_code == 422 and "退回原因" in refused.json["error"]
    nowhere = client.post(
        f"/api/v1/tasks/{review['id']}/send-back",
        headers=food,
        json={"target": "joint_issuance", "reason": "x"},
    )
    assert nowhere.status_code == 422 and "只能退回到" in nowhere.json["error"]

    sent = client.post(
        f"/api/v1/tasks/{review['id']}/send-back",
        headers=food,
        json={"target": "intake", "reason": "经营场所证明与地址不一致"},
    )
    assert sent.status_code == 200, sent.json
    assert_matches(sent, "/tasks/{task_id}/send-back", "post")
    assert [t["element"] for t in sent.json["tasks"]] == ["intake"]
    again = _task(sent.json, "intake")
    assert again["assignee"] == "front_desk"
    # the closed task is a 409 now
    late = client.post(
        f"/api/v1/tasks/{review['id']}/send-back",
        headers=food,
        json={"target": "intake", "reason": "x"},
    )
    assert late.status_code == 409

    desk_headers = users["front_desk"].headers
    done = client.post(
        f"/api/v1/tasks/{again['id']}/complete", headers=desk_headers, json={"data": r.ACCEPT}
    )
    assert done.status_code == 200
    assert (
        client.post(
            f"/api/v1/tasks/{again['id']}/recall", headers=food, json={"reason": "x"}
        ).status_code
        == 403
    )
    recalled = client.post(
        f"/api/v1/tasks/{again['id']}/recall", headers=desk_headers, json={"reason": "意见写错"}
    )
    assert recalled.status_code == 200, recalled.json
    assert_matches(recalled, "/tasks/{task_id}/recall", "post")
    events = client.get(
        f"/api/v1/cases/{case['id']}/events", headers=users["auditor"].headers
    ).json["events"]
    rewinds = [e for e in events if e["type"] in ("task_sent_back", "task_recalled")]
    assert [e["type"] for e in rewinds] == ["task_sent_back", "task_recalled"]
    for event in rewinds:
        assert problems(event, component("Event")) == []
    assert [t["element"] for t in recalled.json["tasks"]] == ["intake"]
    audit = client.get(f"/api/v1/cases/{case['id']}/replay", headers=users["auditor"].headers)
    assert audit.status_code == 200 and audit.json["verified"] is True, audit.json


def test_the_pages_send_back_show_why_and_recall(desk: Desk) -> None:
    case = desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)
    case = desk.do(case, "review_licence", "market_reviewer", r.LICENCE_OK)
    review = _task(case, "review_food")
    food = desk.client("food_reviewer")
    page = food.get(f"/work/tasks/{review['id']}").get_data(as_text=True)
    assert 'id="send-back"' in page and 'value="intake"' in page
    token = _token(page)

    missing = food.post(
        f"/work/tasks/{review['id']}/send-back", data={"csrf_token": token, "target": "intake"}
    )
    assert missing.status_code == 422
    assert "请填写退回原因" in missing.get_data(as_text=True)

    sent = food.post(
        f"/work/tasks/{review['id']}/send-back",
        data={"csrf_token": token, "target": "intake", "reason": "营业执照复印件不清晰"},
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/cases/{case['id']}")
    case_page = food.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "从「食品经营许可审查」退回到「一窗受理」: 营业执照复印件不清晰" in case_page

    window = desk.client("front_desk")
    worklist = window.get("/work/").get_data(as_text=True)
    reopened = re.search(r'/work/tasks/([0-9a-f-]{36})"', worklist)
    assert reopened, "the task sent back is in the window's worklist"
    task_page = window.get(f"/work/tasks/{reopened.group(1)}").get_data(as_text=True)
    assert "本任务被退回" in task_page and "营业执照复印件不清晰" in task_page
    assert "上次办理结果" in task_page and "材料齐全" in task_page  # the earlier opinion

    # 撤回: the window completes it again, sees 撤回 on the case page and takes it back
    done = window.post(
        f"/work/tasks/{reopened.group(1)}",
        data={"csrf_token": _token(task_page), **{k: str(v) for k, v in r.ACCEPT.items()}},
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:500]
    case_page = window.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="recall"' in case_page
    recalled = window.post(
        f"/work/tasks/{reopened.group(1)}/recall",
        data={"csrf_token": _token(case_page), "reason": "受理意见需补充"},
    )
    assert recalled.status_code == 303 and "/work/tasks/" in recalled.headers["Location"]
    again = window.get(recalled.headers["Location"]).get_data(as_text=True)
    assert "本任务已撤回重办" in again and "受理意见需补充" in again
    # someone else's completed task offers no 撤回, and posting it anyway is refused
    refused = food.post(
        f"/work/tasks/{reopened.group(1)}/recall",
        data={"csrf_token": token, "reason": "x"},
    )
    assert refused.status_code in (403, 409)


def test_the_api_sends_a_case_to_the_applicant_for_correction(
    client: Any, services: Services, users: dict[str, Any], tmp_path: Any
) -> None:
    from engine.services import cases, publishing
    from tests.integration.test_send_back import _restaurant_with

    publishing.deploy(services, _restaurant_with(tmp_path, "intake, correction"), "test")
    case = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    task = _task(case, "intake")
    case = cases.complete(services, users["front_desk"].user, task["id"], r.ACCEPT)
    licence = _task(case, "review_licence")
    headers = users["market_reviewer"].headers
    offered = client.get(f"/api/v1/tasks/{licence['id']}/send-back", headers=headers)
    assert_matches(offered, "/tasks/{task_id}/send-back", "get")
    assert [t["correction"] for t in offered.json["targets"]] == [False, True]
    sent = client.post(
        f"/api/v1/tasks/{licence['id']}/send-back",
        headers=headers,
        json={"target": "correction", "reason": "缺页", "materials": ["name_declaration"]},
    )
    assert sent.status_code == 200, sent.json
    assert_matches(sent, "/tasks/{task_id}/send-back", "post")
    events = client.get(
        f"/api/v1/cases/{case['id']}/events", headers=users["auditor"].headers
    ).json["events"]
    back = next(e for e in events if e["type"] == "task_sent_back")
    assert problems(back, component("Event")) == []
    assert back["data"]["correction"]["form"]["missing_materials"] == ["name_declaration"]


def test_the_task_page_sends_a_case_to_the_applicant_for_correction(
    app: Any, services: Services, users: dict[str, Any], tmp_path: Any
) -> None:
    from engine.services import cases, publishing, queries
    from tests.fixtures.pages import sign_in
    from tests.integration.test_send_back import _restaurant_with

    publishing.deploy(services, _restaurant_with(tmp_path, "intake, correction"), "test")
    case = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    case = cases.complete(services, users["front_desk"].user, _task(case, "intake")["id"], r.ACCEPT)
    licence = _task(case, "review_licence")
    page = app.test_client()
    token = sign_in(page, services, "market_reviewer", "Kx7-page-reviewer-pw")
    html = page.get(f"/work/tasks/{licence['id']}").get_data(as_text=True)
    assert "(退回申请人补正)" in html and 'name="materials" value="name_declaration"' in html
    sent = page.post(
        f"/work/tasks/{licence['id']}/send-back",
        data={
            "csrf_token": token,
            "target": "correction",
            "reason": "名称申报告知书缺页",
            "materials": ["name_declaration", "floor_plan"],
        },
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    now = queries.get_case(services, users["auditor"].user, case["id"])
    assert [t["element"] for t in now["tasks"]] == ["correction"]
    assert now["data"]["missing_materials"] == ["name_declaration", "floor_plan"]
