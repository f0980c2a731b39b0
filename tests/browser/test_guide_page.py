"""The public 办事指南 in the browser: every entry shown, read on a phone (375 px, nothing scrolls
sideways), printed as an A4 PDF; and the 办事指南 edited in the designer editor's 办件设置 tab,
its missing entries listed before saving, then saved as a new draft."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.browser.conftest import SCREENSHOTS, Pages
from tests.browser.test_editor_panel import READY
from tests.conftest import PROCESSES

KEY = "restaurant_joint"
PHONE = {"width": 375, "height": 812}


def _published(live_services: Services) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / KEY), "test")


def test_the_guide_shows_every_entry_on_a_phone_and_prints_on_a4(
    pages: Pages, live_services: Services
) -> None:
    _published(live_services)
    page = pages.new()
    page.set_viewport_size(PHONE)
    pages.goto(page, f"/guide/{KEY}")
    pages.wait_for_diagram(page, "#guide-diagram")
    text = page.locator("main").inner_text()
    for entry in (
        "YJS-CY-002",  # 事项编码
        "杭州市上城区市场监督管理局",  # 实施主体
        "《中华人民共和国食品安全法》",  # 设定依据
        "第三十五条",
        "不收费",  # 收费
        "解放东路 18 号",  # 地点
        "13:30–17:00",  # 办公时间
        "0571-87000000",  # 咨询电话
        "12345",  # 投诉电话
        "适用范围与受理条件",
        "有专职或者兼职的食品安全管理人员",  # 受理条件
        "食品经营许可证(有效期 5 年)",  # 结果
        "统一出件窗口领取或免费邮寄",  # 送达
        "承诺时限",
        "法定时限",
        "办理环节",
    ):
        assert entry in text, entry
    blank = page.locator("[data-material=application_form] a[data-file=blank_form]")
    assert blank.get_attribute("href") == f"/guide/{KEY}/files/files/application_form_blank.pdf"
    assert page.locator("[data-material=application_form] a[data-file=sample]").count() == 1

    # a phone: nothing wider than the screen, tables as stacked rows
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 375, width
    row = page.locator("table.legal-basis tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert (
        page.locator("table.legal-basis thead").evaluate("h => getComputedStyle(h).display")
        == "none"
    )
    pages.shot(page, "guide-phone-375")

    # the download is the blank form itself
    with page.expect_download() as caught:
        blank.click()
    download = caught.value
    assert download.suggested_filename == "application_form_blank.pdf"
    saved = download.path()
    assert saved is not None and Path(saved).read_bytes().startswith(b"%PDF-")

    # printed: A4, a sane number of pages, no navigation or buttons, the whole text
    page.set_viewport_size({"width": 1366, "height": 768})
    page.emulate_media(media="print")
    assert page.locator("header.topbar").evaluate("h => getComputedStyle(h).display") == "none"
    assert page.locator(".guide-back").evaluate("h => getComputedStyle(h).display") == "none"
    # the diagram: its whole picture, as wide as the page (the screen's viewer is not printed)
    page.wait_for_selector("#guide-diagram-print[data-ready=true] img", state="attached")
    assert (
        page.locator("#guide-diagram").evaluate("d => getComputedStyle(d).visibility") == "hidden"
    )
    picture = page.locator("#guide-diagram-print img").bounding_box()
    main = page.locator("main").bounding_box()
    assert picture is not None and main is not None and picture["width"] >= main["width"] - 2
    pdf = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "guide-a4.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert 2 <= len(reader.pages) <= 8, len(reader.pages)
    box = reader.pages[0].mediabox
    # A4 in points (210 x 297 mm), as Chromium rounds it
    assert abs(float(box.width) - 595.3) < 1.5 and abs(float(box.height) - 841.9) < 1.5, box
    printed = "".join(p.extract_text() for p in reader.pages)
    assert "办事指南" in printed and "0571-87000000" in printed
    assert "全部办事指南" not in printed and "登录" not in printed
    _pdf_pages_as_png(pdf)
    assert not pages.outside and not pages.script_errors


def _pdf_pages_as_png(pdf: bytes) -> None:
    """The printed guide's pages as images beside the screenshots, to look at."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        for i in range(len(document)):
            image = document[i].render(scale=1.2).to_pil()
            image.save(SCREENSHOTS / f"guide-a4-page{i + 1}.png")
    finally:
        document.close()


