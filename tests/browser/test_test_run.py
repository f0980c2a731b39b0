"""The editor's 试运行 tab in Chromium, on the restaurant bundle: both inspection branches run
step by step with the path lit on the diagram (the waiting join, the branch not taken), a refused
step leaving the run as it was, undo, both runs saved as regression tests and re-run, then a
change on the diagram caught by the re-run. Screenshots test_run.png, test_run_join.png."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.conftest import PROCESSES
from tests.fixtures.restaurant import APPLICATION

from .conftest import Pages

EDIT = "/designer/bundles/restaurant/1/edit"
TASK = "[data-tr-task-card={}]"


def _classes(page: Any, element: str) -> list[str]:
    selector = f'#testrun-diagram g[data-element-id="{element}"]'
    return (page.locator(selector).first.get_attribute("class") or "").split()


def _steps(page: Any) -> int:
    return int(page.evaluate("() => window.LianbanTestRun.steps.length"))


def _wait_steps(page: Any, n: int) -> None:
    page.wait_for_function(
        "n => window.LianbanTestRun.steps.length === n && "
        "document.getElementById('testrun').dataset.state === 'idle'",
        arg=n,
    )


def _open(pages: Pages) -> Any:
    page = pages.new("designer")
    pages.goto(page, EDIT)
    page.wait_for_function("() => window.LianbanDraft && window.LianbanDraft.modeler")
    page.click(".editor-tabs [data-tab=testrun]")
    page.wait_for_selector("[data-tr-form=start] [data-field=applicant_name] input")
    return page


def _apply(page: Any) -> None:
    form = "[data-tr-form=start]"
    for name, value in APPLICATION.items():
        page.fill(f"{form} [data-field={name}] :is(input, textarea)", str(value))
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(TASK.format("intake"))
    _wait_steps(page, 1)


def _quick(page: Any, element: str, value: str, n: int) -> None:
    page.click(f"{TASK.format(element)} [data-tr-quick={value}]")
    _wait_steps(page, n)


def _choose(page: Any, element: str, field: str, title: str) -> None:
    page.locator(f"{TASK.format(element)} [data-field={field}] label", has_text=title).click()


def test_both_inspection_branches_saved_and_rerun(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "designer")
    page = _open(pages)
    diagram = page.locator("#testrun-diagram")
    assert page.locator("[data-tr-steps] li").count() == 0
    pages.shot(page, "test_run_start", full_page=False)

    _apply(page)
    assert _classes(page, "intake").count("tr-ready") == 1
    _quick(page, "intake", "accept", 2)
    _quick(page, "review_licence", "true", 3)
    # the reviews' join waits for the food review: amber, with how many branches arrived
    assert "tr-waiting" in _classes(page, "review_join")
    assert diagram.locator(".tr-note", has_text="2 路中已到 1 路").count() == 2  # and issuance_join
    assert "tr-ready" in _classes(page, "review_food")
    assert "tr-done" in _classes(page, "review_licence")
    assert "tr-skipped" in _classes(page, "flow_acceptance_commitment")
    pages.shot(page, "test_run_join", full_page=False)

    # a refused step: the food review without its required inspection answer
    page.click(f"{TASK.format('review_food')} [data-tr-quick=true]")
    page.wait_for_selector("[data-tr-error]:not([hidden])")
    assert "第 4 步未通过" in page.locator("[data-tr-error]").inner_text()
    assert _steps(page) == 3  # the run stays as it was
    assert page.locator(f"{TASK.format('review_food')} .testrun-field.invalid").count() >= 1

    _choose(page, "review_food", "needs_inspection", "需要现场踏勘")
    _quick(page, "review_food", "true", 4)
    assert page.locator("[data-tr-error]").is_hidden()
    _choose(page, "site_inspection", "inspection_method", "视频勘验")
    _quick(page, "site_inspection", "true", 5)
    issue = TASK.format("joint_issuance")
    page.fill(f"{issue} [data-field=licence_number] input", "91330102MA2H0ABC1X")
    page.fill(f"{issue} [data-field=permit_number] input", "JY13301020000017")
    _choose(page, "joint_issuance", "delivery_method", "窗口")
    page.click(f"{issue} button[type=submit]")
    _wait_steps(page, 6)
    assert "办件已结束于「办结」 (concluded)" in page.locator("[data-tr-ended]").inner_text()
    assert "tr-done" in _classes(page, "site_inspection")
    assert "tr-taken" in _classes(page, "flow_inspection_needed")
    assert "tr-skipped" in _classes(page, "flow_inspection_not_needed")
    assert page.locator("[data-tr-steps] li").count() == 6
    pages.shot(page, "test_run", full_page=False)

    page.fill("[data-tr-name]", "需要踏勘")
    page.click("[data-tr-action=save-run]")
    page.wait_for_selector("[data-tr-saved] li[data-tr-run]")

    # undo goes back a step; then the other branch from the start
    page.click("[data-tr-action=undo]")
    _wait_steps(page, 5)
    assert page.locator(TASK.format("joint_issuance")).count() == 1
    page.click("[data-tr-action=restart]")
    page.wait_for_selector("[data-tr-start]:not([hidden])")
    _wait_steps(page, 0)
    _apply(page)
    _quick(page, "intake", "accept", 2)
    _choose(page, "review_food", "needs_inspection", "无需踏勘")
    _quick(page, "review_food", "true", 3)
    _quick(page, "review_licence", "true", 4)
    assert "tr-skipped" in _classes(page, "site_inspection")
    assert "tr-skipped" in _classes(page, "flow_inspection_needed")
    page.fill("[data-tr-name]", "无需踏勘")
    page.click("[data-tr-action=save-run]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-tr-saved] li[data-tr-run]').length === 2"
    )

    page.click("[data-tr-action=rerun]")
    page.wait_for_selector("[data-tr-summary].ok")
    assert "全部通过 (2 个)" in page.locator("[data-tr-summary]").inner_text()
    assert page.locator("[data-tr-saved] li.pass").count() == 2

    # the diagram changed in the modeler: the inspection now taken when not asked for
    page.evaluate(
        """() => {
        const modeler = window.LianbanDraft.modeler;
        const flow = modeler.get('elementRegistry').get('flow_inspection_needed');
        const body = 'needs_inspection == False';
        const condition = modeler.get('moddle').create('bpmn:FormalExpression', { body });
        modeler.get('modeling').updateProperties(flow, { conditionExpression: condition });
    }"""
    )
    page.click("[data-tr-action=rerun]")
    page.wait_for_selector("[data-tr-summary].error")
    assert "2 / 2 个未通过" in page.locator("[data-tr-summary]").inner_text()
    differences = page.locator("[data-tr-saved] li.fail .diff").all_inner_texts()
    assert len(differences) == 2
    assert any(d.startswith("第 5 步失败") for d in differences), differences
    assert any(d.startswith("路径在") for d in differences), differences
    pages.shot(page, "test_run_rerun", full_page=False)


# A task with a 10-day boundary timer (escalation), drawn: the diagram needs its shapes.
TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://example.org/t">
  <bpmn:process id="waiting" name="超期督办" isExecutable="true">
    <bpmn:startEvent id="s" name="申请" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
    <bpmn:boundaryEvent id="late" name="十日未办" attachedToRef="t">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P10D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <bpmn:endEvent id="e" name="办结" />
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated" />
    <bpmn:endEvent id="escalated" name="督办" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="waiting">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="t_di" bpmnElement="t"><dc:Bounds x="200" y="78" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="late_di" bpmnElement="late"><dc:Bounds x="232" y="140" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="372" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="x_di" bpmnElement="escalated"><dc:Bounds x="372" y="220" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118" /><di:waypoint x="372" y="118" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="250" y="176" /><di:waypoint x="250" y="238" /><di:waypoint x="372" y="238" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_a_timer_is_fast_forwarded(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    from engine.bundles.source import from_upload

    key = publishing.deploy(
        live_services, from_upload("waiting.bpmn", TIMER_BPMN.encode()), "designer"
    )["key"]
    page = pages.new("designer")
    pages.goto(page, f"/designer/bundles/{key}/1/edit")
    page.wait_for_function("() => window.LianbanDraft && window.LianbanDraft.modeler")
    page.click(".editor-tabs [data-tab=testrun]")
    page.wait_for_selector("[data-tr-form=start] button[type=submit]")
    page.click("[data-tr-form=start] button[type=submit]")
    page.wait_for_selector("[data-tr-fire=late]")
    _wait_steps(page, 1)
    assert "十日未办" in page.locator("[data-tr-timers]").inner_text()
    assert "tr-ready" in _classes(page, "late") and "tr-ready" in _classes(page, "t")
    page.click("[data-tr-fire=late]")
    _wait_steps(page, 2)
    assert "办件已结束于「督办」" in page.locator("[data-tr-ended]").inner_text()
    assert "tr-done" in _classes(page, "escalated") and "tr-taken" in _classes(page, "f3")
    assert "tr-taken" in _classes(page, "f1") and "tr-skipped" not in _classes(page, "t")
    assert "快进定时器 十日未办" in page.locator("[data-tr-steps]").inner_text()
    pages.shot(page, "test_run_timer", full_page=False)
