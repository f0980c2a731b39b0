"""抄送 (issue 18 · 6) through the API and the pages, on SQLite and PostgreSQL: who may copy,
the refusals, the readers a copy reaches (groups expanded), the 抄送我的 list and its badge, the
reading recorded once per reader, the message centre, and a case with copies and reads that
still verifies."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from engine.domain.model import EventType
from engine.services import accounts, audit, messages, queries
from tests.e2e.test_openapi import assert_matches
from tests.e2e.test_pages_clerk import Desk, _token
from tests.e2e.test_pages_clerk import desk as desk  # noqa: F401 (the fixture)
from tests.fixtures import restaurant as r

COPIES = "/cases/{case_id}/copies"


def _api(desk: Desk, name: str) -> Any:
    client = desk.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {desk.users[name].token}"
    return client


def _accepted(desk: Desk) -> dict[str, Any]:
    return desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)


def _events(desk: Desk, case_id: int, kind: EventType) -> list[dict[str, Any]]:
    everything = queries.events(desk.svc, desk.users["auditor"].user, case_id)
    return [e for e in everything if e["type"] == str(kind)]


def _badge(html: str) -> str | None:
    found = re.search(
        r'class="copies-link[^"]*">抄送我的 <span class="unread-badge"[^>]*>(\d+)<', html
    )
    return found.group(1) if found else None


def test_copy_reach_read_and_verify(desk: Desk) -> None:
    case = _accepted(desk)
    case_id = case["id"]
    before = queries.get_case(desk.svc, desk.users["auditor"].user, case_id)
    front = _api(desk, "front_desk")  # received and accepted it: has worked a task

    made = front.post(
        f"/api/v1/cases/{case_id}/copies",
        json={"to": ["user:inspector", "group:food_safety", "user:inspector"], "note": "请阅知"},
    )
    assert made.status_code == 201, made.get_json()
    assert_matches(made, COPIES, "post")
    body = made.get_json()
    assert body["to"] == ["user:inspector", "group:food_safety"]  # repeats dropped
    assert body["readers"] == ["food_reviewer", "inspector"] and body["note"] == "请阅知"
    [copied] = _events(desk, case_id, EventType.CASE_COPIED)
    assert copied["actor"] == "front_desk" and copied["task"] is None
    assert copied["data"] == {"to": ["user:inspector", "group:food_safety"], "note": "请阅知"}

    # nothing else about the case changed: status, data, tasks, time limit
    after = queries.get_case(desk.svc, desk.users["auditor"].user, case_id)
    for key in ("status", "data", "tasks", "deadline", "clock"):
        assert after[key] == before[key], key

    # the readers are told in the message centre
    [told] = [
        m
        for m in messages.inbox(desk.svc, desk.users["inspector"].user)
        if m.kind == messages.MessageKind.COPY
    ]
    assert told.case_id == case_id and "请阅知" in told.body and told.kind_label == "抄送"

    # 抄送我的 through the API: unread, with the case's status and bundle
    inspector = _api(desk, "inspector")
    listed = inspector.get("/api/v1/copies")
    assert_matches(listed, "/copies", "get")
    assert listed.get_json()["unread"] == 1
    [row] = listed.get_json()["copies"]
    assert row["case_id"] == case_id and row["read"] is False and row["via"] == "user:inspector"
    assert (
        row["bundle_name"] and row["case_status"] == "running" and row["copied_by"] == "front_desk"
    )

    # the page: the badge in the navigation, the row unread; opening the case records the read
    page_client = desk.client("inspector")
    page = page_client.get("/work/copies").get_data(as_text=True)
    assert _badge(page) == "1" and 'class="copy unread"' in page and "请阅知" in page
    assert f'href="/cases/{case_id}"' in page
    case_page = page_client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "阅读抄送" in case_page and "已阅读抄送的办件" in case_page
    page_client.get(f"/cases/{case_id}")  # a second view records nothing more
    reads = _events(desk, case_id, EventType.COPY_READ)
    assert [e["data"] for e in reads] == [{"reader": "inspector"}]
    page = page_client.get("/work/copies").get_data(as_text=True)
    assert _badge(page) is None and 'class="copy read"' in page and "已读" in page
    # the 抄送 message was read with the case
    [told] = [
        m
        for m in messages.inbox(desk.svc, desk.users["inspector"].user)
        if m.kind == messages.MessageKind.COPY
    ]
    assert told.read_at is not None
    assert inspector.get("/api/v1/copies?unread=1").get_json() == {"copies": [], "unread": 0}

    # reading through the API: once recorded, then nothing
    food = _api(desk, "food_reviewer")
    [mine] = food.get("/api/v1/copies").get_json()["copies"]
    assert mine["via"] == "group:food_safety"
    read = food.post(f"/api/v1/copies/{mine['id']}/read")
    assert_matches(read, "/copies/{copy_id}/read", "post")
    assert read.get_json()["recorded"] is True and read.get_json()["read_at"]
    assert food.post(f"/api/v1/copies/{mine['id']}/read").get_json()["recorded"] is False
    assert len(_events(desk, case_id, EventType.COPY_READ)) == 2
    # someone else's copy, or none: 404
    assert inspector.post(f"/api/v1/copies/{mine['id']}/read").status_code == 404
    assert food.post("/api/v1/copies/999999/read").status_code == 404

    # the case page lists who it was copied to and who read it
    page = desk.client("front_desk").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'data-reader="inspector"' in page and 'class="copy-read"' in page

    # the events match the spec, and the case still verifies step by step
    auditor = _api(desk, "auditor")
    assert_matches(auditor.get(f"/api/v1/cases/{case_id}/events"), "/cases/{case_id}/events", "get")
    verdict = audit.replay(desk.svc, desk.users["auditor"].user, case_id)
    assert verdict["verified"], verdict


def test_who_may_copy_and_the_refusals(desk: Desk) -> None:
    _, token = accounts.create_user(desk.svc, "supervisor", "clerk", ["supervisors"])
    case = _accepted(desk)
    case_id = case["id"]
    path = f"/api/v1/cases/{case_id}/copies"
    to = {"to": ["user:issuer"]}

    # auditors and designers copy nothing; a clerk with no part in the case neither
    for name in ("auditor", "designer", "issuer"):
        refused = _api(desk, name).post(path, json={"to": ["user:inspector"]})
        assert refused.status_code == 403, name
        assert_matches(refused, COPIES, "post")
    # the groups holding it (its review tasks are open in market_regulation), a member of the
    # 督办 group and an administrator may
    assert _api(desk, "market_reviewer").post(path, json=to).status_code == 201
    boss = desk.app.test_client()  # a clerk of the default 督办 group, `supervisors`
    boss.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert boss.post(path, json=to).status_code == 201
    assert _api(desk, "admin").post(path, json=to).status_code == 201

    front = _api(desk, "front_desk")
    bad = [
        ({}, "请选择抄送给谁"),
        ({"to": []}, "请选择抄送给谁"),
        ({"to": "nobody"}, "须写作 user:用户名 或 group:分组"),
        ({"to": [3]}, "须写作"),
        ({"to": ["user:nobody"]}, "用户「nobody」不存在"),
        ({"to": ["group:nogroup"]}, "分组「nogroup」不存在或没有成员"),
        ({"to": ["user:auditor"]}, "不是窗口或审批人员"),
        ({"to": ["user:front_desk"]}, "除您本人外没有其他人员"),
        ({"to": [f"user:u{i}" for i in range(51)]}, "一次最多抄送 50 个"),
        ({"to": ["user:issuer"], "note": "长" * 501}, "不能超过 500 个字"),
        ({"to": ["user:issuer"], "note": 5}, "须为文字"),
    ]
    for given, words in bad:
        refused = front.post(path, json=given)
        assert refused.status_code == 422, given
        assert_matches(refused, COPIES, "post")
        assert words in str(refused.get_json()), (given, refused.get_json())
    assert front.post("/api/v1/cases/999999/copies", json=to).status_code == 404
    assert front.post(path, json=to, headers={"Authorization": ""}).status_code == 401

    # nothing was recorded by a refusal
    assert len(_events(desk, case_id, EventType.CASE_COPIED)) == 3


def test_an_ended_case_is_copied_and_its_result_shown(desk: Desk) -> None:
    case = desk.start()
    ended = desk.do(case, "intake", "front_desk", r.REFUSE)
    assert ended["status"] in ("running", "completed")
    if ended["status"] == "running":  # 不予受理 then the notice
        ended = desk.do(ended, "denial_notice", "issuer", {})
    assert ended["status"] == "completed"
    made = _api(desk, "front_desk").post(
        f"/api/v1/cases/{case['id']}/copies", json={"to": ["user:market_reviewer"]}
    )
    assert made.status_code == 201, made.get_json()
    [row] = _api(desk, "market_reviewer").get("/api/v1/copies").get_json()["copies"]
    assert row["case_status"] == "completed" and row["outcome"]
    page = desk.client("market_reviewer").get("/work/copies").get_data(as_text=True)
    assert "已办结" in page and unescape(row["outcome"]) in unescape(page)


def test_the_copy_form_on_the_case_and_task_pages(desk: Desk) -> None:
    case = _accepted(desk)
    case_id = case["id"]
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")
    market = desk.client("market_reviewer")
    task_page = market.get(f"/work/tasks/{review}").get_data(as_text=True)
    assert 'class="stack copy-form"' in task_page and 'value="group:inspection"' in task_page
    assert 'value="user:inspector"' in task_page
    # a clerk with no part in the case sees no form
    issuer_page = desk.client("issuer").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "copy-form" not in issuer_page

    posted = market.post(
        f"/work/cases/{case_id}/copies",
        data={
            "csrf_token": _token(task_page),
            "to": ["user:inspector", "group:issuance"],
            "note": "供参考",
            "next": f"/work/tasks/{review}",
        },
        follow_redirects=True,
    )
    text = unescape(posted.get_data(as_text=True))
    assert posted.status_code == 200 and "已抄送 2 人: inspector、issuer" in text
    assert f"/work/tasks/{review}" in posted.request.path
    refused = market.post(
        f"/work/cases/{case_id}/copies",
        data={"csrf_token": _token(task_page), "to": ["user:nobody"]},
        follow_redirects=True,
    )
    assert "抄送未成功: 用户「nobody」不存在" in unescape(refused.get_data(as_text=True))
    assert (
        market.post(f"/work/cases/{case_id}/copies", data={"to": ["user:issuer"]}).status_code
        == 400
    )


def test_readings_and_copies_at_once(desk: Desk) -> None:
    """Four tabs opening the case at once record one reading; two copies at once are both
    recorded, one after the other (the case row is locked)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from engine.services import copies

    case_id = _accepted(desk)["id"]
    copies.copy_case(desk.svc, desk.users["front_desk"].user, case_id, ["user:inspector"])
    inspector = desk.users["inspector"].user
    barrier = Barrier(4)

    def read(_: int) -> bool:
        barrier.wait()
        return copies.record_reading(desk.svc, inspector, case_id)

    with ThreadPoolExecutor(4) as pool:
        recorded = list(pool.map(read, range(4)))
    assert recorded.count(True) == 1
    assert len(_events(desk, case_id, EventType.COPY_READ)) == 1

    pair = Barrier(2)

    def copy(name: str) -> dict[str, Any]:
        pair.wait()
        return copies.copy_case(desk.svc, desk.users[name].user, case_id, ["user:issuer"])

    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(copy, ["front_desk", "market_reviewer"]))
    assert sorted(m["copied_by"] for m in made) == ["front_desk", "market_reviewer"]
    assert len({m["seq"] for m in made}) == 2
    assert len(_events(desk, case_id, EventType.CASE_COPIED)) == 3
    listed = copies.my_copies(desk.svc, desk.users["issuer"].user)
    assert [c.read_at for c in listed] == [None, None]
    verdict = audit.replay(desk.svc, desk.users["auditor"].user, case_id)
    assert verdict["verified"], verdict
