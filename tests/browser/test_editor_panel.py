"""The editor's properties panel in Chromium: a user task's 经办分组 picked from the groups that
exist (member counts shown, a group without members marked), its form picked among the draft's,
its 计时方式; a gateway's flow given a condition checked as it is typed (a misspelled field gets
您是不是要找 …, the fix passes); the draft's XML carries the camunda attributes."""

from __future__ import annotations

import json
from typing import Any

from engine.bundles.source import BundleSource, from_path
from engine.services import publishing
from tests.conftest import PROCESSES
from tests.fixtures import bpmn

from .conftest import Pages

READY = "#modeler-canvas[data-modeler-status=ready]"
PANEL = "#modeler-properties"

START_FORM = {"type": "object", "properties": {"shop_name": {"type": "string", "title": "店名"}}}
REVIEW_FORM = {
    "type": "object",
    "properties": {"sells_cold_chain": {"type": "boolean", "title": "是否经营冷链食品"}},
}
CHECK_FORM = {"type": "object", "properties": {"cold_ok": {"type": "boolean", "title": "冷链合格"}}}

SHAPES = {  # element: (x, y, width, height)
    "start": (160, 122, 36, 36),
    "review": (250, 100, 100, 80),
    "gw": (405, 115, 50, 50),
    "cold_check": (510, 100, 100, 80),
    "end_yes": (672, 122, 36, 36),
    "end_no": (412, 252, 36, 36),
    "late": (542, 162, 36, 36),
    "end_late": (542, 252, 36, 36),
}
EDGES = {  # flow: waypoints
    "f1": [(196, 140), (250, 140)],
    "f2": [(350, 140), (405, 140)],
    "flow_yes": [(455, 140), (510, 140)],
    "flow_no": [(430, 165), (430, 252)],
    "f3": [(610, 140), (672, 140)],
    "f_late": [(560, 198), (560, 252)],
}


def _diagram() -> str:
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}">'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" /></bpmndi:BPMNShape>'
        for e, (x, y, w, h) in SHAPES.items()
    )
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}">'
        + "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in points)
        + "</bpmndi:BPMNEdge>"
        for f, points in EDGES.items()
    )
    return (
        '<bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="pharmacy">'
        f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"
    )


PROCESS = (
    bpmn.document(
        """
  <bpmn:startEvent id="start" name="申请" camunda:formKey="start.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:userTask id="review" name="药品审查" camunda:candidateGroups="front_desk"
    camunda:formKey="review.json" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" name="冷链?" default="flow_no" />
  <bpmn:sequenceFlow id="flow_yes" name="冷链" sourceRef="gw" targetRef="cold_check">
    <bpmn:conditionExpression>sells_cold_chain == true</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="flow_no" sourceRef="gw" targetRef="end_no" />
  <bpmn:userTask id="cold_check" name="冷链核查" camunda:candidateGroups="inspection"
    camunda:formKey="check.json" />
  <bpmn:boundaryEvent id="late" name="超时" attachedToRef="cold_check" cancelActivity="false">
    <bpmn:timerEventDefinition id="late_timer"><bpmn:timeDuration>"P10D"</bpmn:timeDuration>
    </bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="end_late" />
  <bpmn:endEvent id="end_late" name="超时提醒" />
  <bpmn:sequenceFlow id="f3" sourceRef="cold_check" targetRef="end_yes" />
  <bpmn:endEvent id="end_yes" name="核查完毕" />
  <bpmn:endEvent id="end_no" name="办结" />""",
        process_id="pharmacy",
        name="药店许可",
    )
    .replace(
        b' id="defs"',
        b' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        b' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        b' xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs"',
    )
    .replace(b"</bpmn:definitions>", _diagram().encode() + b"</bpmn:definitions>")
)


def _deploy(services: Any) -> None:
    files = {
        "pharmacy.bpmn": PROCESS,
        "bundle.json": json.dumps({"key": "pharmacy", "name": "药店许可"}).encode(),
        "forms/start.json": json.dumps(START_FORM, ensure_ascii=False).encode(),
        "forms/review.json": json.dumps(REVIEW_FORM, ensure_ascii=False).encode(),
        "forms/check.json": json.dumps(CHECK_FORM, ensure_ascii=False).encode(),
    }
    publishing.deploy(services, BundleSource("pharmacy", files), "test", publish=False)


def _select(page: Any, element: str) -> None:
    page.evaluate(
        "id => { const m = LianbanDraft.modeler;"
        " m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element,
    )


