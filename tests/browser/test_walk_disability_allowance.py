"""残疾人两项补贴申领 (`processes/disability_allowance`), a 三级联办 bundle, walked in Chromium by the
people whose job each step is: the village agent of 桥头社区 receives the application (收件) and
verifies at home (入户核实), the 城关街道 reviewer finds it in the town's worklist (and the other
town's reviewer does not), the county 残联 and 民政 review and decide, the village registers an
objection during the 公示, 民政 dismisses it and records the payment, and the applicant checks the
progress and both certificates on the public pages. Screenshots: test-output/screenshots/
walk-da-*.png."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, accounts, publishing, queries
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import disability_allowance as d

from .conftest import PASSWORD, Pages
from .test_walkthrough import _fill

USERS = {
    "agent_qiaotou": "village_qiaotou",
    "agent_hexi": "village_hexi",
    "reviewer_chengguan": "town_chengguan",
    "reviewer_shimen": "town_shimen",
    "federation_officer": "county_disability_federation",
    "civil_officer": "county_civil_affairs",
}


def _work_on(pages: Pages, user: str, case_id: int, element: str, data: dict[str, Any]) -> Any:
    """Sign in as `user`, find the case's task in the worklist, claim it, fill and submit it."""
    page = pages.new(user)
    pages.goto(page, "/work/")
    row = page.locator(f"tr[data-case='{case_id}']")
    assert row.count() == 1, f"{user} does not see case {case_id} in the worklist"
    pages.shot(page, f"walk-da-{element}-worklist")
    if row.locator("button.claim").count():
        row.locator("button.claim").click()
        page.wait_for_load_state()
        row = page.locator(f"tr[data-case='{case_id}']")
    row.locator("a.task-link").click()
    page.wait_for_load_state()
    assert "/work/tasks/" in page.url
    _fill(page, data)
    pages.shot(page, f"walk-da-{element}-task")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/work/"), page.locator("main").inner_text()[:500]
    assert "已办理" in page.locator(".flash").first.inner_text()
    return page


def _sees(pages: Pages, user: str, case_id: int) -> bool:
    page = pages.new(user)
    pages.goto(page, "/work/")
    return bool(page.locator(f"tr[data-case='{case_id}']").count())


def test_three_levels_walk_the_allowance_to_its_certificates(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    for name, group in USERS.items():
        accounts.create_user(live_services, name, "clerk", [group])
        set_password(live_services, name, PASSWORD)
    publishing.deploy(live_services, from_path(PROCESSES / "disability_allowance"), "designer")

    # 村(社区)代办点: the agent receives the application for a villager
    agent = pages.new("agent_qiaotou")
    pages.goto(agent, "/work/start/disability_allowance")
    _fill(agent, d.APPLICATION)
    pages.shot(agent, "walk-da-start")
    agent.click("button:has-text('收件并生成办件')")
    agent.wait_for_load_state()
    code = agent.locator("#access-code").inner_text()
    case_id = int(agent.locator(".case-no").inner_text())
    pages.shot(agent, "walk-da-receipt")
    assert not _sees(pages, "agent_hexi", case_id)  # another village's agent

    _work_on(pages, "agent_qiaotou", case_id, "intake", d.ACCEPT)
    _work_on(pages, "agent_qiaotou", case_id, "village_verify", d.VERIFIED)
    # 乡镇(街道): only the applicant's town sees the 初审
    assert not _sees(pages, "reviewer_shimen", case_id)
    _work_on(pages, "reviewer_chengguan", case_id, "town_review", d.TOWN_PASS)
    # 县级: 残联 审核, 民政 审定
    _work_on(pages, "federation_officer", case_id, "federation_review", d.FEDERATION_PASS)
    _work_on(pages, "civil_officer", case_id, "civil_affairs_decision", d.APPROVE_BOTH)

    # the case page during the 公示: the clock paused, the town's 转报 on time
    officer = pages.new("civil_officer")
    pages.goto(officer, f"/cases/{case_id}")
    diagram = pages.wait_for_diagram(officer, "#case-diagram")
    assert diagram.locator('[data-element-id="publicity"].hl-active').count() == 1
    assert diagram.locator('[data-element-id="town_review"].hl-done').count() == 1
    main = officer.locator("main").inner_text()
    assert "下级初审" in main and "已转报" in main
    pages.shot(officer, "walk-da-case-publicity")
    diagram.locator("button.diagram-fit").click()
    diagram.screenshot(path=str(pages.shot(officer, "walk-da-diagram", full_page=False)))

    _work_on(pages, "agent_qiaotou", case_id, "publicity", d.OBJECTION)
    _work_on(pages, "civil_officer", case_id, "objection_review", d.OBJECTION_DISMISSED)
    issuer = _work_on(pages, "civil_officer", case_id, "joint_issuance", d.ISSUED)

    pages.goto(issuer, f"/cases/{case_id}")
    pages.wait_for_diagram(issuer, "#case-diagram")
    main = issuer.locator("main").inner_text()
    assert "困难残疾人生活补贴资格确认" in main and "重度残疾人护理补贴资格确认" in main
    pages.shot(issuer, "walk-da-case-issued")
    stored = queries.get_case(live_services, staff["auditor"][0], case_id)["certificates"]
    numbers = [c["number"] for c in stored]
    assert all(n in main for n in numbers)
    assert len(numbers) == 2, numbers

    # the applicant: progress with the receipt code, each certificate on the public check
    public = pages.new()
    pages.goto(public, "/progress")
    public.fill("input[name=number]", str(case_id))
    public.fill("input[name=code]", code)
    public.click("button[type=submit]")
    public.wait_for_load_state()
    text = public.locator("main").inner_text()
    assert "办结" in text and "下级初审" in text
    pages.shot(public, "walk-da-public-progress")
    for i, number in enumerate(numbers):
        pages.goto(public, f"/verify/{number}")
        shown = public.locator("body").inner_text()
        assert "有效" in shown and "补贴资格确认" in shown
        pages.shot(public, f"walk-da-public-verify-{i + 1}")
    assert not pages.outside and not pages.script_errors