def test_the_designer_fills_the_guide_in_the_editor_and_saves_it(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _published(live_services)
    page = pages.new("designer")
    pages.goto(page, f"/designer/bundles/{KEY}/1/edit")
    page.wait_for_selector(READY)
    page.click("[data-tab=settings]")
    page.wait_for_selector("#settings-editor[data-ready=true]")
    guide = page.locator("[data-se=guide]")
    assert guide.locator("input[data-key=code]").input_value() == "YJS-CY-002"
    # the files of the stored version are offered to the materials
    page.wait_for_selector("#settings-editor[data-guide-files='2']")
    options = page.locator("#se-guide-files option")
    assert sorted(options.evaluate_all("os => os.map(o => o.value)")) == [
        "files/application_form_blank.pdf",
        "files/application_form_sample.pdf",
    ]
    sample = page.locator("[data-material='0'] input[data-file-key=sample]")
    assert sample.input_value() == "files/application_form_sample.pdf"
    assert sample.get_attribute("aria-invalid") == "false"

    # an entry emptied: the tab lists it at once, as the server would refuse it
    consult = guide.locator("label:has-text('咨询电话') input")
    consult.fill("")
    missing = page.locator("[data-se=guide-missing]")
    assert missing.is_visible()
    assert "办事指南缺少 咨询电话 (guide.phones.consult)" in missing.inner_text()
    page.click("button[data-editor-action=validate]")
    problems = page.locator("#editor-problems")
    problems.locator("li", has_text="咨询电话").first.wait_for()
    assert "办事指南缺少 咨询电话 (guide.phones.consult)" in problems.inner_text()
    pages.shot(page, "guide-editor-missing", full_page=False)

    # filled again, a place and a condition added, the fee changed: saved as version 2
    consult.fill("0571-87000001")
    assert not missing.is_visible()
    guide.locator("label:has-text('收费标准') input").fill("不收取任何费用")
    page.click("[data-guide-add=places]")
    row = guide.locator("[data-guide-list=places] [data-row='1']")
    row.locator("input[data-key=name]").fill("上城区市民之家 自助服务区")
    row.locator("input[data-key=address]").fill("杭州市上城区解放东路 18 号")
    row.locator("input[data-key=hours]").fill("每日 8:00-20:00")
    page.click("[data-guide-add=conditions]")
    guide.locator("[data-guide-list=conditions] [data-row] input").last.fill(
        "经营场所不在居民住宅楼内"
    )
    pages.shot(page, "guide-editor-filled", full_page=False)
    page.click("button[data-editor-action=save]")
    page.wait_for_url(pages.live.url(f"/designer/bundles/{KEY}/2"))

    with live_services.uow() as uow:
        saved = uow.bundles.get(KEY, 2)
        files = uow.bundles.attachment_sizes(KEY, 2)
    assert saved is not None
    stored = saved.metadata["guide"]
    assert stored["phones"]["consult"] == "0571-87000001" and stored["fee"] == "不收取任何费用"
    assert stored["places"][1] == {
        "name": "上城区市民之家 自助服务区",
        "address": "杭州市上城区解放东路 18 号",
        "hours": "每日 8:00-20:00",
    }
    assert stored["conditions"][-1] == "经营场所不在居民住宅楼内"
    original = json.loads((PROCESSES / KEY / "bundle.json").read_text())
    assert stored["legal_basis"] == original["guide"]["legal_basis"]  # kept as it was
    assert saved.metadata["applicant"] == original["applicant"]  # keys the tab does not show
    assert set(files) == {"files/application_form_blank.pdf", "files/application_form_sample.pdf"}
    assert not pages.outside and not pages.script_errors