def test_a_task_gets_groups_and_a_form_and_a_flow_a_checked_condition(
    pages: Pages, staff: dict[str, Any], live_services: Any
) -> None:
    _deploy(live_services)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/pharmacy/1/edit")
    page.wait_for_selector(READY)

    # the user task: its groups, with the members of each
    page.click('.djs-element[data-element-id="cold_check"]')
    groups = page.locator(f"{PANEL} .lianban-groups")
    groups.wait_for()
    page.wait_for_selector(f'{PANEL} .lianban-group-list li[data-group="front_desk"]')
    front_desk = groups.locator('li[data-group="front_desk"]')
    assert front_desk.locator(".lianban-count").inner_text() == "2 人"
    assert groups.locator('li[data-group="inspection"] input').is_checked()
    assert not front_desk.locator("input").is_checked()
    front_desk.locator("input").check()
    page.wait_for_function(
        "() => LianbanDraft.modeler.get('elementRegistry').get('cold_check')"
        ".businessObject.get('camunda:candidateGroups') === 'inspection,front_desk'"
    )
    # a new group: allowed, marked as having nobody, with who can add members
    page.fill(f"{PANEL} input[name=lianban-new-group]", "cold_chain_team")
    page.click(f"{PANEL} .lianban-add button")
    new_group = groups.locator('li[data-group="cold_chain_team"]')
    new_group.wait_for()
    assert new_group.locator(".lianban-count").inner_text() == "0 人"
    assert "lianban-warning" in (new_group.get_attribute("class") or "")
    assert "用户与分组" in groups.locator(".lianban-warning-text").inner_text()

    # its form, among the draft's forms; its clock paused
    form = page.locator(f"{PANEL} select[name=lianban-form]")
    options = form.locator("option").all_inner_texts()
    assert {"(无表单)", "check.json", "review.json", "start.json"} <= set(options), options
    form.select_option("review.json")
    page.locator(f"{PANEL} select[name=lianban-clock]").select_option("pause")
    certificate = page.locator(f"{PANEL} select[name=lianban-certificate]")
    certificate.select_option("issue")
    issue_note = page.locator(f'{PANEL} [data-entry-id="lianban-certificate"]').inner_text()
    assert "事项还没有定义证照" in issue_note and "办件设置" in issue_note
    certificate.select_option("")
    page.fill(f"{PANEL} input[name=lianban-time-limit]", "3 days")
    assert "工作日数" in page.locator(f'{PANEL} [data-entry-id="lianban-time-limit"]').inner_text()
    page.fill(f"{PANEL} input[name=lianban-time-limit]", "5")
    page.wait_for_function(
        "() => (LianbanDraft.modeler.get('elementRegistry').get('cold_check').businessObject"
        ".get('extensionElements') || {values: []}).values.some(list => (list.values || [])"
        ".some(p => p.name === 'time_limit' && p.value === '5'))"
    )
    pages.shot(page, "editor_properties_task", full_page=False)

    # the start event: the application form
    _select(page, "start")
    start_form = page.locator(f"{PANEL} [data-group-id='group-lianban-start'] select")
    start_form.wait_for()
    assert start_form.input_value() == "start.json"

    # the gateway's flow: the fields available there offered, the condition checked as typed
    _select(page, "flow_yes")
    condition = page.locator(f"{PANEL} textarea.lianban-expression")
    condition.wait_for()
    page.wait_for_selector(f'{PANEL} .lianban-field[data-field="sells_cold_chain"]')
    offered = page.locator(f"{PANEL} .lianban-field").evaluate_all(
        "nodes => nodes.map(n => n.dataset.field)"
    )
    assert "shop_name" in offered and "cold_ok" not in offered  # 冷链核查 runs after it
    assert page.locator(f'{PANEL} [data-check="ok"]').count() in (0, 1)
    condition.fill("")
    condition.type("sells_coldchain == true")
    error = page.locator(f'{PANEL} [data-check="error"]')
    error.wait_for()
    assert "您是不是要找" in error.inner_text() and "sells_cold_chain" in error.inner_text()
    pages.shot(page, "editor_properties", full_page=False)
    # a syntax error shows where
    condition.fill("sells_cold_chain = true")
    page.wait_for_selector(f'{PANEL} [data-check="error"] .lianban-hint')
    assert "==" in page.locator(f"{PANEL} .lianban-hint").inner_text()
    # the fix: the suggestion taken
    condition.fill("sells_coldchain == true")
    page.click(f'{PANEL} [data-check="error"] button.lianban-link')
    page.wait_for_selector(f'{PANEL} [data-check="ok"]')
    assert condition.input_value() == "sells_cold_chain == true"

    # the default path: no condition to write
    _select(page, "flow_no")
    page.wait_for_selector(f"{PANEL} textarea.lianban-expression[disabled]")
    assert page.locator(f"{PANEL} input[name=lianban-default-flow]").is_checked()

    # a timer: its kind and value, ISO 8601 shown without the quotes the language needs
    _select(page, "late")
    kind = page.locator(f"{PANEL} select[name=lianban-timer-type]")
    kind.wait_for()
    assert kind.input_value() == "timeDuration"
    value = page.locator(f"{PANEL} input[name=lianban-timer-value]")
    assert value.input_value() == "P10D"
    assert (
        "P10D 为 10 天"
        in page.locator(f'{PANEL} [data-entry-id="lianban-timer-value"]').inner_text()
    )
    kind.select_option("timeDate")
    value.fill("2026-12-01T09:00:00+08:00")
    page.wait_for_function(
        "() => { const t = LianbanDraft.modeler.get('elementRegistry').get('late').businessObject"
        ".eventDefinitions[0]; return t.timeDate && t.timeDate.body"
        " === '\"2026-12-01T09:00:00+08:00\"' && !t.timeDuration; }"
    )
    pages.shot(page, "editor_properties_timer", full_page=False)

    # where the task stands in bundle.json: 受理 starts the clock there, it is 一窗受理
    _select(page, "review")
    page.click(f"{PANEL} [data-group-id='group-lianban-bundle'] .bio-properties-panel-group-header")
    page.locator(f"{PANEL} input[name=lianban-starts-at]").check()
    page.locator(f"{PANEL} select[name=lianban-intake-role]").select_option("element")
    bundle = json.loads(page.evaluate("() => LianbanDraft.get('bundle.json')"))
    assert bundle["time_limits"] == {"starts_at": "review"}
    assert bundle["intake"] == {"element": "review"} and bundle["key"] == "pharmacy"

    # what is saved: the snapshot's XML carries it all
    xml = page.evaluate("() => LianbanDraft.snapshot().then(f => f[LianbanDraft.bpmnPath()])")
    assert 'camunda:candidateGroups="inspection,front_desk,cold_chain_team"' in xml
    assert 'camunda:formKey="review.json"' in xml
    assert '<camunda:property name="clock" value="pause" />' in xml
    assert '<camunda:property name="time_limit" value="5" />' in xml
    assert "certificate_action" not in xml  # set, then taken back: the property is gone
    assert "sells_cold_chain == true</bpmn:conditionExpression>" in xml
    assert '"2026-12-01T09:00:00+08:00"</bpmn:timeDate>' in xml and "P10D" not in xml
    # undo reaches the panel's changes like any other: the timer's last value is taken back
    page.evaluate("() => LianbanDraft.modeler.get('commandStack').undo()")
    body = page.evaluate(
        "() => LianbanDraft.modeler.get('elementRegistry').get('late').businessObject"
        ".eventDefinitions[0].timeDate.body"
    )
    assert body == '"P10D"'


