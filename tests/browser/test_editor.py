"""The designer's editor in Chromium: a new bundle from the blank template, the modeler in Chinese,
lint on the diagram while drawing, the server's problems in the footer, a save as a new draft."""

from __future__ import annotations

import re
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.conftest import PROCESSES

from .conftest import Pages

READY = "#modeler-canvas[data-modeler-status=ready]"


def _open_blank(pages: Pages, page: Any) -> None:
    pages.goto(page, "/designer/bundles")
    page.click("a[data-action=new-bundle]")
    page.fill("input[name=key]", "leave")
    page.fill("input[name=name]", "请假审批")
    pages.shot(page, "editor_new_bundle", full_page=False)
    page.click("button[type=submit].primary")
    page.wait_for_selector(READY)


def test_a_new_bundle_from_the_blank_template_drawn_linted_and_saved_as_a_draft(
    pages: Pages, staff: dict[str, Any]
) -> None:
    page = pages.new("designer")
    _open_blank(pages, page)
    for element in ("start", "intake", "split", "review_a", "review_b", "join", "issuance", "end"):
        assert page.locator(f'.djs-element[data-element-id="{element}"]').count() == 1
    assert "一窗受理" in page.locator("#modeler-canvas").inner_text()

    # the palette speaks Chinese, and nothing in it is left in English
    titles = page.eval_on_selector_all(
        ".djs-palette .entry[aria-label]", "nodes => nodes.map(n => n.getAttribute('aria-label'))"
    )
    assert {"任务", "网关", "开始事件", "结束事件", "连线工具"} <= set(titles), titles
    assert not [t for t in titles if re.search("[A-Za-z]{3,}", t)], titles
    # the template lints clean
    page.wait_for_selector(".bjsl-button-success")
    assert page.locator(".bjsl-button").inner_text().strip() == "没有发现问题"
    pages.shot(page, "editor_modeler", full_page=False)

    # draw a task from the palette onto empty canvas, then make it a user task (更改类型)
    below = page.locator('.djs-element[data-element-id="issuance"]').bounding_box()
    assert below is not None
    entry = page.locator(".djs-palette .entry[aria-label='任务']")
    entry.hover()
    page.mouse.down()
    drop = (below["x"] - below["width"] * 1.6, below["y"] + below["height"] * 2.7)
    page.mouse.move(*drop, steps=8)
    page.mouse.up()
    created = page.locator(".djs-shape.selected")
    page.wait_for_function(
        "() => LianbanDraft.modeler.get('selection').get().some(e => e.type === 'bpmn:Task')"
    )
    new_id = page.evaluate("() => LianbanDraft.modeler.get('selection').get()[0].id")
    assert created.count() == 1
    # its name typed in place (the modeler opens the label for editing on a new task)
    assert page.evaluate("() => LianbanDraft.modeler.get('directEditing').isActive()")
    page.keyboard.type("送达回访")
    page.keyboard.press("Enter")
    page.click(".djs-context-pad [data-action=replace]")
    user_task = page.locator(".djs-popup [data-id=replace-with-user-task]")
    assert "人工任务" in (user_task.get_attribute("title") or user_task.inner_text())
    user_task.click()
    kind = page.evaluate("id => LianbanDraft.modeler.get('elementRegistry').get(id).type", new_id)
    assert kind == "bpmn:UserTask"
    shape = page.locator(f'.djs-element[data-element-id="{new_id}"]')
    assert "送达回访" in (shape.text_content() or "")
    # the lint marks it on the diagram at once: no 办理组, not connected
    page.wait_for_selector(".bjsl-button-error")
    overlay = page.locator(f'.djs-overlays[data-container-id="{new_id}"] .bjsl-overlay')
    overlay.wait_for()
    marker = overlay.bounding_box()
    assert marker is not None
    page.mouse.move(marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
    issues = page.locator(f'.djs-overlays[data-container-id="{new_id}"] .bjsl-dropdown')
    text = issues.inner_text()
    assert "没有办理组" in text and "没有连接到流程中" in text, text
    pages.shot(page, "editor_lint", full_page=False)

    # the server's check says the same, in the footer; a click there selects the element
    page.click("button[data-editor-action=validate]")
    page.wait_for_selector("#editor-problems:not([hidden]) li")
    problems = page.locator("#editor-problems li")
    assert "发现" in page.locator("#editor-status").inner_text()
    flagged = page.locator(f'#editor-problems li[data-element="{new_id}"]')
    assert flagged.count() >= 1 and "没有办理组" in problems.all_inner_texts().__str__()
    pages.shot(page, "editor_problems", full_page=False)
    page.click("[data-tab=settings]")
    flagged.first.click()
    assert page.locator("#tab-diagram").is_visible()
    assert page.evaluate("() => LianbanDraft.modeler.get('selection').get()[0].id") == new_id
    assert page.locator(f'.djs-element.lianban-problem[data-element-id="{new_id}"]').count() == 1

    # its 办理组 set in the properties panel (经办分组, H2's part): that lint problem goes
    select_new = "id => LianbanDraft.selectElement(id)"
    page.evaluate(select_new, new_id)
    page.check("#modeler-properties li[data-group=issuance] input[type=checkbox]")
    # the server's mark on it goes with the change (检查 would tell again)
    assert page.locator(f'.djs-element.lianban-problem[data-element-id="{new_id}"]').count() == 0
    groups = page.evaluate(
        "id => LianbanDraft.modeler.get('elementRegistry').get(id)"
        ".businessObject.get('camunda:candidateGroups')",
        new_id,
    )
    assert groups == "issuance"
    page.wait_for_function(
        """id => ![...document.querySelectorAll(
             `.djs-overlays[data-container-id="${id}"] .bjsl-dropdown li`)]
           .some(li => li.textContent.includes('没有办理组'))""",
        arg=new_id,
    )
    # then connected between 统一发证 and the end through the modeler's API
    # (drawing connections with the mouse is not what this test is about)
    page.evaluate(
        """id => {
          const m = LianbanDraft.modeler;
          const registry = m.get('elementRegistry'), modeling = m.get('modeling');
          const task = registry.get(id);
          modeling.removeElements([registry.get('flow_end')]);
          modeling.connect(registry.get('issuance'), task);
          modeling.connect(task, registry.get('end'));
        }""",
        new_id,
    )
    page.wait_for_selector(".bjsl-button-success, .bjsl-button-warning")
    assert page.locator(f'.djs-overlays[data-container-id="{new_id}"] .bjsl-overlay').count() == 0
    page.click("button[data-editor-action=save]")
    page.wait_for_url(pages.live.url("/designer/bundles/leave/1"))
    assert page.locator("h1 [data-status=draft]").inner_text() == "草稿"
    assert "送达回访" in page.locator("table.task-table").inner_text()
    pages.shot(page, "editor_saved_draft")


def test_the_restaurant_opens_in_the_editor_without_lint_errors(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    """What the server accepts, the lint does not call an error (its warnings may remain)."""
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "designer")
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant/1")
    page.click("a[data-action=edit]")
    page.wait_for_selector(READY)
    assert page.locator('.djs-element[data-element-id="intake"]').count() == 1
    page.wait_for_selector(".bjsl-button-success, .bjsl-button-warning")
    issues = page.evaluate(
        """async () => {
          const found = await LianbanDraft.modeler.get('linting').lint();
          return Object.values(found).flat().map(i => [i.category, i.id, i.message]);
        }"""
    )
    assert not [i for i in issues if i[0] == "error"], issues
    forms = page.evaluate("() => LianbanDraft.formKeys()")
    assert "restaurant/intake.json" in forms
    pages.shot(page, "editor_restaurant", full_page=False)


# Each of lianban's lint rules once: an exclusive split without conditions joined by a parallel
# join, a user task without a group, a script task, a timer without its time, no end event.
LINTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="choose" name="选择"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="a" name="甲"><bpmn:incoming>fa</bpmn:incoming>
      <bpmn:outgoing>fa2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="b" name="脚本"><bpmn:incoming>fb</bpmn:incoming>
      <bpmn:outgoing>fb2</bpmn:outgoing></bpmn:scriptTask>
    <bpmn:parallelGateway id="join" name="汇合"><bpmn:incoming>fa2</bpmn:incoming>
      <bpmn:incoming>fb2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:timerEventDefinition id="t" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="choose" />
    <bpmn:sequenceFlow id="fa" sourceRef="choose" targetRef="a" />
    <bpmn:sequenceFlow id="fb" sourceRef="choose" targetRef="b" />
    <bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="wait" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_lint_rules_say_in_chinese_what_the_server_refuses(
    pages: Pages, staff: dict[str, Any]
) -> None:
    page = pages.new("designer")
    _open_blank(pages, page)
    issues = page.evaluate(
        """async xml => (await LianbanModeler.lintXML(LianbanDraft.modeler, xml))
             .map(i => [i.category, i.id, i.message])""",
        LINTED,
    )
    errors = {(i[1], i[2]) for i in issues if i[0] == "error"}
    expected = {
        ("fa", "网关「选择」的出口连线'fa'没有条件, 也不是默认连线"),
        ("fb", "网关「选择」的出口连线'fb'没有条件, 也不是默认连线"),
        ("a", "人工任务「甲」没有办理组: 请设置办理组 (candidateGroups) 或把它放进泳道"),
        ("b", "不允许脚本任务: 流程不能包含代码, 请改用人工任务和网关条件"),
        ("wait", '定时器「等待」没有设置时间: 请填写日期、时长 (如 "P10D") 或周期'),
        ("p", "流程缺少结束事件"),
    }
    assert expected <= errors, issues
    join = [m for i, m in errors if i == "join"]
    assert len(join) == 1 and "排他网关「选择」" in join[0] and "一直停在这里" in join[0]
    assert not [i for i in issues if re.search("[A-Za-z]{4,}", i[2].replace("candidateGroups", ""))]

    # a BPMN file without a diagram is laid out (bpmn-auto-layout) and the editor says so
    files = page.evaluate("() => LianbanDraft.files")
    files["leave.bpmn"] = LINTED
    page.route(
        "**/designer/templates/blank/files.json*",
        lambda route: route.fulfill(json={"files": files, "bpmn": "leave.bpmn"}),
    )
    page.reload()
    page.wait_for_selector("#modeler-canvas[data-modeler-status=ready]")
    assert page.locator("#modeler-canvas").get_attribute("data-modeler-layout") == "auto"
    assert page.locator("#modeler-canvas .djs-element[data-element-id=wait]").count() == 1
    assert (
        page.locator("#modeler-canvas .modeler-notice")
        .inner_text()
        .startswith("此图由系统自动排版")
    )
