"""Reviewers decide with what was applied for and what was decided before (issue 17 · A): the
task pages' 申请信息 and 前序办理结果 cards, the case page's 审批结果, the auditor's step slider in
words and the 办件档案, in Chromium."""

from __future__ import annotations

import base64
from typing import Any

from engine.services import Services, cases
from tests.fixtures import restaurant as r
from tests.fixtures.restaurant import CLERK_OF

from .conftest import Pages
from .test_cases import drive

PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PHOTO_URL = "data:image/png;name=%E7%8E%B0%E5%9C%BA.png;base64," + base64.b64encode(PHOTO).decode()

TO_INSPECTION: list[tuple[str, dict[str, Any]]] = [
    ("intake", r.CORRECT),
    ("correction", r.CORRECTED),
    ("intake", r.ACCEPT),
    ("review_licence", r.LICENCE_OK),
    ("review_food", r.FOOD_OK_INSPECT),
]


def _task_id(case: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in case["tasks"] if t["element"] == element))


def _complete(
    svc: Services, staff: dict[str, Any], case: dict[str, Any], element: str, data: Any
) -> Any:
    user = staff[CLERK_OF[element]][0]
    task = _task_id(case, element)
    cases.claim(svc, user, task)
    return cases.complete(svc, user, task, data)


def test_reviewers_see_the_application_and_the_earlier_decisions(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, TO_INSPECTION)

    # the inspector: the site address in 申请信息, the reviews above the form
    page = pages.new("inspector")
    pages.goto(page, f"/work/tasks/{_task_id(case, 'site_inspection')}")
    application = page.locator("section.record-application")
    assert "经营场所地址" in application.inner_text()
    assert (
        application.locator('dd[data-field="shop_address"]').inner_text()
        == r.APPLICATION["shop_address"]
    )
    steps = page.locator("section.record-steps")
    assert steps.locator("li.record-step").count() == len(TO_INSPECTION)
    food = steps.locator('li[data-element="review_food"]')
    assert "准予许可" in food.locator(".badge.decision").inner_text()
    assert "需现场核查" in food.inner_text() and "需要现场踏勘" in food.inner_text()
    intake = steps.locator('li[data-element="intake"]').first
    assert "补正" in intake.inner_text() and "从业人员健康证明" in intake.inner_text()
    assert "premises_proof" not in steps.inner_text()
    pages.shot(page, "17A-task-site-inspection")

    case = _complete(
        live_services, staff, case, "site_inspection", {**r.INSPECTION_OK, "site_photo": PHOTO_URL}
    )

    # the issuer: both reviews and the inspection, and the photo to download
    page = pages.new("issuer")
    pages.goto(page, f"/work/tasks/{_task_id(case, 'joint_issuance')}")
    steps = page.locator("section.record-steps")
    assert "准予登记" in steps.locator('li[data-element="review_licence"]').inner_text()
    assert "准予许可" in steps.locator('li[data-element="review_food"]').inner_text()
    inspection = steps.locator('li[data-element="site_inspection"]')
    assert "符合要求" in inspection.inner_text() and "视频勘验" in inspection.inner_text()
    assert "inspector" in inspection.locator(".record-who").inner_text()
    with page.expect_download() as download:
        page.locator("section.record-application a.attachment-link").first.click()
    saved = download.value
    assert saved.suggested_filename == "现场.png"
    with open(saved.path(), "rb") as file:
        assert file.read() == PHOTO
    pages.shot(page, "17A-task-joint-issuance")

    # on a phone the cards stack without overflowing
    phone = pages.new("issuer")
    phone.set_viewport_size({"width": 390, "height": 844})
    pages.goto(phone, f"/work/tasks/{_task_id(case, 'joint_issuance')}")
    overflow = phone.evaluate(
        "() => [...document.querySelectorAll('section.record-steps, section.record-application')]"
        ".map(s => s.scrollWidth - s.clientWidth)"
    )
    assert max(overflow) <= 1, overflow
    pages.shot(phone, "17A-task-joint-issuance-phone")


def test_the_case_page_history_and_archive_speak_in_words(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, [*TO_INSPECTION, ("site_inspection", r.INSPECTION_OK)])
    case = _complete(live_services, staff, case, "joint_issuance", r.ISSUANCE)

    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case['id']}")
    record = page.locator("section.record-steps")
    assert record.locator("li.record-step").count() == len(TO_INSPECTION) + 2
    assert "窗口领取" in record.inner_text()
    licence_row = page.locator('table.timeline tr[data-element="review_licence"].ev-task_completed')
    assert "审查结论: 准予登记" in licence_row.inner_text()
    assert "统一社会信用代码或身份证号码" in page.locator("section.record-application").inner_text()
    pages.shot(page, "17A-case-page")

    auditor = pages.new("auditor")
    pages.goto(auditor, f"/audit/cases/{case['id']}")
    pages.wait_for_diagram(auditor, "#history-diagram")
    # step back to the first 一窗受理 (the step slider renders the data in the page's script)
    first_intake = auditor.locator("table.events tr.ev-task_completed").first
    first_intake.click()
    auditor.wait_for_function(
        "n => document.getElementById('history').dataset.step === n",
        arg=first_intake.get_attribute("data-seq"),
    )
    table = auditor.locator("#step-data").inner_text()
    assert "受理决定" in table and "补正" in table
    assert "经营场所使用证明(租赁合同或产权证明)" in table and "premises_proof" not in table
    assert "correct" not in table
    pages.shot(auditor, "17A-auditor-history")

    archive = pages.new("auditor")
    pages.goto(archive, f"/audit/cases/{case['id']}/archive")
    text = archive.locator("table.record-steps").inner_text()
    assert "准予登记" in text and "准予许可" in text and "符合要求" in text
    pages.shot(archive, "17A-case-archive")
