"""The shipped variant 我要开餐馆 (消防卫生会签) in Chromium: its diagram (the 消防 / 卫生会签 lane
and the 会签 task after the reviews' join) renders on the case page with the 会签 under way, and
the task list shows its progress badge (会签 1/2)."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import PASSWORD, Pages


def test_the_variant_diagram_shows_the_huiqian_under_way(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    svc = live_services
    made = {}
    for name, group in (
        ("food_reviewer_b", "food_safety"),
        ("fire_officer", "fire_safety"),
        ("health_officer", "health"),
    ):
        made[name] = accounts.create_user(svc, name, "clerk", [group])[0]
        set_password(svc, name, PASSWORD)
    publishing.deploy(svc, from_path(PROCESSES / "restaurant_joint"), "test")

    def task(view: dict[str, Any], element: str, who: str | None = None) -> str:
        return next(
            t["id"]
            for t in view["tasks"]
            if t["element"] == element and (who is None or who in (t["assignee"], *t["groups"]))
        )

    case = cases.start_case(svc, staff["front_desk"][0], "restaurant_joint", r.APPLICATION)
    case = cases.complete(svc, staff["front_desk"][0], task(case, "intake"), r.ACCEPT)
    case = cases.complete(
        svc, staff["market_reviewer"][0], task(case, "review_licence"), r.LICENCE_OK
    )
    case = cases.complete(
        svc, made["food_reviewer_b"], task(case, "review_food", "food_reviewer_b"), r.FOOD_OK
    )
    case = cases.complete(
        svc,
        made["health_officer"],
        task(case, "fire_health_review", "health"),
        {"joint_decision": "approve", "joint_opinion": "卫生条件符合要求"},
    )

    page = pages.new("fire_officer")
    pages.goto(page, f"/cases/{case['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")
    assert diagram.locator('[data-element-id="fire_health_review"].hl-active').count() == 1
    assert diagram.locator('[data-element-id="review_food"].hl-done').count() == 1
    assert diagram.locator('[data-element-id="lane_fire_health"]').count() == 1
    row = page.locator("table.tasks tr[data-element='fire_health_review']")
    assert row.count() == 1  # 卫生 has signed: only 消防's instance is open
    assert "会签 (1/2)" in row.inner_text()
    diagram.scroll_into_view_if_needed()
    pages.shot(page, "restaurant-joint-case-huiqian")
    diagram.locator("button.diagram-fit").click()
    diagram.screenshot(path=str(pages.shot(page, "restaurant-joint-diagram", full_page=False)))

    # 消防 signs from the task page, the case goes on to 统一发证
    pages.goto(page, f"/work/tasks/{task(case, 'fire_health_review', 'fire_safety')}")
    assert page.locator("#sign-progress").inner_text() == "会签 (1/2)"
    page.check("#task-form input[name=joint_decision][value='approve']")
    page.locator("#task-form [name=joint_opinion]").first.fill("消防通道畅通")
    with page.expect_navigation():
        page.click("#task-form button[type=submit]")
    pages.goto(page, f"/cases/{case['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")
    assert diagram.locator('[data-element-id="joint_issuance"].hl-active').count() == 1
    assert diagram.locator('[data-element-id="fire_health_review"].hl-done').count() == 1
    pages.shot(page, "restaurant-joint-case-signed")
    assert not pages.outside and not pages.script_errors


def test_the_designer_editor_keeps_the_variants_signers(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    """Opened and saved in the browser editor, the variant keeps its 会签 / 或签 loops: their
    collections are declared as data objects, so bpmn-js does not drop the references."""
    from tests.browser.test_editor_panel import READY

    publishing.deploy(live_services, from_path(PROCESSES / "restaurant_joint"), "test")
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant_joint/1/edit")
    page.wait_for_selector(READY)
    xml = page.evaluate("async () => (await LianbanDraft.modeler.saveXML()).xml")
    assert "<bpmn:loopDataInputRef>food_inspectors</bpmn:loopDataInputRef>" in xml
    assert "<bpmn:loopDataInputRef>joint_departments</bpmn:loopDataInputRef>" in xml
    assert 'camunda:candidateGroups="${joint_department}"' in xml
    assert 'name="signers" value="fire_safety, health"' in xml
    pages.shot(page, "restaurant-joint-editor", full_page=False)
    assert not pages.outside and not pages.script_errors
