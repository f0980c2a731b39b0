"""消息中心 and 催办 in Chromium (issue 17 · G): after 受理 the reviewer sees the unread badge in
the top bar, opens the message and lands on the task; a supervisor urges the task from the case
page and the reviewer is told; the message centre at 1366 and at 390 px, without overflow."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages

PHONE = {"width": 390, "height": 844}


def _overflow(page: Any) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_a_reviewer_is_told_and_a_supervisor_urges(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    front = staff["front_desk"][0]
    case = cases.start_case(live_services, front, "restaurant", r.APPLICATION)
    case = cases.complete(live_services, front, case["tasks"][0]["id"], r.ACCEPT)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")

    # the reviewer: the badge on the top bar, the message, the task
    page = pages.new("market_reviewer")
    assert page.locator(".topbar .unread-badge").inner_text() == "1"
    page.click(".topbar .messages-link")
    assert page.url == pages.live.url("/messages/")
    item = page.locator("li.message").first
    assert "新任务: 营业执照审查" in item.inner_text() and "未读" in item.inner_text()
    pages.shot(page, "messages-inbox-1366")
    item.locator("button.message-title").click()
    page.wait_for_load_state()
    assert page.url == pages.live.url(f"/work/tasks/{review}")
    assert page.locator(".topbar .unread-badge").count() == 0

    # the supervisor urges it from the case page
    boss = pages.new("supervisor")
    pages.goto(boss, f"/cases/{case['id']}")
    form = boss.locator("form.urge-form")
    form.locator("select[name=task_id]").select_option(review)
    form.locator("textarea[name=message]").fill("申请人今天第三次来电询问进度")
    pages.shot(boss, "messages-urge-form")
    form.locator("button.urge-button").click()
    boss.wait_for_load_state()
    assert "已催办, 已通知 market_regulation" in boss.locator(".flash").inner_text()
    assert boss.locator("tr.ev-task_urged").count() == 1
    # a second urge within the hour is refused, in Chinese
    boss.locator("form.urge-form select[name=task_id]").select_option(review)
    boss.locator("form.urge-form button.urge-button").click()
    boss.wait_for_load_state()
    assert "一小时内只能催办一次" in boss.locator(".flash").inner_text()
    pages.shot(boss, "messages-urge-refused")

    # the reviewer, on a phone: the 催办 arrives; the message centre fits 390 px
    phone = pages.new()
    phone.set_viewport_size(PHONE)
    pages.sign_in(phone, "market_reviewer")
    assert phone.locator(".topbar .unread-badge").inner_text() == "1"
    pages.goto(phone, "/messages/")
    first = phone.locator("li.message").first
    assert "催办: 营业执照审查" in first.inner_text()
    assert "申请人今天第三次来电询问进度" in first.inner_text()
    assert _overflow(phone) <= 0, "the message centre overflows at 390 px"
    pages.shot(phone, "messages-inbox-390")
    first.locator("button.message-title").click()  # to the task, which shows the 催办
    phone.wait_for_load_state()
    assert phone.url == pages.live.url(f"/work/tasks/{review}")
    assert "申请人今天第三次来电询问进度" in phone.locator(".task-urged").inner_text()
    assert _overflow(phone) <= 0, "the task page overflows at 390 px"
    pages.shot(phone, "messages-task-urged-390")
    assert phone.locator(".topbar .unread-badge").count() == 0  # read by opening it
