"""Designer pages and the public 办事指南 in the browser: upload, refused upload, compare, guide."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image

from engine.bundles.source import from_path, from_upload
from engine.services import Services, publishing
from tests.conftest import PROCESSES

from .conftest import Pages

RESTAURANT = PROCESSES / "restaurant"


def _zip_directory(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder.parent).as_posix())
    return target


def _marked(page: Any, container: str, element: str, marker: str) -> bool:
    selector = f'{container} g.djs-element[data-element-id="{element}"]'
    classes = page.locator(selector).first.get_attribute("class") or ""
    return marker in classes.split()


def test_uploading_the_restaurant_bundle_shows_its_version(
    pages: Pages, staff: dict[str, Any], tmp_path: Path
) -> None:
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles")
    assert "还没有部署任何事项包" in page.locator("main").inner_text()
    page.click("text=上传事项包")
    assert page.url == pages.live.url("/designer/upload")
    pages.shot(page, "designer-upload")

    page.set_input_files("input[name=file]", str(_zip_directory(RESTAURANT, tmp_path / "r.zip")))
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/designer/bundles/restaurant/1")
    assert "已将「我要开餐馆」第 1 版保存为草稿" in page.locator(".flash").inner_text()
    pages.wait_for_diagram(page, "#version-diagram")
    assert page.locator("#version-diagram g.djs-element[data-element-id=review_food]").count() == 1
    # the tasks, each with its groups; the forms rendered as a clerk sees them, read-only
    assert page.locator(".task-table tbody tr").count() == 11
    assert "food_safety" in page.locator('tr[data-element="review_food"]').inner_text()
    previews = page.locator("details.form-preview")
    assert previews.count() == 12
    page.click("[data-expand-forms]")
    decision = page.locator("#form-intake [name=intake_decision]").first
    assert decision.is_visible() and decision.is_disabled()
    assert "受理" in page.locator("#form-intake").inner_text()
    page.click('tr[data-element="post_check"] button.locate')
    assert _marked(page, "#version-diagram", "post_check", "hl-selected")
    pages.shot(page, "designer-version")

    pages.goto(page, "/designer/bundles")
    row = page.locator('[data-bundle=restaurant] tr[data-version="1"]')
    assert "designer" in row.inner_text() and "草稿" in row.inner_text()
    pages.shot(page, "designer-bundles")


def test_a_refused_upload_marks_the_elements_in_error(
    pages: Pages, staff: dict[str, Any], live_services: Services, tmp_path: Path
) -> None:
    bpmn = (RESTAURANT / "restaurant.bpmn").read_text()
    broken = bpmn.replace('intake_decision == "correct"', '__import__("os").system("ls")').replace(
        '<bpmn:userTask id="review_food"', '<bpmn:userTask camunda:class="x.Y" id="review_food"'
    )
    upload = tmp_path / "restaurant.bpmn"
    upload.write_text(broken)
    page = pages.new("designer")
    pages.goto(page, "/designer/upload")
    page.set_input_files("input[name=file]", str(upload))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button[type=submit].primary")
    assert posted.value.status == 422
    problems = page.locator("li.problem")
    assert problems.count() == 2
    flow = page.locator('li.problem[data-element="flow_intake_correct"]').inner_text()
    line = next(  # the condition's line in the file as shipped
        n for n, row in enumerate(bpmn.splitlines(), 1) if 'intake_decision == "correct"' in row
    )
    assert (
        "不允许使用以下划线开头的名称" in flow
        and "顺序流 “补正”" in flow
        and f"第 {line} 行" in flow
    )
    task = page.locator('li.problem[data-element="review_food"]').inner_text()
    assert "不允许 camunda:class" in task and "用户任务 “食品经营许可审查”" in task

    diagram = pages.wait_for_diagram(page, "#upload-diagram-1")
    assert diagram.get_attribute("data-marked") == "2"
    assert _marked(page, "#upload-diagram-1", "flow_intake_correct", "hl-error")
    assert _marked(page, "#upload-diagram-1", "review_food", "hl-error")
    assert not _marked(page, "#upload-diagram-1", "review_licence", "hl-error")
    page.locator('li.problem[data-element="review_food"] button.locate').click()
    assert _marked(page, "#upload-diagram-1", "review_food", "hl-selected")
    pages.shot(page, "designer-upload-refused")
    with live_services.uow() as uow:
        assert uow.bundles.list_versions() == []


def test_the_compare_page_marks_what_changed(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(RESTAURANT), "designer")
    files = {p.name: p.read_bytes() for p in RESTAURANT.iterdir()}
    files["restaurant.bpmn"] = (
        files["restaurant.bpmn"]
        .decode()
        .replace('name="一窗受理"', 'name="综合窗口受理"')
        .replace(
            'camunda:candidateGroups="inspection"', 'camunda:candidateGroups="inspection_centre"'
        )
        .encode()
    )
    meta = json.loads(files["bundle.json"])
    meta["materials"].append({"code": "fire_safety", "name": "消防安全承诺书", "required": True})
    files["bundle.json"] = json.dumps(meta, ensure_ascii=False).encode()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
    publishing.deploy(live_services, from_upload("restaurant.zip", archive.getvalue()), "designer")

    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant/2")
    page.click(".compare-form button")
    page.wait_for_load_state()
    assert page.url.endswith("/designer/bundles/restaurant/compare?b=2&a=1")
    pages.wait_for_diagram(page, "#diagram-a")
    pages.wait_for_diagram(page, "#diagram-b")
    assert _marked(page, "#diagram-b", "intake", "hl-changed")
    assert _marked(page, "#diagram-a", "intake", "hl-changed")
    assert _marked(page, "#diagram-b", "site_inspection", "hl-changed")
    assert not _marked(page, "#diagram-b", "review_food", "hl-changed")
    process = page.locator("#changes-process").inner_text()
    assert "用户任务 '综合窗口受理' (intake): 改名" in process
    assert "inspection_centre" in process
    assert (
        "新增材料 '消防安全承诺书' (fire_safety)" in page.locator("#changes-metadata").inner_text()
    )
    page.locator('#changes-process tr[data-element="site_inspection"] button.locate').click()
    assert _marked(page, "#diagram-b", "site_inspection", "hl-selected")
    pages.shot(page, "designer-compare")


def test_the_public_guide_and_its_qr_code(
    pages: Pages, live_services: Services, tmp_path: Path
) -> None:
    publishing.deploy(live_services, from_path(RESTAURANT), "designer")
    page = pages.new()  # nobody signed in
    pages.goto(page, "/")
    page.click("text=办事指南")
    assert page.url == pages.live.url("/guide")
    pages.shot(page, "designer-guides")
    page.click("text=查看办事指南")
    assert page.url == pages.live.url("/guide/restaurant")
    pages.wait_for_diagram(page, "#guide-diagram")
    row = page.locator('tr[data-material="health_certificates"]').inner_text()
    assert "必须" in row and "可容缺" in row
    assert page.locator('[data-limit="promised"]').inner_text() == "7 个工作日"
    assert page.locator('[data-limit="statutory"]').inner_text() == "20 个工作日"

    shot = tmp_path / "qr.png"
    page.locator("#guide-qr svg").screenshot(path=str(shot))
    decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(shot))]
    assert decoded == [pages.live.url("/guide/restaurant")]
    pages.shot(page, "designer-guide")


def test_an_upload_that_drops_the_bundles_metadata_asks_to_confirm(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(RESTAURANT), "designer")
    page = pages.new("designer")
    pages.goto(page, "/designer/upload")
    page.set_input_files("input[name=file]", str(RESTAURANT / "restaurant.bpmn"))
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    notice = page.locator(".upload-confirm")
    assert "需要确认: 新版本将不再包含上一版的部分内容" in notice.inner_text()
    assert "证照「食品经营许可证」(food_permit) 将不再发放" in notice.inner_text()
    pages.shot(page, "designer-upload-confirm")
    # the box must be ticked: the browser refuses the form until it is
    page.set_input_files("input[name=file]", str(RESTAURANT / "restaurant.bpmn"))
    page.check("input[name=replace]")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/designer/bundles/restaurant/2")
