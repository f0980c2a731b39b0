"""An hour limit (`time_limit: 4h`) in the browser: the worklist, the task page and the case page
show the due moment and the hours ("12月7日 16:00 前 (4 个工作小时)")."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from tests.integration.test_hour_limits import bundle
from web.pages.clerk import due_moment


def test_the_worklist_task_and_case_pages_show_the_due_moment(
    pages: Any, live_services: Services, staff: dict[str, Any]
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("h.zip", bundle("hourly")), "test")
    desk = staff["front_desk"][0]
    case = cases.start_case(svc, desk, "hourly", {})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    (task,) = case["tasks"]
    assert task["due_at"] and task["limit_hours"] == 4
    due = f"{due_moment(task['due_at'])} 前"

    reviewer = pages.new("market_reviewer")
    pages.goto(reviewer, "/work/")
    row = reviewer.locator("tr", has_text="设立登记").first
    text = row.inner_text()
    assert due in text and "(4 个工作小时)" in text, text
    assert "本环节剩" in text and "个工作小时" in text
    pages.shot(reviewer, "hour-limit-worklist")

    pages.goto(reviewer, f"/work/tasks/{task['id']}")
    limit = reviewer.locator(".task-limit").inner_text()
    assert due in limit and "(4 个工作小时)" in limit, limit

    pages.goto(reviewer, f"/cases/{case['id']}")
    step = reviewer.locator("tr[data-element=register]").inner_text()
    assert due in step and "(4 个工作小时)" in step, step


def test_the_editor_takes_an_hour_limit(
    pages: Any, live_services: Services, staff: dict[str, Any]
) -> None:
    from tests.browser.test_editor_panel import PANEL, READY, _deploy

    _deploy(live_services)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/pharmacy/1/edit")
    page.wait_for_selector(READY)
    page.click('.djs-element[data-element-id="cold_check"]')
    limit = page.locator(f"{PANEL} input[name=lianban-time-limit]")
    limit.fill("0h")
    entry = page.locator(f'{PANEL} [data-entry-id="lianban-time-limit"]')
    entry.get_by_text("工作小时数应为 1 到 2000").wait_for()  # shown as typed, not stored
    limit.fill("4h")
    page.wait_for_function(
        "() => (LianbanDraft.modeler.get('elementRegistry').get('cold_check').businessObject"
        ".get('extensionElements') || {values: []}).values.some(list => (list.values || [])"
        ".some(p => p.name === 'time_limit' && p.value === '4h'))"
    )
    entry.get_by_text("工作小时数应为").wait_for(state="detached")
