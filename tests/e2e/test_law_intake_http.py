"""Art. 32 (受理期限, 视为受理) over HTTP on both databases: the case, task and worklist answers
against the spec, the clerk's worklist, task and case pages, and the public progress page and
answer, before and after the intake limit passed unanswered."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, publishing
from engine.services.worker import run_due
from tests.conftest import FORMS
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.clock import FakeClock
from tests.fixtures.pages import csrf_token, sign_in
from tests.integration.test_law_intake import bundle, local

PASSWORD = "intake pages pw"


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))  # the text, as read
    return " ".join(unescape(words).split())


def test_the_intake_limit_and_the_deemed_acceptance_on_every_page(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    clock = FakeClock(local(9, 25, 10))  # 中秋, an online submission
    svc = Services(services.engine, FORMS, clock=clock)
    publishing.deploy(
        svc, from_upload("i.zip", bundle("intake_law", escalation_group="supervisors")), "test"
    )
    accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    app = create_app({"SERVICES": svc, "TESTING": True})
    api = app.test_client()
    desk = users["front_desk"].headers

    started = api.post(
        "/api/v1/cases", headers=desk, json={"bundle": "intake_law", "data": {"applicant": "张三"}}
    )
    assert started.status_code == 201, started.get_json()
    case_id, code = started.get_json()["id"], started.get_json()["access_code"]
    task_id = started.get_json()["tasks"][0]["id"]
    got = assert_matches(
        api.get(f"/api/v1/cases/{case_id}", headers=desk), "/cases/{case_id}", "get"
    )
    assert got["intake"]["deadline"] == "2026-10-09" and got["intake"]["remaining_workdays"] == 5
    task = assert_matches(
        api.get(f"/api/v1/tasks/{task_id}", headers=desk), "/tasks/{task_id}", "get"
    )
    assert task["intake_deadline"] == "2026-10-09"

    clock.now = local(10, 8, 9)  # day 4: 预警 on the worklist
    run_due(svc)
    listed = assert_matches(api.get("/api/v1/tasks", headers=desk), "/tasks", "get")["tasks"]
    assert (listed[0]["intake_deadline"], listed[0]["flag"]) == ("2026-10-09", "warning")

    clerk = app.test_client()
    sign_in(clerk, svc, "front_desk", PASSWORD)
    page = text_of(clerk.get("/work/"))
    assert "受理期限 2026-10-09 预警" in page and "剩 1 个工作日 · 尚未受理" in page
    page = text_of(clerk.get(f"/work/tasks/{task_id}"))
    assert "受理期限 2026-10-09 预警" in page
    page = text_of(clerk.get(f"/cases/{case_id}"))
    assert "受理期限 2026-10-09 (还剩 1 个工作日) 预警" in page
    assert "2026-09-25 收到材料" in page

    public = app.test_client()
    form = public.get("/progress").get_data(as_text=True)
    shown = text_of(
        public.post(
            "/progress", data={"csrf_token": csrf_token(form), "number": str(case_id), "code": code}
        )
    )
    assert "窗口将在 2026-10-09 前决定是否受理或告知需要补正的材料 (还剩 1 个工作日)" in shown

    clock.now = local(10, 10, 9)  # the 调休 Saturday: deemed accepted from 09-25
    run_due(svc)
    got = assert_matches(
        api.get(f"/api/v1/cases/{case_id}", headers=desk), "/cases/{case_id}", "get"
    )
    assert got["intake"]["deemed_accepted"] and got["time_limit"]["started_on"] == "2026-09-25"
    page = text_of(clerk.get(f"/cases/{case_id}"))
    assert "逾期未答复, 已于 2026-10-10 视为受理 (自收件之日 2026-09-25 起计时)" in page
    page = text_of(clerk.get("/work/"))
    assert "尚未受理" not in page and "2026-10-15" in page  # the case's deadline now

    shown = text_of(
        public.post(
            "/progress", data={"csrf_token": csrf_token(form), "number": str(case_id), "code": code}
        )
    )
    assert "窗口未在 2026-10-09 前答复, 依法视为已受理" in shown
    assert "办理时限从收到材料之日 (2026-09-25) 起计算" in shown
    assert "逾期未答复, 依法视为受理 (行政许可法第三十二条)" in shown  # the timeline
    answer = api.get(f"/api/v1/public/cases/{case_id}", headers={"X-Access-Code": code})
    progress = assert_matches(answer, "/public/cases/{case_id}", "get")
    assert progress["intake"]["deemed_accepted"] is True
    steps = [s["step"] for s in progress["timeline"]]
    assert steps[-2:] == [
        "逾期未答复, 依法视为受理 (行政许可法第三十二条)",
        "自收到材料之日 (2026-09-25) 起计算办理时限",
    ]
