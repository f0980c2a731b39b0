"""挂起 / 恢复 in the browser: suspending from the case page, the task page refusing work with the
banner, the worklist's badge, resuming from the task page."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages


def test_suspending_and_resuming_a_case(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    desk = staff["front_desk"][0]
    case = cases.start_case(live_services, desk, "restaurant", r.APPLICATION)
    case = cases.complete(live_services, desk, case["tasks"][0]["id"], r.ACCEPT)
    review = next(t for t in case["tasks"] if "market_regulation" in t["groups"])
    assert case["clock"] == "running"

    # a department not holding the case is offered no 挂起
    other = pages.new("inspector")
    pages.goto(other, f"/cases/{case['id']}")
    assert other.locator("#suspend").count() == 0

    page = pages.new("market_reviewer")
    pages.goto(page, f"/cases/{case['id']}")
    page.click("#suspend summary")
    options = page.locator(f"#suspend-kind-{case['id']} option").all_inner_texts()
    assert "专家评审 (暂停计时)" in options and "等待法院裁定 (继续计时)" in options
    page.select_option(f"#suspend-kind-{case['id']}", "expert_review")
    page.fill(f"#suspend-reason-{case['id']}", "委托三名专家评审厨房布局")
    pages.shot(page, "suspension-form")
    with page.expect_navigation():  # without the confirmation: refused, nothing changes
        page.click(f"#suspend-submit-{case['id']}")
    assert "请勾选确认" in page.content()
    assert page.locator(".suspended-banner").count() == 0
    page.click("#suspend summary")
    page.select_option(f"#suspend-kind-{case['id']}", "expert_review")
    page.fill(f"#suspend-reason-{case['id']}", "委托三名专家评审厨房布局")
    page.check(f"#suspend-confirm-{case['id']}")
    with page.expect_navigation():
        page.click(f"#suspend-submit-{case['id']}")
    banner = page.locator(".suspended-banner")
    assert "已挂起: 专家评审" in banner.inner_text()
    assert "委托三名专家评审厨房布局" in banner.inner_text()
    assert "计时暂停" in banner.locator(".suspended-clock").inner_text()
    assert "market_reviewer" in banner.inner_text()
    assert page.locator("#suspend").count() == 0
    assert "已挂起" in page.locator(".facts .badge.status-suspended").inner_text()
    timeline = page.locator("table.timeline").inner_text()
    assert "挂起" in timeline and "委托三名专家评审厨房布局" in timeline
    pages.shot(page, "suspension-case-page")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    pages.shot(page, "suspension-case-page-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    pages.goto(page, "/work")
    row = page.locator(f"tr[data-task='{review['id']}']")
    assert "已挂起" in row.locator(".case-suspended").inner_text()
    pages.shot(page, "suspension-worklist")

    pages.goto(page, f"/work/tasks/{review['id']}")
    assert "已挂起" in page.locator(".suspended-banner").inner_text()
    assert "恢复后才能办理" in page.locator(".suspended-notice").inner_text()
    assert page.locator("#task-form button[type=submit]").count() == 0
    pages.shot(page, "suspension-task-page")

    page.click(".resume-card summary")
    page.fill(f"#resume-note-{case['id']}", "专家意见已收到")
    with page.expect_navigation():
        page.click(f"#resume-submit-{case['id']}")
    assert page.url.endswith(f"/work/tasks/{review['id']}")
    assert page.locator(".suspended-banner").count() == 0
    assert page.locator("#task-form button[type=submit]").count() == 1
    pages.shot(page, "suspension-resumed-task-page")

    found = queries.get_case(live_services, staff["auditor"][0], case["id"])
    assert found["status"] == "running" and found["clock"] == "running"
    kinds = [e["type"] for e in queries.events(live_services, staff["auditor"][0], case["id"])]
    assert kinds[-4:] == ["case_suspended", "clock_paused", "case_unsuspended", "clock_resumed"]
