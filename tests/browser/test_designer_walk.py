"""A designer's whole day in Chromium, as the issue tells it: a new bundle from the blank template,
a field added in the form editor, a conditional site inspection drawn after the parallel reviews,
the lint's problem seen and fixed in the properties panel, saved as a draft, both inspection
branches test-run and saved as regression tests, published; a clerk completes a real case on it;
then an edited v2 without the inspection is published while a case started on v1 keeps its route.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.services import Services, cases, queries

from .conftest import Pages

READY = "#modeler-canvas[data-modeler-status=ready]"
PANEL = "#modeler-properties"
CARD = "[data-tr-task-card={}]"
APPLICANT = {
    "applicant_name": "钱七",
    "applicant_id_number": "330102199001011234",
    "contact_phone": "13800000000",
}

# The inspection drawn through the modeler's own API, as the palette and the mouse would place it
# (dragging each shape is what tests/browser/test_editor.py does; here the route matters).
DRAW_INSPECTION = """() => {
  const m = LianbanDraft.modeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  const factory = m.get('elementFactory'), root = m.get('canvas').getRootElement();
  const join = reg.get('join'), issuance = reg.get('issuance');
  modeling.removeElements([reg.get('flow_join')]);
  modeling.moveElements([issuance, reg.get('end')], {x: 420, y: 0});
  const cy = join.y + join.height / 2;
  function shape(type, id, name, x, y) {
    const made = modeling.createShape(factory.createShape({type: type}), {x: x, y: y}, root);
    modeling.updateProperties(made, {id: id, name: name});
    return made;
  }
  function flow(a, b, id, name) {
    const made = modeling.connect(a, b);
    modeling.updateProperties(made, name ? {id: id, name: name} : {id: id});
    return made;
  }
  const gw = shape('bpmn:ExclusiveGateway', 'inspect_gw', '需要踏勘?', join.x + 120, cy);
  const task = shape('bpmn:UserTask', 'inspection', '现场踏勘', join.x + 260, cy - 110);
  const merge = shape('bpmn:ExclusiveGateway', 'inspect_merge', '', join.x + 400, cy);
  flow(join, gw, 'flow_to_gw');
  flow(gw, task, 'flow_inspect', '需要');
  flow(task, merge, 'flow_inspected');
  flow(gw, merge, 'flow_skip', '无需');
  flow(merge, issuance, 'flow_to_issuance');
}"""

# v2: the inspection taken out again, the reviews joined straight into 统一发证.
REMOVE_INSPECTION = """() => {
  const m = LianbanDraft.modeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  modeling.removeElements(['inspect_gw', 'inspection', 'inspect_merge'].map(id => reg.get(id)));
  const made = modeling.connect(reg.get('join'), reg.get('issuance'));
  modeling.updateProperties(made, {id: 'flow_join'});
}"""


def _wait_steps(page: Any, n: int) -> None:
    page.wait_for_function(
        "n => window.LianbanTestRun.steps.length === n && "
        "document.getElementById('testrun').dataset.state === 'idle'",
        arg=n,
    )


def _tr_fill(page: Any, element: str, values: dict[str, Any], steps: int) -> None:
    """Fill a ready task's form in the 试运行 tab and run the step."""
    card = page.locator(CARD.format(element))
    for name, value in values.items():
        field = card.locator(f"[data-field={name}]")
        if isinstance(value, bool):
            field.get_by_label("是" if value else "否", exact=True).check()
        else:
            field.locator(":is(input, textarea)").fill(str(value))
    card.locator("button[type=submit]").click()
    _wait_steps(page, steps)


def _tr_classes(page: Any, element: str) -> list[str]:
    selector = f'#testrun-diagram g[data-element-id="{element}"]'
    return (page.locator(selector).first.get_attribute("class") or "").split()


def _test_run(page: Any, inspect: bool) -> None:
    form = "[data-tr-form=start]"
    for name, value in APPLICANT.items():
        page.fill(f"{form} [data-field={name}] :is(input, textarea)", value)
    page.click(f"{form} button[type=submit]")
    _wait_steps(page, 1)
    _tr_fill(page, "intake", {"materials_checked": True, "intake_opinion": "齐全"}, 2)
    _tr_fill(page, "review_a", {"review_a_opinion": "同意", "needs_inspection": inspect}, 3)
    _tr_fill(page, "review_b", {"review_b_opinion": "同意"}, 4)
    steps = 4
    if inspect:
        assert "tr-ready" in _tr_classes(page, "inspection")
        steps += 1
        _tr_fill(page, "inspection", {}, steps)
    else:
        assert "tr-skipped" in _tr_classes(page, "inspection")
    _tr_fill(page, "issuance", {"issue_note": "已发证"}, steps + 1)
    assert "办件已结束于「办结」" in page.locator("[data-tr-ended]").inner_text()


