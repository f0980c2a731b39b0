"""送达 (Art. 44) on the issuance task's page, and the 时限统计 page, in the browser."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from tests.integration.test_law_delivery import bundle


def test_the_delivery_limit_and_the_statistics_page(
    pages: Any, live_services: Services, staff: dict[str, Any]
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("d.zip", bundle("delivered")), "test")
    desk, reviewer = staff["front_desk"][0], staff["market_reviewer"][0]
    case = cases.start_case(svc, desk, "delivered", {"applicant": "张三"})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    case = cases.complete(svc, reviewer, case["tasks"][0]["id"], {})
    (issue,) = case["tasks"]
    deadline = issue["deadline"]
    assert issue["limit_kind"] == "delivery" and deadline

    issuer = pages.new("issuer")
    pages.goto(issuer, "/work/")
    row = issuer.locator("tr", has_text="统一发证").first
    assert f"送达期限 {deadline}" in row.inner_text()
    pages.shot(issuer, "law-delivery-worklist")
    pages.goto(issuer, f"/work/tasks/{issue['id']}")
    limit = issuer.locator(".task-limit").inner_text()
    assert deadline in limit and "行政许可法第四十四条" in limit
    pages.shot(issuer, "law-delivery-task")
    assert issuer.locator("nav.mainnav", has_text="时限统计").count() == 0

    supervisor = pages.new("supervisor")
    pages.goto(supervisor, "/work/")
    supervisor.click("nav.mainnav >> text=时限统计")
    supervisor.wait_for_load_state()
    assert supervisor.locator("h1").inner_text() == "时限统计"
    delivery = supervisor.locator("#delivery").inner_text()
    assert "行政许可法第四十四条" in delivery and "合计" in delivery
    pages.shot(supervisor, "law-delivery-statistics")
