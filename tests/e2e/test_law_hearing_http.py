"""听证 (Arts. 46–47) over HTTP on both databases: the API route against the spec, the box
听证权利告知 on the decision task's page and the case page (the window's two buttons), the
worklist mark, the 听证 task's 听证笔录 form, the printable 听证告知书 and the public progress
page."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, publishing
from tests.conftest import FORMS
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.clock import FakeClock
from tests.fixtures.hearing import APPLICATION, BUNDLE
from tests.fixtures.pages import csrf_token, sign_in
from tests.integration.test_law_hearing import MONDAY, at

PASSWORD = "hearing pages pw"


def test_the_hearing_in_the_pages_and_the_api(services: Services, users: dict[str, Any]) -> None:
    from web import create_app

    clock = FakeClock(MONDAY)
    svc = Services(services.engine, FORMS, clock=clock)
    publishing.deploy(svc, from_upload("heard.zip", BUNDLE), "test")
    app = create_app({"SERVICES": svc, "TESTING": True})
    api = app.test_client()
    headers = {name: u.headers for name, u in users.items()}
    path = "/cases/{case_id}/hearing"

    started = api.post(
        "/api/v1/cases",
        headers=headers["front_desk"],
        json={"bundle": "heard", "data": APPLICATION},
    ).get_json()
    accept = started["tasks"][0]["id"]
    case = api.post(
        f"/api/v1/tasks/{accept}/complete", headers=headers["front_desk"], json={"data": {}}
    ).get_json()
    case_id = case["id"]
    decide = next(t["id"] for t in case["tasks"] if t["element"] == "decide")

    got = assert_matches(
        api.get(f"/api/v1/cases/{case_id}/hearing", headers=headers["auditor"]), path, "get"
    )
    assert got["pending"]["request_by"] == "2026-10-10" and got["hearings"] == []
    refused = api.post(
        f"/api/v1/tasks/{decide}/complete", headers=headers["market_reviewer"], json={"data": {}}
    )
    assert refused.status_code == 409 and "2026-10-10" in refused.get_json()["error"]
    wrong = api.post(
        f"/api/v1/cases/{case_id}/hearing", headers=headers["front_desk"], json={"action": "x"}
    )
    assert wrong.status_code == 422
    assert assert_matches(wrong, path, "post")["errors"][0]["field"] == "action"
    other = api.post(
        f"/api/v1/cases/{case_id}/hearing", headers=headers["issuer"], json={"action": "request"}
    )
    assert other.status_code == 403
    assert_matches(other, path, "post")

    # the reviewer's worklist and decision task page; the window's buttons on the case page
    reviewer = app.test_client()
    sign_in(reviewer, svc, "market_reviewer", PASSWORD)
    worklist = reviewer.get("/work/").get_data(as_text=True)
    assert "待听证答复 (至 2026-10-10)" in worklist
    listed = assert_matches(
        api.get("/api/v1/tasks", headers=headers["market_reviewer"]), "/tasks", "get"
    )
    assert [t["hearing"] for t in listed["tasks"]] == ["待听证答复 (至 2026-10-10)"]
    page = reviewer.get(f"/work/tasks/{decide}").get_data(as_text=True)
    assert "听证权利告知" in page and "2026-10-10" in page and "等待答复" in page
    window = app.test_client()
    token = sign_in(window, svc, "front_desk", PASSWORD)
    page = window.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "申请人申请听证" in page and "申请人放弃听证" in page

    notice = window.get(f"/cases/{case_id}/hearing-notice")
    text = notice.get_data(as_text=True)
    assert notice.status_code == 200 and "听证告知书" in text
    assert "许可决定" in text and "2026-10-10" in text and "2026-09-28" in text
    assert "第四十六条、第四十七条" in text and "某市市场监督管理局" in text and "张三" in text

    public = app.test_client()
    code = started["access_code"]
    form = {"csrf_token": csrf_token(public.get("/progress").get_data(as_text=True))}
    shown = public.post("/progress", data={**form, "number": str(case_id), "code": code}).get_data(
        as_text=True
    )
    assert "您有权在 2026-10-10 前要求听证" in shown

    # the window records the request on 09-29: a 听证 task for the decision's group
    clock.now = at(29, 9)
    answered = window.post(
        f"/cases/{case_id}/hearing",
        data={"csrf_token": token, "action": "request", "note": "书面申请"},
    )
    assert answered.status_code == 302
    page = window.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "听证中 (暂停计时)" in page and 'name="action"' not in page
    assert "听证应于 2026-11-02 前举行" in page and "告知申请人可在 2026-10-10 前要求听证" in page
    assert "等待 hearing" not in page and "等待 听证" in page
    again = api.post(
        f"/api/v1/cases/{case_id}/hearing", headers=headers["front_desk"], json={"action": "waive"}
    )
    assert again.status_code == 409
    assert_matches(again, path, "post")
    shown = public.post("/progress", data={**form, "number": str(case_id), "code": code}).get_data(
        as_text=True
    )
    assert "听证中 (暂停计时)" in shown and "2026-11-02" in shown

    worklist = reviewer.get("/work/").get_data(as_text=True)
    assert "听证中" in worklist
    held = next(
        t
        for t in api.get(f"/api/v1/cases/{case_id}", headers=headers["auditor"]).get_json()["tasks"]
        if t["kind"] == "hearing"
    )
    page = reviewer.get(f"/work/tasks/{held['id']}").get_data(as_text=True)
    assert "听证笔录摘要" in page and 'name="held_on"' in page and "2026-11-02" in page

    clock.now = at(9)
    reviewer_token = csrf_token(page)
    done = reviewer.post(
        f"/work/tasks/{held['id']}",
        data={"csrf_token": reviewer_token, "held_on": "2026-10-09", "minutes": "申请人陈述意见"},
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    case = api.get(f"/api/v1/cases/{case_id}", headers=headers["auditor"]).get_json()
    assert case["clock"] == "running" and case["deadline"] == "2026-10-28"
    decided = api.post(
        f"/api/v1/tasks/{decide}/complete", headers=headers["market_reviewer"], json={"data": {}}
    )
    assert decided.status_code == 200
