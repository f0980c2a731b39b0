"""延期 (Art. 42) in the browser: the reviewer asks on the task page, the office head approves on
the 延期审批 page, the case page shows the grant, the 延期通知书 prints. Screenshots in
test-output/screenshots/extension-*.png."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.browser.conftest import PASSWORD, Pages
from tests.integration.test_law_extension import APPLICANT, bundle


def test_an_extension_asked_approved_and_printed(
    live_services: Services, live: Any, staff: dict[str, Any], pages: Pages
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("extended.zip", bundle()), "test")
    accounts.create_user(svc, "office_head", "clerk", ["office_heads"])
    set_password(svc, "office_head", PASSWORD)
    desk = staff["front_desk"][0]
    case = cases.start_case(svc, desk, "extended", APPLICANT)
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    review = case["tasks"][0]["id"]

    reviewer = pages.new("market_reviewer")
    pages.goto(reviewer, f"/work/tasks/{review}")
    reviewer.click("#extension summary")
    reviewer.fill(f"#extension-days-{case['id']}", "5")
    reviewer.fill(f"#extension-reason-{case['id']}", "需要现场核查经营场所, 等待消防意见")
    pages.shot(reviewer, "extension-request")
    reviewer.click(f"#extension-submit-{case['id']}")
    reviewer.wait_for_load_state()
    assert "已提交延期申请" in reviewer.content()

    head = pages.new("office_head")
    pages.goto(head, "/work")
    head.click("text=延期审批")
    head.wait_for_load_state()
    assert "延期申请" in head.content() and "批准后承诺期限" in head.content()
    head.check("input[name=decision][value=approve]")
    head.fill("textarea[name=opinion]", "同意延期")
    pages.shot(head, "extension-approval")
    head.click("#task-form button[type=submit]")
    head.wait_for_load_state()

    pages.goto(reviewer, f"/cases/{case['id']}")
    text = reviewer.locator("#extension").inner_text()
    assert "已延期 5 个工作日" in text and "office_head 批准" in text
    pages.shot(reviewer, "extension-case")
    notice = pages.new("market_reviewer")
    pages.goto(notice, f"/cases/{case['id']}/extension-notice")
    assert "延期通知书" in notice.content()
    pages.shot(notice, "extension-notice")
    assert not pages.outside and not pages.script_errors
