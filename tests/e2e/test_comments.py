"""评论 (issue 18 · 9) through the API and the pages, on SQLite and PostgreSQL: who may comment
and read comments, the refusals, attachments kept and served as the forms' files are, comments
on an ended case, the timeline and the task page, and a case with comments that still
verifies."""

from __future__ import annotations

import base64
import io
from html import unescape
from typing import Any
from urllib.parse import quote

from engine.domain.model import EventType
from engine.services import audit, queries
from tests.e2e.test_openapi import assert_matches
from tests.e2e.test_pages_clerk import Desk, _token
from tests.e2e.test_pages_clerk import desk as desk  # noqa: F401 (the fixture)
from tests.fixtures import restaurant as r

COMMENTS = "/cases/{case_id}/comments"
PDF = b"%PDF-1.4\n% a tiny file\n"


def _api(desk: Desk, name: str) -> Any:
    client = desk.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {desk.users[name].token}"
    return client


def _file(name: str, content: bytes, kind: str = "application/pdf") -> str:
    body = base64.b64encode(content).decode("ascii")
    return f"data:{kind};name={quote(name, safe='')};base64,{body}"


def test_comment_with_attachments_through_the_api(desk: Desk) -> None:
    case = desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)
    case_id = case["id"]
    before = queries.get_case(desk.svc, desk.users["auditor"].user, case_id)
    market = _api(desk, "market_reviewer")

    made = market.post(
        f"/api/v1/cases/{case_id}/comments",
        json={"text": "  请补充厨房布局图的说明  ", "attachments": [_file("布局说明.pdf", PDF)]},
    )
    assert made.status_code == 201, made.get_json()
    assert_matches(made, COMMENTS, "post")
    comment = made.get_json()
    assert comment["text"] == "请补充厨房布局图的说明" and comment["author"] == "market_reviewer"
    [file] = comment["attachments"]
    assert file == {
        "type": "application/pdf",
        "name": "布局说明.pdf",
        "size": len(PDF),
        "index": 0,
        "url": f"/cases/{case_id}/attachments/{comment['seq']}/0",
    }
    # the case's data, status, tasks and clock are as they were
    after = queries.get_case(desk.svc, desk.users["auditor"].user, case_id)
    for key in ("status", "data", "tasks", "deadline", "clock"):
        assert after[key] == before[key], key

    # everyone who can see the case reads it: clerks, auditors, administrators
    for name in ("front_desk", "auditor", "admin"):
        listed = _api(desk, name).get(f"/api/v1/cases/{case_id}/comments")
        assert_matches(listed, COMMENTS, "get")
        assert [c["text"] for c in listed.get_json()["comments"]] == ["请补充厨房布局图的说明"]
    # the file is served like the forms' attachments, to signed-in staff
    served = desk.client("front_desk").get(file["url"])
    assert served.status_code == 200 and served.data == PDF
    assert (
        served.mimetype == "application/pdf"
        and "attachment" in served.headers["Content-Disposition"]
    )

    # the event, as the API lists it and the spec declares it; replay still verifies
    events = _api(desk, "auditor").get(f"/api/v1/cases/{case_id}/events")
    assert_matches(events, "/cases/{case_id}/events", "get")
    [event] = [e for e in events.get_json()["events"] if e["type"] == "case_commented"]
    assert event["data"]["text"] == "请补充厨房布局图的说明" and event["task"] is None
    assert event["data"]["attachments"] == [_file("布局说明.pdf", PDF)]
    verdict = audit.replay(desk.svc, desk.users["auditor"].user, case_id)
    assert verdict["verified"], verdict


