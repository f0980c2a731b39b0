"""出错办件 in the browser: the clerk's step fails in the process (a gateway reads the misspelled
`sells_coldchain`), the clerk is told so, and the administrator sees the incident with the
element, the error and the data, corrects the field and retries."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing, queries
from tests.integration.test_incidents_runtime import FIXED, MISSPELLED

from .conftest import Pages


def test_a_failed_step_reaches_the_administrator_who_retries_it(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_upload("shop.bpmn", MISSPELLED), "test")
    started = cases.start_case(
        live_services, staff["front_desk"][0], "shop", {"sells_cold_chain": True}
    )
    task = started["tasks"][0]["id"]

    clerk = pages.new("front_desk")
    pages.goto(clerk, f"/work/tasks/{task}")
    clerk.click("#task-form button[type=submit]")
    clerk.wait_for_load_state()
    assert "此办件流程出错, 已通知管理员" in clerk.locator(".flash-error").inner_text()
    assert clerk.locator(".field-error, .form-problems").count() == 0
    pages.shot(clerk, "incident-clerk")

    admin = pages.new("admin")
    admin.click(".mainnav >> text=出错办件")
    admin.wait_for_load_state()
    card = admin.locator(f"section.incident-card[data-case='{started['id']}']")
    assert card.locator("code.element").inner_text() == "gw"
    assert "sells_coldchain" in card.locator(".reason").inner_text()
    assert card.locator("code.expression").inner_text() == "sells_coldchain == True"
    assert "缺失" in card.locator("table.reads").inner_text()
    assert "sells_cold_chain" in card.locator("table.case-data").inner_text()
    pages.shot(admin, "incidents")

    # a fixed version: the move is checked first (what the case waits at, and whether it maps)
    publishing.deploy(live_services, from_upload("shop.bpmn", FIXED), "test")
    card.locator("form.migrate button[value=check]").click()
    admin.wait_for_load_state()
    card = admin.locator(f"section.incident-card[data-case='{started['id']}']")
    plan = card.locator(".plan").inner_text()
    assert "检查通过: 可以迁移" in plan and "intake" in plan and "用户任务" in plan
    pages.shot(admin, "incidents-migration-check")

    card.locator("input[name='field:sells_coldchain']").fill("true")
    card.locator("form.retry button[type=submit]").click()
    admin.wait_for_load_state()
    assert "已重试成功" in admin.locator(".flash-success").inner_text()
    case = queries.get_case(live_services, staff["auditor"][0], started["id"])
    assert case["status"] == "running"
    assert [t["element"] for t in case["tasks"]] == ["drug_review"]
