"""转办 and 委派 in Chromium (issue 18 · 2, 3): after 受理 the market reviewer delegates the
licence review to a colleague of the food safety department, who answers with an opinion from
their worklist; the reviewer sees the opinion above the form and decides. Then a food reviewer
transfers the food review to a colleague of the same group."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import PASSWORD, Pages


def _fill(page: Any, data: dict[str, Any]) -> None:
    """Fill the task form the way a clerk would, whatever widget each field became."""
    for name, value in data.items():
        field = page.locator(f"#task-form [name={name}]").first
        kind = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if kind == "input:checkbox" and isinstance(value, bool):
            field.set_checked(value)
        elif kind == "input:radio":
            wanted = str(value).lower() if isinstance(value, bool) else str(value)
            page.check(f"#task-form input[name={name}][value='{wanted}']")
        elif kind.startswith("select"):
            field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
        else:
            field.fill(str(value))


def test_delegate_for_an_opinion_then_decide_and_transfer(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    svc = live_services
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")
    accounts.create_user(
        svc, "food_expert", "clerk", ["food_safety"], display_name="李娜", department="食品安全科"
    )
    set_password(svc, "food_expert", PASSWORD)
    front = staff["front_desk"][0]
    case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
    case = cases.complete(svc, front, case["tasks"][0]["id"], r.ACCEPT)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_licence")
    food = next(t["id"] for t in case["tasks"] if t["element"] == "review_food")

    # the market reviewer asks the food safety department's 李娜 for an opinion
    me = pages.new("market_reviewer")
    pages.goto(me, f"/work/tasks/{review}")
    me.click("#delegate summary")
    me.locator("#delegate-to").select_option("food_expert")
    assert "李娜 (食品安全科)" in me.locator("#delegate-to option:checked").inner_text()
    me.fill("#delegate-reason", "请食品安全科就后厨布局是否影响登记提出意见")
    pages.shot(me, "handover-delegate-form")
    with me.expect_navigation():
        me.click("#delegate-submit")
    assert "已委派 food_expert 提出意见" in me.locator(".flash").first.inner_text()
    assert "任务已委派给 food_expert" in me.locator(".delegation-waiting").inner_text()
    assert me.locator("#task-form button[type=submit]").count() == 0  # nothing to submit
    pages.shot(me, "handover-owner-waiting")

    # 李娜 finds it in her worklist, reads it, answers with her opinion
    expert = pages.new("food_expert")
    pages.goto(expert, "/work/")
    row = expert.locator(f"tr[data-task='{review}']")
    assert row.count() == 1 and "委派给我" in row.inner_text()
    assert row.locator("button.unclaim").count() == 0
    pages.shot(expert, "handover-delegate-worklist")
    row.locator("a.task-link").click()
    expert.wait_for_load_state()
    assert expert.locator("#task-form button[type=submit]").count() == 0
    assert expert.locator("#delegate, #transfer").count() == 0
    expert.fill("#delegation-opinion", "后厨布局符合食品安全要求, 不影响登记")
    pages.shot(expert, "handover-answer-form")
    with expert.expect_navigation():
        expert.click("#answer-submit")
    assert "意见已交回 market_reviewer" in expert.locator(".flash").first.inner_text()
    assert expert.locator(f"tr[data-task='{review}']").count() == 0

    # the reviewer sees the opinion above the form, and decides
    pages.goto(me, f"/work/tasks/{review}")
    shown = me.locator(".delegation-opinion").inner_text()
    assert "委派意见: 李娜 (食品安全科): 后厨布局符合食品安全要求, 不影响登记" in shown
    pages.shot(me, "handover-opinion-shown")
    _fill(me, r.LICENCE_OK)
    with me.expect_navigation():
        me.click("button:has-text('提交办理')")
    assert me.url == pages.live.url("/work/"), me.locator("main").inner_text()[:400]

    # the case's timeline tells both steps in words
    pages.goto(me, f"/cases/{case['id']}")
    assert "委派 food_expert 提出意见" in me.locator("tr.ev-task_delegated").inner_text()
    assert "后厨布局符合食品安全要求" in me.locator("tr.ev-delegation_answered").inner_text()

    # 转办: the food reviewer gives the food review to 李娜 of the same group
    them = pages.new("food_reviewer")
    pages.goto(them, f"/work/tasks/{food}")
    them.click("#transfer summary")
    options = them.locator("#transfer-to option").all_inner_texts()
    assert options == ["李娜 (食品安全科)"]
    them.fill("#transfer-reason", "本人外出检查, 请李娜办理")
    pages.shot(them, "handover-transfer-form")
    with them.expect_navigation():
        them.click("#transfer-submit")
    assert them.url == pages.live.url("/work/")
    assert "已转办给 food_expert" in them.locator(".flash").first.inner_text()
    assert them.locator(f"tr[data-task='{food}'] .assignee").inner_text().startswith("food_expert")
    pages.goto(expert, "/work/?claimed=mine")
    assert expert.locator(f"tr[data-task='{food}']").count() == 1
    pages.shot(expert, "handover-transferred-worklist")
    pages.goto(me, f"/cases/{case['id']}")
    assert (
        "由 food_reviewer 转办给 food_expert" in me.locator("tr.ev-task_transferred").inner_text()
    )
    pages.shot(me, "handover-timeline")
