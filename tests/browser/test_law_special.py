"""特别程序 (Art. 45) and 下级初审 (Art. 43) in the browser: the case page's 计时暂停记录 with the
特别程序告知书, the lower level's limit on the case page and the worklist."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from tests.fixtures import law_preliminary, law_special


def _task(case: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in case["tasks"] if t["element"] == element))


def test_the_pause_record_and_the_special_procedure_notice(
    pages: Any, live_services: Services, staff: dict[str, Any]
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("s.zip", law_special.BUNDLE), "test")
    desk, market = staff["front_desk"][0], staff["market_reviewer"][0]
    data = {"applicant_name": "李四", "contact_phone": "13800000001"}
    case = cases.start_case(svc, desk, "special", data)
    case = cases.complete(svc, desk, _task(case, "accept"), {})
    case = cases.complete(svc, market, _task(case, "review"), {})
    assert case["clock"] == "paused"

    page = pages.new("market_reviewer")
    pages.goto(page, f"/cases/{case['id']}")
    table = page.locator("table.clock-pauses")
    assert "专家评审" in table.inner_text() and "暂停中" in table.inner_text()
    pages.shot(page, "law-special-case")
    with page.expect_popup() as opened:
        page.click("a.special-procedure-notice")
    notice = opened.value
    notice.wait_for_load_state()
    assert notice.locator("h1").inner_text().replace(" ", "") == "特别程序告知书"
    assert "第四十五条" in notice.locator("body").inner_text()
    pages.shot(notice, "law-special-notice")


def test_the_lower_levels_limit_on_the_case_page_and_worklist(
    pages: Any, live_services: Services, staff: dict[str, Any]
) -> None:
    svc = live_services
    publishing.deploy(svc, from_upload("t.zip", law_preliminary.BUNDLE), "test")
    desk = staff["front_desk"][0]
    case = cases.start_case(svc, desk, "three_level", {"applicant_name": "王五"})
    case = cases.complete(svc, desk, _task(case, "town_accept"), {})
    text = case["preliminary"]["text"]
    assert text.startswith("下级初审期限 20 个工作日")

    page = pages.new("market_reviewer")
    pages.goto(page, "/work/")
    row = page.locator("tr", has_text="乡镇初审").first
    assert text in row.inner_text()
    pages.shot(page, "law-preliminary-worklist")
    pages.goto(page, f"/cases/{case['id']}")
    assert text in page.locator(".preliminary-status").inner_text()
    pages.shot(page, "law-preliminary-case")
