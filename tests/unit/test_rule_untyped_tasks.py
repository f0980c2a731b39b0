"""Rule `untyped-tasks` and the id-less sequence flows named at upload (engine/bundles/
flow_ids.py), on small documents: which untyped tasks are passed through (and said so), which
are human tasks; which flows get which id, the file's text otherwise unchanged."""

from __future__ import annotations

from engine.bpmn import manifest
from engine.bpmn.xml import parse_xml
from engine.bundles.flow_ids import named
from engine.bundles.rules import Upload, untyped_tasks
from tests.fixtures import bpmn

BODY = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="plain" />
  <bpmn:task id="plain" name="登记" />
  <bpmn:sequenceFlow id="f2" sourceRef="plain" targetRef="grouped" />
  <bpmn:task id="grouped" camunda:candidateGroups="window" />
  <bpmn:sequenceFlow id="f3" sourceRef="grouped" targetRef="assigned" />
  <bpmn:task id="assigned" camunda:assignee="chief" />
  <bpmn:sequenceFlow id="f4" sourceRef="assigned" targetRef="e" /><bpmn:endEvent id="e" />"""


def test_only_untyped_tasks_naming_nobody_are_passed_through_and_said() -> None:
    root = parse_xml(bpmn.document(BODY)).getroot()
    found = list(untyped_tasks.check(Upload({"p.bpmn": root.getroottree()})))
    assert [(p.element, p.severity, p.file) for p in found] == [("plain", "warning", "p.bpmn")]
    assert found[0].message == (
        "任务 '登记' (plain) 没有类型 (bpmn:task), 办件将直接经过它; 如需人工办理请改为用户任务"
    )
    humans = {t.element: (t.groups, t.assignee) for t in manifest.read_human_tasks(root)}
    assert humans == {"grouped": (("window",), None), "assigned": ((), "chief")}


ID_LESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- <sequenceFlow sourceRef="a" targetRef="b"/> in a comment is left alone -->
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <process id="p">
    <startEvent id="a" />
    <sequenceFlow sourceRef="a" targetRef="b" />
    <sequenceFlow
        sourceRef="a" targetRef="b" />
    <sequenceFlow id="Flow_b_c" sourceRef="b" targetRef="c" />
    <sequenceFlow sourceRef="b" targetRef="c"/>
    <task id="b" /><endEvent id="c" />
  </process>
</definitions>
"""


def test_id_less_flows_get_unique_stable_ids_in_place() -> None:
    text = named(ID_LESS)
    flow = "{http://www.omg.org/spec/BPMN/20100524/MODEL}sequenceFlow"
    before = [f.sourceline for f in parse_xml(ID_LESS).getroot().iter(flow)]
    after = list(parse_xml(text).getroot().iter(flow))
    assert [f.get("id") for f in after] == ["Flow_a_b", "Flow_a_b_2", "Flow_b_c", "Flow_b_c_2"]
    assert [f.sourceline for f in after] == before  # lines kept: problems point where they were
    assert text.count(b"\n") == ID_LESS.count(b"\n")
    assert b'<sequenceFlow sourceRef="a" targetRef="b"/> in a comment' in text
    assert named(ID_LESS) == text and named(text) is text  # the same ids; nothing more to do
