"""Forms that follow the decision, in Chromium (issue 17 · D): choosing each 一窗受理 decision
shows exactly its fields (others hidden and not posted), 邮寄送达 shows the mailing address with
its star and cannot be finished without it, and the 补正 form offers only what was asked for."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages

CONTROLLED = ("missing_materials", "deferred_materials", "supply_workdays")
SHOWN = {
    "accept": set(),
    "correct": {"missing_materials"},
    "refuse": set(),
    "accept_with_gaps": {"deferred_materials", "supply_workdays"},
    "commitment": set(),
}


def _start(svc: Services, staff: dict[str, Any]) -> dict[str, Any]:
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")
    return cases.start_case(svc, staff["front_desk"][0], "restaurant", dict(r.APPLICATION))


def _visible(page: Any) -> set[str]:
    return {name for name in CONTROLLED if page.locator(f"[data-field={name}]").is_visible()}


def _starred(page: Any, name: str) -> bool:
    label = page.locator(f"[data-field={name}] > legend, [data-field={name}] > label").first
    return "required" in (label.get_attribute("class") or "")


def test_each_intake_decision_shows_exactly_its_fields(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = _start(live_services, staff)
    page = pages.new("front_desk")
    pages.goto(page, f"/work/tasks/{case['tasks'][0]['id']}")
    page.wait_for_selector(".schema-form[data-conditions-ready]", state="attached")
    assert _visible(page) == set()
    assert page.locator("[data-field=intake_opinion]").is_visible()
    pages.shot(page, "form-conditions-intake-none")

    for decision, fields in SHOWN.items():
        page.check(f"input[name=intake_decision][value={decision}]")
        assert _visible(page) == fields, decision
        for name in fields:
            assert _starred(page, name), (decision, name)
        for name in set(CONTROLLED) - fields:  # hidden fields are disabled: never posted
            assert page.locator(f"[data-field={name}] input").first.is_disabled(), name
        # the opinion is always there; its star only where it is required (不予受理)
        assert _starred(page, "intake_opinion") == (decision == "refuse"), decision
        if decision in ("correct", "accept_with_gaps", "refuse"):
            pages.shot(page, f"form-conditions-intake-{decision}")

    # 补正 chosen, a 容缺 field filled then hidden again: 补正 posts only its own list
    page.check("input[name=intake_decision][value=accept_with_gaps]")
    page.fill("[name=supply_workdays]", "5")
    page.check("input[name=intake_decision][value=correct]")
    page.check("input[name=missing_materials][value=premises_proof]")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert "/work/tasks/" not in page.url, page.locator("main").inner_text()
    data = queries.get_case(live_services, staff["front_desk"][0], case["id"])["data"]
    assert data["missing_materials"] == ["premises_proof"] and "supply_workdays" not in data

    # the 补正 form: only the material asked for
    task = queries.get_case(live_services, staff["front_desk"][0], case["id"])["tasks"][0]
    pages.goto(page, f"/work/tasks/{task['id']}")
    options = page.locator("input[name=supplied_materials]")
    assert options.count() == 1 and options.first.get_attribute("value") == "premises_proof"
    assert "经营场所使用证明" in page.locator("[data-field=supplied_materials]").inner_text()
    pages.shot(page, "form-conditions-correction")


def test_post_delivery_shows_the_mailing_address_and_requires_it(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = _start(live_services, staff)
    for element, data in (
        ("intake", r.ACCEPT),
        ("review_food", r.FOOD_OK),
        ("review_licence", r.LICENCE_OK),
    ):
        task = next(t for t in case["tasks"] if t["element"] == element)
        case = cases.complete(live_services, staff[r.CLERK_OF[element]][0], task["id"], data)
    task = case["tasks"][0]
    assert task["element"] == "joint_issuance"

    page = pages.new("issuer")
    pages.goto(page, f"/work/tasks/{task['id']}")
    page.wait_for_selector(".schema-form[data-conditions-ready]", state="attached")
    address = page.locator("[data-field=mailing_address]")
    assert not address.is_visible()
    page.fill("[name=licence_number]", r.ISSUANCE["licence_number"])
    page.fill("[name=permit_number]", r.ISSUANCE["permit_number"])
    page.check("input[name=delivery_method][value=post]")
    assert address.is_visible() and _starred(page, "mailing_address")
    page.check("input[name=delivery_method][value=window]")
    assert not address.is_visible()
    page.check("input[name=delivery_method][value=post]")
    pages.shot(page, "form-conditions-issuance-post")

    # without the address: refused in place, nothing typed lost, the case still running
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert address.is_visible()
    assert address.locator(".field-error").inner_text() == "必填"
    assert page.locator("[name=permit_number]").input_value() == r.ISSUANCE["permit_number"]
    assert queries.get_case(live_services, staff["issuer"][0], case["id"])["status"] == "running"
    pages.shot(page, "form-conditions-issuance-missing-address")

    page.fill("[name=mailing_address]", "杭州市上城区解放路 1 号 张三 13800138000")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    done = queries.get_case(live_services, staff["issuer"][0], case["id"])
    assert done["status"] == "completed"
    assert done["data"]["mailing_address"].startswith("杭州市上城区解放路")


def test_the_designers_preview_follows_the_decision_too(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "designer")
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant/1/edit")
    page.wait_for_selector("#editor[data-ready=true]")
    page.click("button[data-tab=forms]")
    page.click("[data-form-path='forms/restaurant/intake.json']")
    preview = page.locator("#fe-preview")
    preview.locator(".schema-form[data-conditions-ready]").wait_for(state="attached")
    missing = preview.locator("[data-field=missing_materials]")
    assert not missing.is_visible()
    preview.locator("input[name=intake_decision][value=correct]").check()
    assert missing.is_visible()
    preview.locator("input[name=intake_decision][value=accept]").check()
    assert not missing.is_visible()
    preview.locator("input[name=intake_decision][value=accept_with_gaps]").check()
    assert preview.locator("[data-field=supply_workdays]").is_visible()
    pages.shot(page, "form-conditions-designer-preview")


def test_the_agents_id_number_appears_once_an_agent_is_named(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    page = pages.new("front_desk")
    pages.goto(page, "/work/start/restaurant")
    page.wait_for_selector(".schema-form[data-conditions-ready]", state="attached")
    agent_id = page.locator("[data-field=agent_id_number]")
    assert not agent_id.is_visible()  # dependentRequired: agent_name -> agent_id_number
    page.fill("[name=agent_name]", "李代办")
    assert agent_id.is_visible() and _starred(page, "agent_id_number")
    pages.shot(page, "form-conditions-start-agent")
    page.fill("[name=agent_name]", "")
    assert not agent_id.is_visible()
