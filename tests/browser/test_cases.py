"""The case page in the browser: a restaurant case driven through the services to issuance, then
looked at; and the public progress lookup."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.restaurant import CLERK_OF

from .conftest import Pages

# 补正 once, then 受理, both reviews, 统一发证: each task claimed before it is done.
ISSUED = [
    ("intake", r.CORRECT),
    ("correction", r.CORRECTED),
    ("intake", r.ACCEPT),
    ("review_licence", r.LICENCE_OK),
    ("review_food", r.FOOD_OK),
    ("joint_issuance", r.ISSUANCE),
]


def drive(
    svc: Services, staff: dict[str, Any], steps: list[tuple[str, dict[str, Any]]], **data: Any
) -> dict[str, Any]:
    """Deploy the restaurant bundle (once) and take a new case through `steps`."""
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test", skip_unchanged=True)
    case = cases.start_case(
        svc, staff["front_desk"][0], "restaurant", {**r.APPLICATION_BY_AGENT, **data}
    )
    code = case["access_code"]
    for element, form in steps:
        user = staff[CLERK_OF[element]][0]
        task = next(t for t in case["tasks"] if t["element"] == element)
        cases.claim(svc, user, task["id"])
        case = cases.complete(svc, user, task["id"], form)
    case["access_code"] = code
    return case


def test_the_case_page_shows_what_was_done_and_what_was_issued(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, ISSUED)
    events = queries.events(live_services, staff["auditor"][0], case["id"])
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")
    assert diagram.locator(".hl-done").count() > 5
    assert diagram.locator(".hl-active").count() == 0  # concluded: nothing under way
    assert diagram.locator('[data-element-id="concluded"].hl-done').count() == 1
    assert diagram.locator('[data-element-id="refused"].hl-done').count() == 0
    assert diagram.locator(".hl-taken").count() > 5
    assert page.locator("table.timeline tbody tr").count() == len(events)
    assert page.locator("tr.ev-case_completed").inner_text().count("办结") >= 1
    assert "李代办" in page.locator("tr.ev-case_started").inner_text()
    certificates = page.locator(".certificates")
    assert r.ISSUANCE["permit_number"] in certificates.inner_text()
    assert "食品经营许可证" in certificates.inner_text() and "有效" in certificates.inner_text()
    assert page.locator(".clock").get_attribute("data-clock") == "stopped"
    assert page.locator("a.correction-link").count() == 1
    pages.shot(page, "cases-case-issued")
    page.emulate_media(media="print")
    assert not page.locator("[data-print]").is_visible()  # controls do not print
    pages.shot(page, "cases-case-print")
    page.emulate_media(media="screen")

    with page.expect_popup() as popup:
        page.click(f'a[href="/cases/certificates/{r.ISSUANCE["permit_number"]}"]')
    printable = popup.value
    printable.wait_for_load_state()
    assert r.ISSUANCE["permit_number"] in printable.content()
    pages.shot(printable, "cases-certificate-print")


def test_a_running_case_shows_its_open_tasks_claims_and_clock(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, [("intake", r.ACCEPT)])
    review = next(t for t in case["tasks"] if t["element"] == "review_licence")
    cases.claim(live_services, staff["market_reviewer"][0], review["id"])
    page = pages.new("food_reviewer")
    pages.goto(page, f"/cases/{case['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")
    assert diagram.locator('[data-element-id="review_licence"].hl-active').count() == 1
    assert diagram.locator('[data-element-id="review_food"].hl-active').count() == 1
    assert diagram.locator('[data-element-id="intake"].hl-done').count() == 1
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 2
    claimed = page.locator('table.tasks tr[data-element="review_licence"]').inner_text()
    assert "market_reviewer" in claimed
    assert "未认领" in page.locator('table.tasks tr[data-element="review_food"]').inner_text()
    assert page.locator(".clock").get_attribute("data-clock") == "running"
    assert "计时中" in page.locator(".clock").inner_text()
    pages.shot(page, "cases-case-running")


def test_the_applicant_follows_the_case_with_the_receipt_code(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, [("intake", r.ACCEPT)])
    page = pages.new()  # no sign-in
    pages.goto(page, "/progress")
    pages.shot(page, "public-progress-form")
    page.fill("input[name=number]", str(case["id"]))
    page.fill("input[name=code]", case["access_code"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    result = page.locator(".progress-result")
    assert result.get_attribute("data-status") == "running"
    assert "营业执照审查" in result.inner_text() and "食品经营许可审查" in result.inner_text()
    assert "market_reviewer" not in page.content() and "front_desk" not in page.content()
    pages.shot(page, "public-progress-result")

    answers = []
    for number, code in ((str(case["id"]), "12345678"), ("424242", case["access_code"])):
        pages.goto(page, "/progress")
        page.fill("input[name=number]", number)
        page.fill("input[name=code]", code)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        answers.append(page.locator("[role=alert]").inner_text())
        assert page.locator("input[name=code]").input_value() == ""  # the code is not echoed
    assert answers == ["办件编号或查询码不正确"] * 2
    pages.shot(page, "public-progress-wrong-code")
