"""Nothing lost or doubled at the window, in Chromium (issue 17 · B): refreshing the receipt and
going back create no second case, the same applicant is warned about; a 2.6 MB photo refused
in the page and on the server without wiping the form, the accepted photo held; 撤回."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.bundles.source import from_path
from engine.persistence.tables import cases as cases_table
from engine.services import Services, cases, publishing, queries
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages

BIG = b"\xff" * 2_600_000
SMALL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
WHO = {
    "intake": "front_desk",
    "review_licence": "market_reviewer",
    "review_food": "food_reviewer",
}


def _deploy(svc: Services) -> None:
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")


def _count(svc: Services) -> int:
    with svc.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cases_table)).scalar_one())


def _fill_application(page: Any) -> None:
    for name, value in r.APPLICATION.items():
        page.locator(f"[name={name}]").fill(str(value))


def test_refreshing_the_receipt_or_going_back_creates_no_second_case(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services)
    page = pages.new("front_desk")
    pages.goto(page, "/work/start/restaurant")
    _fill_application(page)
    with page.expect_navigation():  # the POST, then its redirect
        page.click("button:has-text('收件并生成办件')")
    assert page.url.endswith("/receipt"), page.url
    code = page.locator("#access-code").inner_text()
    case_id = int(page.locator(".case-no").inner_text())
    pages.shot(page, "kept-receipt-first")
    assert _count(live_services) == 1

    page.reload()
    page.wait_for_load_state()
    assert page.locator("#access-code").count() == 0
    assert "不再显示查询码" in page.locator(".receipt").inner_text()
    assert code not in page.content()
    pages.shot(page, "kept-receipt-refreshed")
    assert _count(live_services) == 1

    # back to the form and 收件 again: no second case
    page.go_back()
    page.wait_for_load_state()
    if page.locator("[name=applicant_name]").input_value() == "":
        _fill_application(page)  # the browser showed a fresh form
    with page.expect_navigation():  # the POST, then its redirect
        page.click("button:has-text('收件并生成办件')")
    assert _count(live_services) == 1
    warning = page.locator(".duplicate-warning")
    if warning.count():  # a fresh form: the same applicant's open case is shown first
        assert str(case_id) in warning.inner_text()
        pages.shot(page, "kept-duplicate-warning")
        with page.expect_navigation():
            page.click("#start-anyway")
        assert page.url.endswith("/receipt") and _count(live_services) == 2
    else:  # the same form again: the same case
        assert page.url.endswith(f"/work/cases/{case_id}/receipt")
        assert "没有重复创建办件" in page.locator(".flash").first.inner_text()


def test_the_same_applicant_is_shown_before_a_second_case(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services)
    first = cases.start_case(live_services, staff["front_desk"][0], "restaurant", r.APPLICATION)
    page = pages.new("front_desk")
    pages.goto(page, "/work/start/restaurant")
    _fill_application(page)
    page.fill("[name=shop_name]", "老张面馆二店")
    with page.expect_navigation():  # the POST, then its redirect
        page.click("button:has-text('收件并生成办件')")
    warning = page.locator(".duplicate-warning")
    assert "该申请人已有同一事项的在办件" in warning.inner_text()
    assert str(first["id"]) in warning.inner_text()
    assert page.locator("[name=shop_name]").input_value() == "老张面馆二店"
    pages.shot(page, "kept-duplicate-warning")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing overflows
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    pages.shot(page, "kept-duplicate-warning-390")
    page.set_viewport_size({"width": 1366, "height": 768})
    assert _count(live_services) == 1
    with page.expect_navigation():
        page.click("#start-anyway")
    assert page.url.endswith("/receipt") and _count(live_services) == 2


def test_an_oversize_photo_does_not_wipe_the_inspection_form(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services)
    case = cases.start_case(live_services, staff["front_desk"][0], "restaurant", r.APPLICATION)
    for element, data in r.PATHS["granted_with_inspection"][0][:3]:
        task = next(t for t in case["tasks"] if t["element"] == element)
        case = cases.complete(live_services, staff[WHO[element]][0], task["id"], data)
    task = next(t for t in case["tasks"] if t["element"] == "site_inspection")

    page = pages.new("inspector")
    pages.goto(page, f"/work/tasks/{task['id']}")
    page.check("input[name=inspection_passed][value=false]")
    page.check("input[name=inspection_method][value=onsite]")
    page.fill("[name=inspection_report]", "后厨排水沟未加盖")
    page.fill("[name=inspection_date]", "2026-03-02")
    photo = page.locator("input[type=file][name=site_photo]")

    # in the page: refused as soon as it is chosen, the same words as the server's
    photo.set_input_files({"name": "site.jpg", "mimeType": "image/jpeg", "buffer": BIG})
    error = page.locator(".size-error")
    assert "「site.jpg」文件不能超过 2 MB" in error.inner_text()
    assert photo.evaluate("i => i.files.length") == 0
    assert page.locator("[name=inspection_report]").input_value() == "后厨排水沟未加盖"
    pages.shot(page, "kept-oversize-in-page")

    # on the server (a browser without the check): 422, every other field still there
    page.evaluate("document.getElementById('task-form').removeAttribute('data-max-bytes')")
    photo.set_input_files({"name": "site.jpg", "mimeType": "image/jpeg", "buffer": BIG})
    with page.expect_navigation():
        page.click("button:has-text('提交办理')")
    assert "文件不能超过 2 MB" in page.locator("[data-field=site_photo]").inner_text()
    assert page.locator("[name=inspection_report]").input_value() == "后厨排水沟未加盖"
    assert page.locator("[name=inspection_date]").input_value() == "2026-03-02"
    assert page.locator("input[name=inspection_passed][value=false]").is_checked()
    assert page.locator("input[name=inspection_method][value=onsite]").is_checked()
    pages.shot(page, "kept-oversize-server")

    # a small photo, the report forgotten: refused, the photo held beside its field
    page.locator("input[type=file][name=site_photo]").set_input_files(
        {"name": "现场.png", "mimeType": "image/png", "buffer": SMALL_PNG}
    )
    page.fill("[name=inspection_report]", "")
    with page.expect_navigation():
        page.click("button:has-text('提交办理')")
    held = page.locator("[data-field=site_photo] .held-upload")
    assert "现场.png" in held.inner_text() and "无需重新选择" in held.inner_text()
    pages.shot(page, "kept-photo-held")
    page.fill("[name=inspection_report]", "后厨排水沟未加盖")
    with page.expect_navigation():
        page.click("button:has-text('提交办理')")
    assert "/work/tasks/" not in page.url
    data = queries.get_case(live_services, staff["inspector"][0], case["id"])["data"]
    assert data["site_photo"].startswith("data:image/png;name=%E7%8E%B0%E5%9C%BA.png;base64,")


def test_withdrawing_a_case(pages: Pages, staff: dict[str, Any], live_services: Services) -> None:
    _deploy(live_services)
    case = cases.start_case(live_services, staff["front_desk"][0], "restaurant", r.APPLICATION)
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case['id']}")
    page.click("#withdraw summary")
    pages.shot(page, "kept-withdraw-form")
    with page.expect_navigation():
        page.click(f"#withdraw-submit-{case['id']}")
    assert "请填写撤回原因" in page.content()
    pages.shot(page, "kept-withdraw-refused")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    pages.shot(page, "kept-withdraw-refused-390")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("[name=reason]", "申请人当场撤回申请")
    page.check("[name=confirm]")
    with page.expect_navigation():
        page.click(f"#withdraw-submit-{case['id']}")
    assert page.url.endswith(f"/cases/{case['id']}")
    assert "已撤回" in page.locator(".withdrawn").inner_text()
    assert "申请人当场撤回申请" in page.locator("table.timeline").inner_text()
    assert page.locator("#withdraw").count() == 0
    pages.shot(page, "kept-withdrawn")
