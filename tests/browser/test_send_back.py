"""退回 and 撤回 in the browser (issue 18 · 1, 7): a food reviewer sends the case back to 一窗受理
from the task page; the window sees why and the earlier decision, accepts again, takes it back
(撤回) from the case page and accepts once more; the auditor steps to the 退回 and sees it
drawn back on the diagram, and the whole case verifies."""

from __future__ import annotations

from typing import Any

from engine.services import Services, cases, queries
from tests.fixtures import restaurant as r

from .conftest import Pages


def _open(view: dict[str, Any], element: str) -> dict[str, Any]:
    return next(t for t in view["tasks"] if t["element"] == element)


def test_send_back_and_recall_walk(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    from engine.bundles.source import from_path
    from engine.services import publishing
    from tests.conftest import PROCESSES

    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    desk_user = staff["front_desk"][0]
    view = cases.start_case(live_services, desk_user, "restaurant", r.APPLICATION)
    view = cases.complete(live_services, desk_user, _open(view, "intake")["id"], r.ACCEPT)
    view = cases.complete(
        live_services,
        staff["market_reviewer"][0],
        _open(view, "review_licence")["id"],
        r.LICENCE_OK,
    )
    review = _open(view, "review_food")

    # the food reviewer sends it back, with the reason
    page = pages.new("food_reviewer")
    pages.goto(page, f"/work/tasks/{review['id']}")
    page.click("#send-back summary")
    assert page.locator("#send-back input[name=target]").count() == 1  # 一窗受理 only (the design)
    assert "一窗受理" in page.locator("#send-back").inner_text()
    pages.shot(page, "send-back-form")
    assert page.locator("#send-back-reason").get_attribute("required") is not None
    page.fill("#send-back-reason", "经营场所证明上的地址与申请地址不一致, 请窗口核对")
    with page.expect_navigation():
        page.click("#send-back-submit")
    assert page.url.endswith(f"/cases/{view['id']}")
    timeline = page.locator("table.timeline").inner_text()
    assert "从「食品经营许可审查」退回到「一窗受理」" in timeline
    pages.shot(page, "send-back-case-page")

    # the window sees it in its worklist, opens it: why, and what it decided before
    window = pages.new("front_desk")
    pages.goto(window, "/work/")
    with window.expect_navigation():
        window.click("table.worklist a[href*='/work/tasks/'] >> nth=0")
    note = window.locator("#reopened")
    assert "本任务被退回" in note.inner_text() and "地址与申请地址不一致" in note.inner_text()
    assert "材料齐全" in note.locator(".earlier-round").inner_text()
    pages.shot(window, "send-back-reopened-task")
    window.check("input[name=intake_decision][value=accept]")
    with window.expect_navigation():
        window.click("#task-form button[type=submit]")

    # 撤回 from the case page, while the reviews are untouched
    pages.goto(window, f"/cases/{view['id']}")
    recall = window.locator("#recall")
    assert recall.count() == 1
    pages.shot(window, "recall-box")
    window.fill("#recall textarea[name=reason]", "受理意见需补充容缺说明")
    with window.expect_navigation():
        window.click("#recall .recall-submit")
    assert "/work/tasks/" in window.url
    assert "本任务已撤回重办" in window.locator("#reopened").inner_text()
    pages.shot(window, "recall-reopened-task")
    window.check("input[name=intake_decision][value=accept]")
    with window.expect_navigation():
        window.click("#task-form button[type=submit]")

    # the auditor steps to the 退回: drawn back on the diagram
    events = queries.events(live_services, staff["auditor"][0], view["id"])
    back = next(e for e in events if e["type"] == "task_sent_back")
    audit = pages.new("auditor")
    pages.goto(audit, f"/audit/cases/{view['id']}")
    pages.wait_for_diagram(audit, "#history-diagram")
    audit.locator("#step-slider").fill(str(back["seq"]))
    audit.wait_for_function(
        "s => { const h = document.getElementById('history');"
        " return h.dataset.step === String(s) && !h.dataset.loading; }",
        arg=back["seq"],
    )
    diagram = audit.locator("#history-diagram")
    assert diagram.get_attribute("data-sent-back") == "review_food>intake"
    assert audit.locator("#history-diagram path.sent-back-arrow").count() == 2
    assert audit.locator("#history-diagram .hl-reopened[data-element-id=intake]").count() == 1
    pages.shot(audit, "send-back-auditor-step")
    verdict = queries.get_case(live_services, staff["auditor"][0], view["id"])
    assert verdict["status"] == "running"
    from engine.services.audit import replay

    assert replay(live_services, staff["auditor"][0], view["id"])["verified"]
