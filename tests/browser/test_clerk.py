"""The clerk's day in the browser: 一窗受理 at the front desk, the worklist, claiming, the intake
form with an error fixed in place, and the parallel reviews (并联审批) reaching their desks."""

from __future__ import annotations

import re
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages


def _deploy(svc: Services) -> None:
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")


def test_a_case_from_the_desk_to_the_parallel_reviews(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services)
    page = pages.new("front_desk")

    # 一窗受理: choose the bundle, fill the application, get the receipt with the access code
    page.click("text=一窗受理 · 收件")
    assert page.url == pages.live.url("/work/start")
    pages.shot(page, "clerk-start-list")
    page.click("[data-bundle=restaurant] >> text=收件")
    assert page.url == pages.live.url("/work/start/restaurant")
    for name, value in r.APPLICATION.items():
        locator = page.locator(f"[name={name}]")
        locator.fill(str(value))
    page.fill("[name=applicant_name]", "孙八")
    pages.shot(page, "clerk-start-form")
    page.click("button:has-text('收件并生成办件')")
    page.wait_for_load_state()
    code = page.locator("#access-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){2}", code), code
    case_id = int(page.locator(".case-no").inner_text())
    pages.shot(page, "clerk-receipt")

    # the worklist shows it, not yet accepted; claim it
    page.click("text=返回待办")
    row = page.locator(f"tr[data-case='{case_id}']")
    assert "孙八" in row.inner_text()
    assert "一窗受理" in row.inner_text()
    assert "尚未受理" in row.inner_text()
    assert "未认领" in row.locator(".assignee").inner_text()
    row.locator("button.claim").click()
    page.wait_for_load_state()
    assert "已认领" in page.locator(".flash").inner_text()
    row = page.locator(f"tr[data-case='{case_id}']")
    assert row.locator(".assignee").inner_text() == "front_desk 我"
    assert row.locator("button.unclaim").count() == 1 and row.locator("button.claim").count() == 0
    pages.shot(page, "clerk-worklist")

    # the intake task: 容缺受理 without its materials -> inline Chinese errors, input kept
    row.locator("a.task-link").click()
    assert "/work/tasks/" in page.url
    assert page.locator("#case-link").get_attribute("href") == f"/cases/{case_id}"
    assert "经营场所平面布局图" in page.locator(".materials").inner_text()
    assert page.locator(".claim-line button.unclaim").inner_text() == "取消认领"
    page.fill("[name=intake_opinion]", "主要材料齐全")
    page.check("input[name=intake_decision][value=accept_with_gaps]")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    deferred = page.locator("[data-field=deferred_materials]")
    assert "invalid" in (deferred.get_attribute("class") or "")
    assert deferred.locator(".field-error").inner_text() == "必填"
    assert page.locator("[data-field=supply_workdays] .field-error").inner_text() == "必填"
    assert page.locator("[name=intake_opinion]").input_value() == "主要材料齐全"
    assert page.locator("input[name=intake_decision][value=accept_with_gaps]").is_checked()
    pages.shot(page, "clerk-task-invalid")

    # 受理: back to the worklist, the case moved on
    page.check("input[name=intake_decision][value=accept]")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/work/")
    assert "已办理" in page.locator(".flash").inner_text()
    assert page.locator(f"tr[data-case='{case_id}']").count() == 0

    # 并联审批: each reviewer sees the case in their own worklist, with its deadline
    for clerk, task_name in (
        ("market_reviewer", "营业执照审查"),
        ("food_reviewer", "食品经营许可审查"),
    ):
        desk = pages.new(clerk)
        row = desk.locator(f"tr[data-case='{case_id}']")
        assert task_name in row.inner_text(), clerk
        assert "剩" in row.inner_text() and "个工作日" in row.inner_text()
        assert row.locator(".deadline-date").inner_text().startswith("20")
        pages.shot(desk, f"clerk-worklist-{clerk}")
    with desk.expect_navigation():
        desk.locator(f"tr[data-case='{case_id}'] a.task-link").click()
    assert desk.locator("input[name=food_approved]").count() == 2
    assert "已提交" in desk.locator(".materials").inner_text()
    pages.shot(desk, "clerk-task-review")


def test_worklist_filters_and_pages_in_the_browser(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services)
    desk = staff["front_desk"][0]
    queued = [
        cases.start_case(
            live_services, desk, "restaurant", {**r.APPLICATION, "applicant_name": f"排队{i:02d}"}
        )
        for i in range(27)
    ]
    cases.claim(live_services, staff["other_clerk"][0], queued[3]["tasks"][0]["id"])
    page = pages.new("front_desk")
    assert page.locator("table.worklist tbody tr").count() == 25
    page.click("a.next")
    assert page.locator("table.worklist tbody tr").count() == 2
    assert "排队26" in page.locator("table.worklist").inner_text()
    page.click("a.prev")
    assert page.locator("table.worklist tbody tr").count() == 25
    assert "排队00" in page.locator("table.worklist").inner_text()

    # a select filters at once (clerk.js); the search box on 查询
    with page.expect_navigation():
        page.select_option("select[name=claimed]", "unclaimed")
    assert "claimed=unclaimed" in page.url
    assert "排队03" not in page.locator("table.worklist").inner_text()
    page.fill("input[name=q]", "排队1")
    page.click("button:has-text('查询')")
    page.wait_for_load_state()
    names = page.locator("table.worklist tbody tr").all_inner_texts()
    assert len(names) == 10 and all("排队1" in n for n in names)
    pages.shot(page, "clerk-worklist-filtered")

    # another clerk's task cannot be claimed: the conflict is a flash
    page.click("text=清除筛选")
    row = page.locator(f"tr[data-case='{queued[3]['id']}']")
    assert "other_clerk" in row.inner_text()
    assert row.locator("button.claim").count() == 0
    response = pages.goto(page, f"/work/tasks/{queued[3]['tasks'][0]['id']}")
    assert response.status == 200
    assert "只有认领人可以办理" in page.locator(".task-form").inner_text()
    assert page.locator("input[name=intake_decision]").first.is_disabled()
