"""延期 (Art. 42) over HTTP on both databases: the API route against the spec, the 申请延期 form
on the reviewer's task page, the approver's 延期审批 page, the case page after the grant, the
printable 延期通知书 and the public progress page."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, publishing
from tests.conftest import FORMS
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.clock import FakeClock
from tests.fixtures.pages import csrf_token, sign_in
from tests.integration.test_law_extension import APPLICANT, bundle, local

PASSWORD = "extension pages pw"


def test_asking_approving_and_printing_an_extension(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    clock = FakeClock(local(9, 22))
    svc = Services(services.engine, FORMS, clock=clock)
    publishing.deploy(svc, from_upload("extended.zip", bundle()), "test")
    accounts.create_user(svc, "head", "clerk", ["office_heads"])
    app = create_app({"SERVICES": svc, "TESTING": True})
    api = app.test_client()
    headers = {name: u.headers for name, u in users.items()}

    started = api.post(
        "/api/v1/cases",
        headers=headers["front_desk"],
        json={"bundle": "extended", "data": APPLICANT},
    ).get_json()
    accept = started["tasks"][0]["id"]
    case = api.post(
        f"/api/v1/tasks/{accept}/complete", headers=headers["front_desk"], json={"data": {}}
    ).get_json()
    case_id, review = case["id"], case["tasks"][0]["id"]
    path = "/cases/{case_id}/extension"

    # the API: refusals by name, then the reviewer's form on the task page
    refused = api.post(
        f"/api/v1/cases/{case_id}/extension",
        headers=headers["market_reviewer"],
        json={"workdays": 11, "reason": "理由"},
    )
    assert refused.status_code == 422
    assert assert_matches(refused, path, "post")["errors"][0]["field"] == "workdays"
    other = api.post(
        f"/api/v1/cases/{case_id}/extension",
        headers=headers["inspector"],
        json={"workdays": 3, "reason": "理由"},
    )
    assert other.status_code == 403
    assert_matches(other, path, "post")
    got = api.get(f"/api/v1/cases/{case_id}/extension", headers=headers["market_reviewer"])
    assert assert_matches(got, path, "get")["may_request"] is True

    reviewer = app.test_client()
    token = sign_in(reviewer, svc, "market_reviewer", PASSWORD)
    page = reviewer.get(f"/work/tasks/{review}").get_data(as_text=True)
    assert "申请延期" in page and 'name="workdays"' in page
    clock.now = local(9, 30, 10)  # the deadline day
    answer = reviewer.post(
        f"/cases/{case_id}/extension",
        data={"csrf_token": token, "workdays": "3", "reason": "需要现场核查经营场所"},
    )
    assert answer.status_code == 302
    page = reviewer.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "等待负责人审批" in page and 'name="workdays"' not in page
    got = assert_matches(
        api.get(f"/api/v1/cases/{case_id}/extension", headers=headers["auditor"]), path, "get"
    )
    pending = got["pending"]
    assert pending["workdays"] == 3 and pending["by"] == "market_reviewer"
    again = api.post(
        f"/api/v1/cases/{case_id}/extension",
        headers=headers["market_reviewer"],
        json={"workdays": 2, "reason": "再申请"},
    )
    assert again.status_code == 409
    assert_matches(again, path, "post")

    # the approver's page: the request, the current and the new deadline, 批准 / 不批准
    head = app.test_client()
    head_token = sign_in(head, svc, "head", PASSWORD)
    page = head.get(f"/work/tasks/{pending['task_id']}").get_data(as_text=True)
    assert "延期申请" in page and "需要现场核查经营场所" in page
    assert "2026-09-30" in page and "2026-10-10" in page
    assert "批准延期" in page and "不批准" in page and 'name="opinion"' in page
    done = head.post(
        f"/work/tasks/{pending['task_id']}",
        data={"csrf_token": head_token, "decision": "approve", "opinion": "同意"},
    )
    assert done.status_code == 302, done.get_data(as_text=True)

    page = reviewer.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已延期 3 个工作日" in page and "head 批准" in page and "打印延期通知书" in page
    assert 'name="workdays"' not in page  # once only
    case = api.get(f"/api/v1/cases/{case_id}", headers=headers["auditor"]).get_json()
    assert case["deadline"] == "2026-10-10"

    notice = reviewer.get(f"/cases/{case_id}/extension-notice")
    text = notice.get_data(as_text=True)
    assert notice.status_code == 200 and "延期通知书" in text
    assert "2026-10-10" in text and "2026-09-30" in text and "延长期限" in text
    assert "第四十二条" in text and "某市市场监督管理局" in text and "张三" in text

    public = app.test_client()
    code = started["access_code"]
    progress = public.get("/progress").get_data(as_text=True)
    shown = public.post(
        "/progress",
        data={"csrf_token": csrf_token(progress), "number": str(case_id), "code": code},
    ).get_data(as_text=True)
    assert "已依法延期 3 个工作日" in shown and "2026-10-10" in shown
    progress_api = api.get(
        f"/api/v1/public/cases/{case_id}", headers={"X-Access-Code": code}
    ).get_json()
    assert progress_api["extended_workdays"] == 3
