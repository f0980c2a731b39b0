"""消息中心 and 催办 through the app's test client on SQLite and PostgreSQL (issue 17 · G): the top
bar's unread badge, the list (newest first, unread marked), opening a message goes to its task
and marks it read, all read; 催办 from the case page and the API (recorded, told, once an hour,
for the 督办 group and administrators only)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from engine.domain.users import Role
from engine.services import accounts, queries
from tests.e2e.test_openapi import assert_matches, component, problems
from tests.e2e.test_pages_clerk import Desk, _token
from tests.e2e.test_pages_clerk import desk as desk  # noqa: F401 (the fixture)
from tests.fixtures import restaurant as r


def _badge(html: str) -> str | None:
    found = re.search(r'class="unread-badge"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def _accepted(desk: Desk) -> dict[str, Any]:
    case = desk.start()
    return desk.do(case, "intake", "front_desk", r.ACCEPT)


def test_the_badge_the_list_and_opening_a_message(desk: Desk) -> None:
    case = _accepted(desk)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")
    market = desk.client("market_reviewer")

    worklist = market.get("/work/").get_data(as_text=True)
    assert _badge(worklist) == "1"  # the new task of 受理, on every page's top bar
    page = market.get("/messages/").get_data(as_text=True)
    assert "消息中心" in page and "新任务: 营业执照审查" in unescape(page)
    assert 'class="message card unread kind-task"' in page and "未读" in page
    [message_id] = re.findall(r'data-id="(\d+)"', page)

    opened = market.post(f"/messages/{message_id}/open", data={"csrf_token": _token(page)})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/work/tasks/{review}"
    )
    page = market.get("/messages/").get_data(as_text=True)
    assert _badge(page) is None and 'class="message card read kind-task"' in page
    assert "没有未读消息" in market.get("/messages/?unread=1").get_data(as_text=True)

    # someone else's message cannot be opened: back to the list, with the reason
    food = desk.client("food_reviewer")
    food_page = food.get("/messages/").get_data(as_text=True)
    refused = food.post(
        f"/messages/{message_id}/open",
        data={"csrf_token": _token(food_page)},
        follow_redirects=True,
    )
    assert f"消息 {message_id} 不存在" in refused.get_data(as_text=True)
    assert _badge(refused.get_data(as_text=True)) == "1"  # their own message still unread

    done = food.post("/messages/read-all", data={"csrf_token": _token(food_page)})
    assert done.status_code == 302
    assert _badge(food.get("/messages/").get_data(as_text=True)) is None

    # a form without its CSRF token is refused
    assert food.post("/messages/read-all").status_code == 400


def test_urge_from_the_case_page(desk: Desk) -> None:
    accounts.create_user(desk.svc, "supervisor", "clerk", ["supervisors"])
    case = _accepted(desk)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")

    front_page = desk.client("front_desk").get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "urge-form" not in front_page  # not of the 督办 group: no 催办
    boss = desk.client("supervisor")
    page = boss.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'class="stack urge-form no-print"' in page and f'value="{review}"' in page

    form = {"csrf_token": _token(page), "case_id": str(case["id"]), "task_id": review}
    sent = boss.post("/messages/urge", data={**form, "message": "申请人今天第三次来电"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/cases/{case['id']}")
    shown = boss.get(sent.headers["Location"]).get_data(as_text=True)
    assert "已催办, 已通知 market_regulation" in shown
    assert "催办" in shown and "ev-task_urged" in shown  # in the timeline

    again = boss.post("/messages/urge", data=form, follow_redirects=True).get_data(as_text=True)
    assert "催办未成功" in again and "一小时内只能催办一次" in again

    market = desk.client("market_reviewer").get("/messages/").get_data(as_text=True)
    assert "催办: 营业执照审查" in market and "申请人今天第三次来电" in market
    assert _badge(market) == "2"  # the new task and the 催办
    task_page = desk.client("market_reviewer").get(f"/work/tasks/{review}").get_data(as_text=True)
    assert 'class="flash flash-warning task-urged"' in task_page
    assert "supervisor" in task_page and "「申请人今天第三次来电」" in task_page

    refused = desk.client("front_desk").post(
        "/messages/urge", data={**form, "csrf_token": _token(front_page)}, follow_redirects=True
    )
    assert "只有督办组 (supervisors) 成员或管理员可以催办" in refused.get_data(as_text=True)


def test_urge_through_the_api(desk: Desk) -> None:
    supervisor, token = accounts.create_user(desk.svc, "supervisor", "clerk", ["supervisors"])
    case = _accepted(desk)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_food")
    api = desk.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/tasks/{review}/urge"

    body = assert_matches(
        api.post(url, headers=headers, json={"message": "请今天办理"}),
        "/tasks/{task_id}/urge",
        "post",
    )
    assert body["to"] == ["group:food_safety"] and body["urged_by"] == "supervisor"
    again = api.post(url, headers=headers, json={})
    assert again.status_code == 409 and "一小时内只能催办一次" in again.get_json()["error"]
    assert_matches(again, "/tasks/{task_id}/urge", "post")
    front = api.post(url, headers=desk.users["front_desk"].headers, json={})
    assert front.status_code == 403
    too_long = api.post(
        f"/api/v1/tasks/{review}/urge",
        headers=desk.users["admin"].headers,
        json={"message": "催" * 501},
    )
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "message"
    missing = api.post("/api/v1/tasks/nope/urge", headers=headers, json={})
    assert missing.status_code == 404

    auditor = desk.users["auditor"].user
    assert auditor.role == Role.AUDITOR
    [event] = [
        e for e in queries.events(desk.svc, auditor, case["id"]) if e["type"] == "task_urged"
    ]
    assert problems(event, component("Event")) == []
    assert event["data"] == {"message": "请今天办理", "to": ["group:food_safety"]}