def test_who_may_comment_and_the_refusals(desk: Desk) -> None:
    case_id = desk.start()["id"]
    path = f"/api/v1/cases/{case_id}/comments"
    front = _api(desk, "front_desk")

    refused = _api(desk, "auditor").post(path, json={"text": "审计不能评论"})
    assert refused.status_code == 403 and "只能查看评论" in refused.get_json()["error"]
    assert_matches(refused, COMMENTS, "post")
    assert _api(desk, "designer").post(path, json={"text": "x"}).status_code == 403
    assert _api(desk, "designer").get(path).status_code == 403
    assert front.get("/api/v1/cases/999999/comments").status_code == 404
    assert front.post("/api/v1/cases/999999/comments", json={"text": "x"}).status_code == 404
    assert desk.app.test_client().get(path).status_code == 401

    too_big = b"x" * (desk.svc.limits.attachment_bytes + 1)
    bad = [
        ({}, "请填写评论内容"),
        ({"text": "   "}, "请填写评论内容"),
        ({"text": 5}, "请填写评论内容"),
        ({"text": "长" * 2001}, "不能超过 2000 个字"),
        ({"text": "x", "attachments": "data:a"}, "附件须为列表"),
        ({"text": "x", "attachments": [_file("a.pdf", PDF)] * 6}, "最多 5 个附件"),
        ({"text": "x", "attachments": ["not a file"]}, "附件须为 data URL"),
        ({"text": "x", "attachments": ["data:text/plain;base64,@@@"]}, "附件须为 data URL"),
        ({"text": "x", "attachments": [_file("big.bin", too_big)]}, "超过 2 MB"),
    ]
    for given, words in bad:
        answer = front.post(path, json=given)
        assert answer.status_code == 422, given
        assert_matches(answer, COMMENTS, "post")
        assert words in str(answer.get_json()), (given, answer.get_json())
    assert front.get(path).get_json() == {"comments": []}  # no refusal left a comment


def test_a_comment_on_an_ended_case(desk: Desk) -> None:
    case = desk.start()
    cancelled = _api(desk, "front_desk").post(
        f"/api/v1/cases/{case['id']}/cancel", json={"reason": "申请人撤回申请"}
    )
    assert cancelled.get_json()["status"] == "cancelled"
    made = _api(desk, "front_desk").post(
        f"/api/v1/cases/{case['id']}/comments", json={"text": "申请人已领回材料"}
    )
    assert made.status_code == 201
    assert queries.get_case(desk.svc, desk.users["admin"].user, case["id"])["status"] == "cancelled"
    verdict = audit.replay(desk.svc, desk.users["auditor"].user, case["id"])
    assert verdict["verified"], verdict


def test_comments_on_the_case_and_task_pages(desk: Desk) -> None:
    case = desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)
    case_id = case["id"]
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")
    market = desk.client("market_reviewer")
    task_page = market.get(f"/work/tasks/{review}").get_data(as_text=True)
    assert 'class="stack comment-form"' in task_page and "还没有评论" in task_page

    posted = market.post(
        f"/work/cases/{case_id}/comments",
        data={
            "csrf_token": _token(task_page),
            "text": "现场照片见附件",
            "next": f"/work/tasks/{review}",
            "attachments": [(io.BytesIO(PDF), "照片.pdf", "application/pdf")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = unescape(posted.get_data(as_text=True))
    assert posted.status_code == 200 and "评论已发表" in page
    assert 'class="comment-author">market_reviewer' in page and "现场照片见附件" in page
    [event] = [
        e
        for e in queries.events(desk.svc, desk.users["auditor"].user, case_id)
        if e["type"] == str(EventType.CASE_COMMENTED)
    ]
    link = f"/cases/{case_id}/attachments/{event['seq']}/0"
    assert f'href="{link}"' in page and "照片.pdf" in page

    # the case page's timeline: the comment, its author and its file
    case_page = unescape(desk.client("front_desk").get(f"/cases/{case_id}").get_data(as_text=True))
    assert 'class="ev-case_commented"' in case_page and "现场照片见附件 (附件 1 个)" in case_page
    assert f'href="{link}"' in case_page
    assert desk.client("front_desk").get(link).data == PDF

    # refused: empty text, without the CSRF token; an auditor sees no box
    refused = market.post(
        f"/work/cases/{case_id}/comments",
        data={"csrf_token": _token(task_page), "text": ""},
        follow_redirects=True,
    )
    assert "评论未发表: 请填写评论内容" in unescape(refused.get_data(as_text=True))
    assert market.post(f"/work/cases/{case_id}/comments", data={"text": "x"}).status_code == 400
    auditor_page = desk.client("auditor").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "comment-form" not in auditor_page and "现场照片见附件" in auditor_page
