"""SpiffWorkflow's parse errors reach the designer in Chinese, with the element; a diagram
refused by policy is not parsed at all (its parse errors said nothing but Python's words)."""

from __future__ import annotations

from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import from_upload
from tests.fixtures import bpmn


def problems_of(document: bytes) -> list[Problem]:
    try:
        compile_bundle(from_upload("t.bpmn", document), FormLibrary(None))
    except BundleInvalid as err:
        return err.problems
    raise AssertionError("accepted")


def test_a_call_activity_of_a_process_not_uploaded_says_to_upload_it_in_the_zip() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ca" />
  <bpmn:callActivity id="ca" name="调用" calledElement="elsewhere" />
  <bpmn:sequenceFlow id="f2" sourceRef="ca" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    [problem] = found
    assert "调用的流程 'elsewhere' 不在上传内容中" in problem.message
    assert "zip" in problem.message and "was not found" not in problem.message


def test_a_subprocess_without_a_start_event_is_named() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp" />
  <bpmn:subProcess id="sp"><bpmn:userTask id="t" camunda:candidateGroups="g" />
    <bpmn:sequenceFlow id="sf" sourceRef="t" targetRef="se" /><bpmn:endEvent id="se" />
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    assert any(p.message == "子流程 'sp' 需要恰好一个开始事件, 现有 0 个" for p in found), found


def test_a_multi_instance_with_neither_cardinality_nor_collection_says_what_to_add() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" camunda:candidateGroups="g"><bpmn:multiInstanceLoopCharacteristics />
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    assert any("loopCardinality" in p.message and "loopDataInputRef" in p.message for p in found)
    assert all("multiinstance" not in p.message for p in found), found


def test_a_service_task_gets_the_policy_message_and_no_parse_error() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="st" />
  <bpmn:serviceTask id="st" name="调用接口" />
  <bpmn:sequenceFlow id="f2" sourceRef="st" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    assert [p.message for p in found] == ["不支持服务任务: 流程不能调用外部服务 (serviceTask)"]


def test_a_complex_gateway_and_a_loop_without_end_are_said_in_chinese() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g" />
  <bpmn:complexGateway id="g" /><bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="t" />
  <bpmn:userTask id="t" camunda:candidateGroups="g"><bpmn:standardLoopCharacteristics />
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    messages = " ".join(p.message for p in found)
    assert "complexGateway" in messages or "loopCondition" in messages, messages
    assert "support implemented" not in messages and "must be specified" not in messages


def test_an_error_end_event_naming_no_error_definition_is_said_in_chinese() -> None:
    found = problems_of(
        bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp" />
  <bpmn:subProcess id="sp"><bpmn:startEvent id="ss" />
    <bpmn:sequenceFlow id="sf" sourceRef="ss" targetRef="se" />
    <bpmn:endEvent id="se"><bpmn:errorEventDefinition errorRef="missing" /></bpmn:endEvent>
  </bpmn:subProcess>
  <bpmn:boundaryEvent id="b" attachedToRef="sp"><bpmn:errorEventDefinition errorRef="missing" />
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="e2" /><bpmn:endEvent id="e2" />
  <bpmn:sequenceFlow id="f3" sourceRef="sp" targetRef="e" /><bpmn:endEvent id="e" />""")
    )
    [problem] = found
    assert "定义不存在" in problem.message and "errorRef" in problem.message, problem
    assert "raise_validation_exception" not in problem.message
