"""Diagrams from files without diagram interchange, or with a broken one (issue 22, helper 6):
laid out in the browser by bpmn-auto-layout and said so, or said incomplete, never a blank canvas
reported as ready. The files are in tests/interop/files/keys/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing

from .conftest import Pages

FILES = Path(__file__).parents[1] / "interop" / "files" / "keys"
NO_DI = (FILES / "camunda_engine_test_no_di.bpmn").read_text(encoding="utf-8")
BROKEN_DI = (FILES / "camunda_broken_di.bpmn").read_text(encoding="utf-8")
DIAGRAM = "#version-diagram"


def _deploy(svc: Services, name: str, xml: str) -> None:
    publishing.deploy(svc, from_upload(name, xml.encode()), "designer")


def _drawn(page: Any, element: str) -> int:
    return int(page.locator(f'{DIAGRAM} g.djs-element[data-element-id="{element}"]').count())


def test_a_file_without_a_diagram_is_laid_out_and_says_so(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services, "no_di.bpmn", NO_DI)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/permitRenewal/1")
    diagram = pages.wait_for_diagram(page, DIAGRAM)
    assert diagram.get_attribute("data-diagram-layout") == "auto"
    assert diagram.get_attribute("data-diagram-missing") == "0"
    for element in ("theStart", "checkDocuments", "approve", "theEnd", "flow2"):
        assert _drawn(page, element) == 1, element
    # the tasks are boxes with their names, laid out left to right
    boxes = [
        page.locator(f'{DIAGRAM} [data-element-id="{e}"]').first.bounding_box()
        for e in ("theStart", "checkDocuments", "approve", "theEnd")
    ]
    assert all(box and box["width"] > 0 for box in boxes)
    assert [box["x"] for box in boxes if box] == sorted(box["x"] for box in boxes if box)
    assert "核对材料" in (
        page.locator(f'{DIAGRAM} [data-element-id="checkDocuments"]').first.text_content() or ""
    )
    notice = page.locator(f"{DIAGRAM} .diagram-notice.auto")
    assert notice.inner_text() == "此图由系统自动排版 (文件中没有图形布局 BPMNDiagram)"
    pages.shot(page, "interop-diagram-auto-layout")

    # a case on it shows the same layout, marked where the case is
    case_id = cases.start_case(live_services, staff["front_desk"][0], "permitRenewal", {})["id"]
    admin = pages.new("admin")
    pages.goto(admin, f"/cases/{case_id}")
    case_diagram = pages.wait_for_diagram(admin, "#case-diagram")
    assert case_diagram.get_attribute("data-diagram-layout") == "auto"
    active = admin.locator('#case-diagram g.djs-element[data-element-id="checkDocuments"]')
    assert "hl-active" in (active.get_attribute("class") or "").split()
    assert "此图由系统自动排版" in admin.locator("#case-diagram .diagram-notice").inner_text()


def test_a_diagram_that_leaves_an_element_out_names_it(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    _deploy(live_services, "broken.bpmn", BROKEN_DI)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/permit_review/1")
    diagram = pages.wait_for_diagram(page, DIAGRAM)
    assert diagram.get_attribute("data-diagram-layout") == "file"
    assert diagram.get_attribute("data-diagram-missing") == "1"
    assert _drawn(page, "Activity_1q0w7ze") == 1
    assert _drawn(page, "approve") == 0
    notice = page.locator(f"{DIAGRAM} .diagram-notice.broken").inner_text()
    assert notice == (
        "流程图不完整: 文件的图形布局 (BPMNDiagram) 缺少 1 个元素, 图中没有画出: 审批 (approve); "
        "请用建模工具打开并重新保存"
    )
    pages.shot(page, "interop-diagram-broken")


def test_a_diagram_that_draws_nothing_of_the_process_is_laid_out_instead(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    # every shape names an id of another process (the diagram pasted from another file)
    stale = BROKEN_DI.replace('bpmnElement="', 'bpmnElement="old_')
    _deploy(live_services, "stale.bpmn", stale)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/permit_review/1")
    diagram = pages.wait_for_diagram(page, DIAGRAM)
    assert diagram.get_attribute("data-diagram-layout") == "auto"
    assert _drawn(page, "approve") == 1 and _drawn(page, "Activity_1q0w7ze") == 1
    assert (
        page.locator(f"{DIAGRAM} .diagram-notice.auto")
        .inner_text()
        .startswith("此图由系统自动排版: 文件中的图形布局 (BPMNDiagram) 画不出流程中的任何元素")
    )
    pages.shot(page, "interop-diagram-stale")
