"""The tobacco reviewer's task page in Chromium (我要开便利店, `processes/convenience_store`): the
合理布局判定 decision's outputs among the 前序办理结果, right after the survey that set it off,
labelled as the DMN table labels them and in words. Screenshot:
test-output/screenshots/case-pages-tobacco-review.png."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import convenience_store as cs

from .conftest import PASSWORD, Pages

WHO = {
    "intake": "front_desk",
    "review_licence": "market_reviewer",
    "food_filing": "food_reviewer",
    "tobacco_survey": "tobacco_officer",
}


def test_the_tobacco_reviewer_sees_the_layout_decision(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    svc = live_services
    staff["tobacco_officer"] = accounts.create_user(svc, "tobacco_officer", "clerk", ["tobacco"])
    set_password(svc, "tobacco_officer", PASSWORD)
    publishing.deploy(svc, from_path(PROCESSES / "convenience_store"), "test")
    case = cases.start_case(
        svc, staff["front_desk"][0], "convenience_store", cs.PREPACKAGED_TOBACCO
    )
    for element, data in [
        ("intake", cs.ACCEPT),
        ("review_licence", cs.LICENCE_OK),
        ("food_filing", cs.FILING),
        ("tobacco_survey", cs.SURVEY_OK),
    ]:
        user = staff[WHO[element]][0]
        task = next(t["id"] for t in case["tasks"] if t["element"] == element)
        cases.claim(svc, user, task)
        case = cases.complete(svc, user, task, data)
    review = next(t["id"] for t in case["tasks"] if t["element"] == "tobacco_review")

    page = pages.new("tobacco_officer")
    pages.goto(page, f"/work/tasks/{review}")
    steps = page.locator("section.record-steps")
    assert "前序办理结果" in steps.inner_text()
    elements = steps.locator("li.record-step").evaluate_all(
        "items => items.map(li => li.dataset.element)"
    )
    assert elements[-2:] == ["tobacco_survey", "tobacco_layout"], elements
    decision = steps.locator('li.decision-step[data-element="tobacco_layout"]')
    decision.scroll_into_view_if_needed()
    assert decision.is_visible()
    head = decision.locator(".record-step-head").inner_text()
    assert "合理布局判定" in head and "决策表 · 烟草制品零售点合理布局" in head and "系统" in head
    shown = {
        dt.inner_text(): decision.locator(f'dd[data-field="{name}"]').inner_text()
        for dt, name in zip(
            decision.locator("dl dt").all(),
            ["layout_ok", "layout_rule", "layout_min_distance_m", "layout_note"],
            strict=True,
        )
    }
    assert shown == {
        "布局符合": "是",
        "适用规则": "城区街道",
        "最小间距(米)": "100",
        "判定说明": "城区街道: 与最近零售点不少于 100 米, 符合",
    }
    # the reviewer's own form is on the same page, below
    assert page.locator("form [name=tobacco_approved]").count() >= 1
    pages.shot(page, "case-pages-tobacco-review")
    assert not pages.outside and not pages.script_errors
