"""Stored verifications in the browser (issue 20 · part 2): a tampered case flagged in the
auditor's search, and a batch verification started from the search page, followed on its
progress page until the worker is done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from engine.services import Services, verifications, worker

from .conftest import Pages
from .test_cases import ISSUED, drive


def test_a_flagged_case_in_the_search_and_a_batch_with_its_progress(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    auditor = staff["auditor"][0]
    honest = drive(live_services, staff, ISSUED)
    tampered = drive(live_services, staff, [], applicant_name="李四")
    drive(live_services, staff, [], applicant_name="王五")
    verifications.verify(live_services, auditor, honest["id"])
    with live_services.engine.begin() as conn:  # as someone with database access would
        conn.execute(
            text(
                "UPDATE cases SET data = jsonb_set(data, '{shop_name}', '\"别家面馆\"') WHERE id = :c"
            ),
            {"c": tampered["id"]},
        )
    verifications.verify(live_services, auditor, tampered["id"])

    page = pages.new("auditor")
    pages.goto(page, "/audit/")
    row = page.locator(f'table.results tr[data-case="{tampered["id"]}"]')
    assert "校验失败: 第" in row.inner_text() and "办理中" not in row.inner_text()
    assert row.locator(".badge.tampered").count() == 1
    colour = row.locator(".badge.tampered").evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(138, 28, 28)", colour  # --bad: red, as 超期
    honest_row = page.locator(f'table.results tr[data-case="{honest["id"]}"]')
    assert "已核验" in honest_row.inner_text()
    pages.shot(page, "verifications-search-flagged")

    pages.goto(page, f"/audit/cases/{honest['id']}")
    page.click("#run-verify")
    page.wait_for_load_state()
    words = page.locator("#proof-words").inner_text()
    assert verifications.PROVES_CHAIN in words and verifications.CANNOT_UNSIGNED in words
    assert page.locator("#verifications tbody tr").count() == 2
    pages.shot(page, "verifications-history-page")
    pages.goto(page, "/audit/")

    page.fill("input[name=since]", "2020-01-01")
    page.click("#verify-since")
    page.wait_for_load_state()
    assert "/audit/verifications/" in page.url
    assert "已核验 0 / 3 件" in page.locator("#batch-status").inner_text()
    pages.shot(page, "verifications-batch-running")

    assert worker.run_due(live_services) >= 3
    page.reload()
    page.wait_for_load_state()
    status = page.locator("#batch-status").inner_text()
    assert "已核验 3 / 3 件, 其中 1 件校验失败" in status
    failed = page.locator("#failed tbody tr")
    assert failed.count() == 1 and failed.first.get_attribute("data-case") == str(tampered["id"])
    pages.shot(page, "verifications-batch-done")
    assert not pages.outside and not pages.script_errors