def test_the_restaurant_gateway_offers_the_fields_of_the_tasks_before_it(
    pages: Pages, staff: dict[str, Any], live_services: Any
) -> None:
    """Its forms come from the shared library: the editor carries them as forms/<key>."""
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test", publish=False)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant/1/edit")
    page.wait_for_selector(READY)
    _select(page, "flow_inspection_needed")
    page.wait_for_selector(f'{PANEL} .lianban-field[data-field="needs_inspection"]')
    page.wait_for_selector(f'{PANEL} [data-check="ok"]')
    needs = page.locator(f'{PANEL} .lianban-field[data-field="needs_inspection"]').inner_text()
    assert "是否需要现场踏勘" in needs and "boolean" in needs
    assert page.locator(f'{PANEL} .lianban-field[data-field="inspection_passed"]').count() == 0
    # typing filters the offer; a click inserts the name where the word was
    condition = page.locator(f"{PANEL} textarea.lianban-expression")
    condition.fill("needs_inspection == True and licence_ap")
    page.wait_for_function(
        "s => document.querySelectorAll(s).length === 1",
        arg=f"{PANEL} .lianban-field",
    )
    page.click(f'{PANEL} .lianban-field[data-field="licence_approved"]')
    assert condition.input_value() == "needs_inspection == True and licence_approved"
    page.wait_for_selector(f'{PANEL} [data-check="ok"]')
    pages.shot(page, "editor_properties_restaurant", full_page=False)


def test_the_designer_limits_where_a_review_is_sent_back(
    pages: Pages, staff: dict[str, Any], live_services: Any
) -> None:
    """退回 in the properties panel (issue 18 · 1): the review's `send_back` (一窗受理 only) is
    shown, an id that is no user task of the diagram is refused as typed."""
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test", publish=False)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/restaurant/1/edit")
    page.wait_for_selector(READY)
    _select(page, "review_food")
    field = page.locator(f"{PANEL} input[name=lianban-send-back]")
    field.wait_for()
    assert field.input_value() == "intake"
    field.fill("intake, nowhere")
    entry = page.locator(f'{PANEL} [data-entry-id="lianban-send-back"]')
    page.wait_for_function(
        "s => document.querySelector(s).innerText.includes('nowhere')",
        arg=f'{PANEL} [data-entry-id="lianban-send-back"]',
    )
    assert "不是本流程中其他人工任务的 id: nowhere" in entry.inner_text()
    field.fill("intake, review_licence")
    page.wait_for_function(
        "s => !document.querySelector(s).innerText.includes('不是本流程')",
        arg=f'{PANEL} [data-entry-id="lianban-send-back"]',
    )
    pages.shot(page, "editor_send_back", full_page=False)