def _clerk_task(pages: Pages, clerk: str, case_id: int, values: dict[str, Any]) -> None:
    """A clerk opens the case's task from their worklist, fills it and submits it."""
    page = pages.new(clerk)
    page.locator(f"tr[data-case='{case_id}'] a.task-link").click()
    for name, value in values.items():
        if isinstance(value, bool):
            page.check(f"input[name={name}][value={'true' if value else 'false'}]")
        else:
            page.fill(f"[name={name}]", str(value))
    with page.expect_navigation():
        page.click("button:has-text('提交办理')")
    assert "已办理" in page.locator(".flash").inner_text(), clerk
    page.close()


def _case(svc: Services, staff: dict[str, Any], case_id: int) -> dict[str, Any]:
    return queries.get_case(svc, staff["admin"][0], case_id)


def _open_tasks(svc: Services, staff: dict[str, Any], case_id: int) -> list[str]:
    return sorted(t["element"] for t in _case(svc, staff, case_id)["tasks"])


def _complete(svc: Services, staff: dict[str, Any], case_id: int, element: str, data: Any) -> None:
    task = next(t for t in _case(svc, staff, case_id)["tasks"] if t["element"] == element)
    clerk = {
        "intake": "front_desk",
        "review_a": "market_reviewer",
        "review_b": "food_reviewer",
        "inspection": "inspector",
        "issuance": "issuer",
    }[element]
    cases.complete(svc, staff[clerk][0], task["id"], data)


def _publish(pages: Pages, page: Any, version: int) -> None:
    pages.goto(page, f"/designer/bundles/shop/{version}")
    page.check("#lifecycle input[name=confirm]")
    with page.expect_navigation():
        page.click("button[data-action=publish]")
    assert page.locator("h1 [data-status=published]").count() == 1


