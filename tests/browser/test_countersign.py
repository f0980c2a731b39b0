"""加签 in Chromium (issue 18 · 5): after 受理 the market reviewer asks a food safety colleague
to sign before them; she signs 不同意 with an opinion from her worklist; the reviewer sees the
signature above the form and decides. Then a 后加签 submitted with the form is agreed to and
the task completes."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import PASSWORD, Pages
from .test_task_handover import _fill


def test_sign_before_me_then_decide_and_sign_after_me(
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

    # 前加签: the market reviewer asks 李娜 to sign first
    me = pages.new("market_reviewer")
    pages.goto(me, f"/work/tasks/{review}")
    me.click("#add-signer summary")
    me.locator("#sign-to").select_option("food_expert")
    assert "李娜 (食品安全科)" in me.locator("#sign-to option:checked").inner_text()
    me.fill("#sign-reason", "请食品安全科先就后厨布局签署")
    pages.shot(me, "countersign-add-before")
    with me.expect_navigation():
        me.click("#add-signer-submit")
    assert "已请 food_expert 先行签署" in me.locator(".flash").first.inner_text()
    assert "任务正在等待 food_expert 前加签" in me.locator(".countersign-waiting").inner_text()
    assert me.locator("#task-form button[type=submit]").count() == 0
    pages.shot(me, "countersign-owner-waiting")

    # 李娜 signs 不同意 with her opinion
    expert = pages.new("food_expert")
    pages.goto(expert, "/work/")
    row = expert.locator(f"tr[data-task='{review}']")
    assert row.count() == 1 and "待我加签" in row.inner_text()
    pages.shot(expert, "countersign-signer-worklist")
    row.locator("a.task-link").click()
    expert.wait_for_load_state()
    assert expert.locator("#task-form button[type=submit]").count() == 0
    assert expert.locator("#add-signer, #delegate, #h-answer").count() == 0
    expert.check("input[name=decision][value=reject]")
    expert.fill("#sign-opinion", "后厨生熟分区不清, 建议整改后再登记")
    pages.shot(expert, "countersign-sign-form")
    with expert.expect_navigation():
        expert.click("#sign-submit")
    assert "已签署并交回 market_reviewer" in expert.locator(".flash").first.inner_text()

    # the reviewer sees the signature and decides: 后加签 with the form, to a colleague
    pages.goto(me, f"/work/tasks/{review}")
    shown = me.locator(".countersign-signature").inner_text()
    assert "前加签签署: 李娜 (食品安全科)" in shown and "不同意" in shown
    assert "后厨生熟分区不清" in shown
    pages.shot(me, "countersign-signature-shown")
    _fill(me, r.LICENCE_OK)
    me.click("#add-signer summary")
    me.locator("#after-to").select_option("food_expert")
    me.fill("#after-reason", "请复核登记意见")
    with me.expect_navigation():
        me.click("#submit-and-sign")
    assert "待 food_expert 签署同意后办结" in me.locator(".flash").first.inner_text(), me.locator(
        "main"
    ).inner_text()[:600]
    pages.shot(me, "countersign-after-waiting")

    pages.goto(expert, f"/work/tasks/{review}")
    kept = expert.locator(".kept-result").inner_text()
    assert "准予登记" in kept and "licence_approved" not in kept, kept
    pages.shot(expert, "countersign-after-sign")
    with expert.expect_navigation():
        expert.click("#sign-submit")
    assert "任务已办结" in expert.locator(".flash").first.inner_text()

    pages.goto(me, f"/cases/{case['id']}")
    assert "前加签 food_expert" in me.locator("tr.ev-signer_added").first.inner_text()
    assert "不同意" in me.locator("tr.ev-added_signature").first.inner_text()
    pages.shot(me, "countersign-timeline")
    assert food  # the food review is untouched
