"""听证 (Arts. 46–47) in the browser: the box 听证权利告知 on the decision task's page, the window
records the request on the case page, the 听证 task's 听证笔录 form, the 听证告知书 prints.
Screenshots in test-output/screenshots/hearing-*.png."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from tests.browser.conftest import Pages
from tests.fixtures.hearing import APPLICATION, BUNDLE


def test_a_hearing_requested_and_held(
    live_services: Services, live: Any, staff: dict[str, Any], pages: Pages
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("heard.zip", BUNDLE), "test")
    desk = staff["front_desk"][0]
    case = cases.start_case(svc, desk, "heard", dict(APPLICATION))
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    decide = next(t["id"] for t in case["tasks"] if t["element"] == "decide")

    reviewer = pages.new("market_reviewer")
    pages.goto(reviewer, "/work")
    assert "待听证答复" in reviewer.content()
    pages.shot(reviewer, "hearing-worklist")
    pages.goto(reviewer, f"/work/tasks/{decide}")
    assert "听证权利告知" in reviewer.locator("#hearing").inner_text()
    pages.shot(reviewer, "hearing-decision-task")

    window = pages.new("front_desk")
    pages.goto(window, f"/cases/{case['id']}")
    window.fill(f"#hearing-note-{case['id']}", "申请人当日递交书面听证申请")
    pages.shot(window, "hearing-case-answer")
    window.click(f"#hearing-request-{case['id']}")
    window.wait_for_load_state()
    assert "听证中 (暂停计时)" in window.locator("#hearing").inner_text()
    pages.shot(window, "hearing-case-requested")

    pages.goto(reviewer, "/work")
    reviewer.click("text=听证: 许可决定")
    reviewer.wait_for_load_state()
    assert "听证笔录摘要" in reviewer.content()
    pages.shot(reviewer, "hearing-minutes")

    notice = pages.new("front_desk")
    pages.goto(notice, f"/cases/{case['id']}/hearing-notice")
    assert "听证告知书" in notice.content()
    pages.shot(notice, "hearing-notice")
    assert not pages.outside and not pages.script_errors