def test_a_bundle_drawn_checked_test_run_published_and_run_then_changed_in_v2(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    page = pages.new("designer")
    page.set_viewport_size({"width": 1366, "height": 900})

    # a new bundle from the blank template: 一窗受理 → 并联审批 → 统一发证
    pages.goto(page, "/designer/bundles")
    page.click("a[data-action=new-bundle]")
    page.fill("input[name=key]", "shop")
    page.fill("input[name=name]", "我要开小店")
    page.click("button[type=submit].primary")
    page.wait_for_selector(READY)

    # the form editor: 部门甲审查 gets a yes/no field 是否需要现场踏勘
    page.click("button[data-tab=forms]")
    page.click('#fe-forms [data-form-path="forms/shop/review_a.json"]')
    page.click("#fe-add-field")
    field = page.locator(".fe-field").last
    field.locator(".fe-name").fill("needs_inspection")
    field.locator(".fe-title").fill("是否需要现场踏勘")
    field.locator(".fe-kind").select_option("boolean")
    page.locator(".fe-field").last.locator(".fe-required").check()
    page.wait_for_function(
        "() => document.querySelector('#fe-preview').innerText.includes('是否需要现场踏勘')"
    )
    form = json.loads(page.evaluate("() => LianbanDraft.get('forms/shop/review_a.json')"))
    assert form["properties"]["needs_inspection"]["type"] == "boolean"
    assert "needs_inspection" in form["required"]

    # the diagram: a conditional inspection after the reviews
    page.click("button[data-tab=diagram]")
    page.evaluate(DRAW_INSPECTION)
    # the lint says at once what is missing: the task's group, the split's conditions
    page.wait_for_selector(".bjsl-button-error")
    issues = page.evaluate(
        """async () => Object.values(await LianbanDraft.modeler.get('linting').lint())
             .flat().filter(i => i.category === 'error').map(i => [i.id, i.message])"""
    )
    flagged = {element for element, _ in issues}
    assert {"inspection", "flow_inspect", "flow_skip"} <= flagged, issues
    assert any("没有办理组" in message for _, message in issues), issues
    pages.shot(page, "walk_lint", full_page=False)

    # fixed in the properties panel: its group, the condition checked as typed, the default path
    page.evaluate("id => LianbanDraft.selectElement(id)", "inspection")
    page.check(f"{PANEL} li[data-group=inspection] input[type=checkbox]")
    page.evaluate("id => LianbanDraft.selectElement(id)", "flow_inspect")
    condition = page.locator(f"{PANEL} textarea.lianban-expression")
    condition.fill("needs_inspection = true")
    page.wait_for_selector(f'{PANEL} [data-check="error"] .lianban-hint')
    condition.fill("needs_inspection == true")
    page.wait_for_selector(f'{PANEL} [data-check="ok"]')
    page.evaluate("id => LianbanDraft.selectElement(id)", "flow_skip")
    page.check(f"{PANEL} input[name=lianban-default-flow]")
    page.wait_for_selector(".bjsl-button-success, .bjsl-button-warning")
    remaining = page.evaluate(
        """async () => Object.values(await LianbanDraft.modeler.get('linting').lint())
             .flat().filter(i => i.category === 'error').map(i => i.message)"""
    )
    assert remaining == []
    pages.shot(page, "walk_fixed", full_page=False)

    # saved as a draft: version 1, not public
    page.click("button[data-editor-action=save]")
    page.wait_for_url(pages.live.url("/designer/bundles/shop/1"))
    assert page.locator("h1 [data-status=draft]").inner_text() == "草稿"
    assert "现场踏勘" in page.locator("table.task-table").inner_text()
    assert page.locator("#checks").get_attribute("data-errors") == "0"
    public = pages.new()
    pages.goto(public, "/guide")
    assert "我要开小店" not in public.locator("main").inner_text()

    # test runs of the draft: both inspection branches, saved, re-run
    page.click("a[data-action=edit]")
    page.wait_for_selector(READY)
    page.click(".editor-tabs [data-tab=testrun]")
    page.wait_for_selector("[data-tr-form=start] [data-field=applicant_name] input")
    _test_run(page, inspect=True)
    assert "tr-taken" in _tr_classes(page, "flow_inspect")
    pages.shot(page, "walk_test_run", full_page=False)
    page.fill("[data-tr-name]", "需要踏勘")
    page.click("[data-tr-action=save-run]")
    page.wait_for_selector("[data-tr-saved] li[data-tr-run]")
    page.click("[data-tr-action=restart]")
    _wait_steps(page, 0)
    _test_run(page, inspect=False)
    page.fill("[data-tr-name]", "无需踏勘")
    page.click("[data-tr-action=save-run]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-tr-saved] li[data-tr-run]').length === 2"
    )
    page.click("[data-tr-action=rerun]")
    page.wait_for_selector("[data-tr-summary].ok")
    assert "全部通过 (2 个)" in page.locator("[data-tr-summary]").inner_text()

    # published: in the guide and the clerks' start list
    _publish(pages, page, 1)
    pages.goto(public, "/guide")
    assert "我要开小店" in public.locator("main").inner_text()

    # a clerk takes a real case through it, the inspection included
    desk = pages.new("front_desk")
    pages.goto(desk, "/work/start")
    desk.click("[data-bundle=shop] >> text=收件")
    for name, value in APPLICANT.items():
        desk.fill(f"[name={name}]", value)
    with desk.expect_navigation():
        desk.click("button:has-text('收件并生成办件')")
    case_id = int(desk.locator(".case-no").inner_text())
    pages.goto(desk, "/work/")
    _clerk_task(pages, "front_desk", case_id, {"materials_checked": True, "intake_opinion": "齐"})
    _clerk_task(
        pages, "market_reviewer", case_id, {"review_a_opinion": "同意", "needs_inspection": True}
    )
    _clerk_task(pages, "food_reviewer", case_id, {"review_b_opinion": "同意"})
    _clerk_task(pages, "inspector", case_id, {})
    _clerk_task(pages, "issuer", case_id, {"issue_note": "已发证"})
    done = _case(live_services, staff, case_id)  # the inspector had the task: v1's route
    assert done["status"] == "completed" and done["version"] == 1

    # a case on v1 waits at 一窗受理 while v2 (no inspection) is drawn and published
    v1_case = cases.start_case(live_services, staff["front_desk"][0], "shop", APPLICANT)
    v1_id = v1_case["id"]
    pages.goto(page, "/designer/bundles/shop/1")
    page.click("a[data-action=edit]")
    page.wait_for_selector(READY)
    page.evaluate(REMOVE_INSPECTION)
    page.wait_for_selector(".bjsl-button-success, .bjsl-button-warning")
    page.once("dialog", lambda dialog: dialog.accept())  # it drops the inspection: confirmed
    page.click("button[data-editor-action=save]")
    page.wait_for_url(pages.live.url("/designer/bundles/shop/2"))
    _publish(pages, page, 2)
    pages.shot(page, "walk_v2_published")

    # the v1 case keeps its route: the inspection still comes when asked for
    _complete(
        live_services, staff, v1_id, "intake", {"materials_checked": True, "intake_opinion": "齐"}
    )
    _complete(
        live_services,
        staff,
        v1_id,
        "review_a",
        {"review_a_opinion": "同意", "needs_inspection": True},
    )
    _complete(live_services, staff, v1_id, "review_b", {"review_b_opinion": "同意"})
    assert _open_tasks(live_services, staff, v1_id) == ["inspection"]
    # a new case starts on v2: straight to 统一发证 after the reviews
    v2_case = cases.start_case(live_services, staff["front_desk"][0], "shop", APPLICANT)
    v2_id = v2_case["id"]
    assert _case(live_services, staff, v2_id)["version"] == 2
    _complete(
        live_services, staff, v2_id, "intake", {"materials_checked": True, "intake_opinion": "齐"}
    )
    _complete(
        live_services,
        staff,
        v2_id,
        "review_a",
        {"review_a_opinion": "同意", "needs_inspection": True},
    )
    _complete(live_services, staff, v2_id, "review_b", {"review_b_opinion": "同意"})
    assert _open_tasks(live_services, staff, v2_id) == ["issuance"]
    assert re.search(r"第 2 版", page.locator("h1").inner_text())
