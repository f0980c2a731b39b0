"""Rule `condition-fields`: a condition reading a field nothing before it declares; an error
when every step on the way has a form, a warning otherwise; a "did you mean" for near misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.rules.condition_fields import form_fields
from engine.bundles.source import from_path, from_upload
from tests.fixtures import bpmn

ROOT = Path(__file__).parents[2]
NO_LIBRARY = FormLibrary(None)

START_FORM = {"type": "object", "properties": {"shop_name": {"type": "string"}}}
REVIEW_FORM = {
    "type": "object",
    "properties": {"sells_cold_chain": {"type": "boolean"}},
    "allOf": [
        {
            "if": {"properties": {"sells_cold_chain": {"const": True}}},
            "then": {"properties": {"cold_store": {"type": "string"}}},
        }
    ],
}


def pharmacy(condition: str, start_form: bool = True, task_form: bool = True) -> bytes:
    """start (form) -> review (form) -> gateway on `condition` -> two ends, as bpmn.io writes it."""
    start_key = ' camunda:formKey="start.json"' if start_form else ""
    task_key = ' camunda:formKey="review.json"' if task_form else ""
    process = bpmn.document(
        f"""
  <bpmn:startEvent id="StartEvent_1"{start_key}><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="Activity_review" name="药品审查" camunda:candidateGroups="drug_review"{task_key}>
    <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:exclusiveGateway id="Gateway_cold" name="冷链?" default="Flow_no">
    <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_yes</bpmn:outgoing><bpmn:outgoing>Flow_no</bpmn:outgoing>
  </bpmn:exclusiveGateway>
  <bpmn:endEvent id="EndEvent_yes"><bpmn:incoming>Flow_yes</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="EndEvent_no"><bpmn:incoming>Flow_no</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_review" />
  <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_review" targetRef="Gateway_cold" />
  <bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_cold" targetRef="EndEvent_yes">
    <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_cold" targetRef="EndEvent_no" />""",
        process_id="pharmacy",
    )
    return bpmn.zipped(
        {"pharmacy.bpmn": process, "forms/start.json": START_FORM, "forms/review.json": REVIEW_FORM}
    )


def compiled(upload: bytes) -> CompiledBundle:
    return compile_bundle(from_upload("pharmacy.zip", upload), NO_LIBRARY)


def refused(upload: bytes) -> list[Problem]:
    with pytest.raises(BundleInvalid) as caught:
        compiled(upload)
    return caught.value.problems


def test_a_misspelled_field_after_forms_on_every_step_is_an_error_with_a_suggestion() -> None:
    (problem,) = refused(pharmacy("sells_coldchain == True"))
    assert problem.element == "Flow_yes" and problem.file == "pharmacy.bpmn"
    assert problem.line is not None
    assert "`sells_coldchain`" in problem.message
    assert "您是否想写 `sells_cold_chain`?" in problem.message


def test_declared_fields_pass_also_conditional_and_start_fields() -> None:
    for condition in ("sells_cold_chain == True", "cold_store == 'A'", "shop_name != ''"):
        assert compiled(pharmacy(condition)).warnings == (), condition


def test_a_task_without_a_form_makes_it_a_warning() -> None:
    result = compiled(pharmacy("sells_coldchain == True", task_form=False))
    (warning,) = result.warnings
    assert warning.severity == "warning" and warning.element == "Flow_yes"
    assert "途经没有表单的环节" in warning.message


def test_a_bundle_without_forms_stays_valid() -> None:
    result = compile_bundle(from_upload("d.bpmn", bpmn.decision("approved == True")), NO_LIBRARY)
    assert [w.element for w in result.warnings] == ["yes"]


def test_after_a_parallel_join_every_branch_has_declared_its_fields() -> None:
    result = compile_bundle(
        from_path(ROOT / "processes" / "restaurant"), FormLibrary(ROOT / "forms")
    )
    assert result.warnings == ()


def test_form_fields_reads_properties_and_conditional_parts() -> None:
    assert form_fields(REVIEW_FORM) == {"sells_cold_chain", "cold_store"}
