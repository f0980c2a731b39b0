"""Rule `condition-fields`: a condition reading a field nothing before it declares; an error
when every step on the way has a form, a warning otherwise; a "did you mean" for near misses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle, read_upload
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.rules import Upload
from engine.bundles.rules.condition_fields import field_details, fields_at, form_fields
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
    found = compile_bundle(from_upload("pharmacy.zip", upload), NO_LIBRARY)
    # these bundle.json files are technical, without a 办事指南: that warning is not looked at here
    kept = tuple(w for w in found.warnings if not w.message.startswith("没有办事指南"))
    return dataclasses.replace(found, warnings=kept)


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


# Conditions inside subprocesses: what ran before the subprocess is known inside it ----------

INSPECTION_FORM = {"type": "object", "properties": {"site_ok": {"type": "boolean"}}}


def _inner_gateway(condition: str, prefix: str) -> str:
    """A subprocess body: start -> inspection (form) -> gateway on `condition` -> two ends."""
    p = prefix
    return f"""
    <bpmn:startEvent id="{p}start" />
    <bpmn:sequenceFlow id="{p}f1" sourceRef="{p}start" targetRef="{p}inspect" />
    <bpmn:userTask id="{p}inspect" name="勘验" camunda:candidateGroups="inspection"
      camunda:formKey="inspection.json" />
    <bpmn:sequenceFlow id="{p}f2" sourceRef="{p}inspect" targetRef="{p}gw" />
    <bpmn:exclusiveGateway id="{p}gw" name="冷链?" default="{p}no" />
    <bpmn:sequenceFlow id="{p}yes" sourceRef="{p}gw" targetRef="{p}end_yes">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="{p}no" sourceRef="{p}gw" targetRef="{p}end_no" />
    <bpmn:endEvent id="{p}end_yes" />
    <bpmn:endEvent id="{p}end_no" />"""


def _before_review(review_form: bool) -> str:
    key = ' camunda:formKey="review.json"' if review_form else ""
    return f"""
  <bpmn:startEvent id="start" camunda:formKey="start.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:userTask id="review" name="药品审查" camunda:candidateGroups="drug_review"{key} />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="inner" />"""


def embedded(condition: str, review_form: bool = True) -> bytes:
    """start (form) -> review (form) -> subprocess [inspection -> gateway] -> end."""
    process = bpmn.document(
        _before_review(review_form)
        + f"""
  <bpmn:subProcess id="inner" name="联合勘验">{_inner_gateway(condition, "sp_")}
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="f3" sourceRef="inner" targetRef="end" />
  <bpmn:endEvent id="end" />""",
        process_id="pharmacy",
    )
    return _zip(process)


def called(condition: str) -> bytes:
    """start (form) -> review (form) -> call activity -> end; the called process in the same
    file: inspection -> gateway on `condition`."""
    process = bpmn.document(
        _before_review(True)
        + """
  <bpmn:callActivity id="inner" name="调用勘验" calledElement="inspection" />
  <bpmn:sequenceFlow id="f3" sourceRef="inner" targetRef="end" />
  <bpmn:endEvent id="end" />""",
        process_id="pharmacy",
    ).replace(
        b"</bpmn:definitions>",
        f"""<bpmn:process id="inspection" isExecutable="true">{_inner_gateway(condition, "c_")}
</bpmn:process></bpmn:definitions>""".encode(),
    )
    return _zip(process)


def _zip(process: bytes) -> bytes:
    return bpmn.zipped(
        {
            "pharmacy.bpmn": process,
            "bundle.json": {"key": "pharmacy", "process": "pharmacy"},
            "forms/start.json": START_FORM,
            "forms/review.json": REVIEW_FORM,
            "forms/inspection.json": INSPECTION_FORM,
        }
    )


def test_a_condition_inside_a_subprocess_is_checked_with_a_suggestion() -> None:
    (problem,) = refused(embedded("sells_coldchain == True"))
    assert problem.element == "sp_yes" and problem.file == "pharmacy.bpmn"
    assert problem.severity == "error" and problem.line is not None
    assert "您是否想写 `sells_cold_chain`?" in problem.message
    assert "排他网关 '冷链?' (sp_gw)" in problem.message


def test_inside_a_subprocess_the_fields_from_before_it_and_inside_it_are_known() -> None:
    for condition in ("sells_cold_chain == True", "shop_name != ''", "site_ok == True"):
        assert compiled(embedded(condition)).warnings == (), condition


def test_a_task_without_a_form_before_the_subprocess_makes_it_a_warning() -> None:
    result = compiled(embedded("sells_coldchain == True", review_form=False))
    (warning,) = result.warnings
    assert warning.severity == "warning" and warning.element == "sp_yes"


def test_a_called_process_starts_with_what_its_caller_had() -> None:
    (problem,) = refused(called("sells_coldchain == True"))
    assert problem.element == "c_yes" and problem.severity == "error"
    assert "您是否想写 `sells_cold_chain`?" in problem.message
    for condition in ("sells_cold_chain == True", "shop_name != ''", "site_ok == True"):
        assert compiled(called(condition)).warnings == (), condition


def _upload(files: bytes) -> Upload:
    """What the rules see of an upload, as the designer's editor builds it."""
    found = read_upload(from_upload("pharmacy.zip", files), NO_LIBRARY)
    assert found is not None
    return found


def test_fields_at_an_element_inside_a_subprocess() -> None:
    upload = _upload(embedded("site_ok == True"))
    fields, covered = fields_at(upload, "sp_yes") or ((), False)
    assert {"shop_name", "sells_cold_chain", "cold_store", "site_ok", "renewal_of"} <= fields
    assert "contact_phone" in fields and covered  # the applicant fields of bundle.json
    # entering the inspection task: what ran before it, not its own form
    assert fields_at(upload, "sp_inspect") == (fields - {"site_ok"}, True)
    assert fields_at(upload, "no_such_element") is None
    details = field_details(upload)
    assert details["shop_name"].form == "start.json" and details["site_ok"].type == "boolean"


def test_fields_at_a_called_process_and_in_a_cycle_of_calls() -> None:
    upload = _upload(called("site_ok == True"))
    fields, covered = fields_at(upload, "c_gw") or ((), False)
    assert {"shop_name", "sells_cold_chain", "site_ok"} <= fields and covered
    looping = bpmn.document(
        """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ca" />
  <bpmn:callActivity id="ca" calledElement="p" />
  <bpmn:sequenceFlow id="f2" sourceRef="ca" targetRef="e" /><bpmn:endEvent id="e" />"""
    )
    upload = _upload(bpmn.zipped({"p.bpmn": looping}))
    assert fields_at(upload, "f2") == (frozenset(), False)


def test_an_event_subprocess_starts_with_what_its_process_started_with() -> None:
    """It may start at any moment of the process: the start form is known in it, a task's form
    is not (the task may not have run yet)."""
    process = bpmn.document(
        _before_review(True)
        + """
  <bpmn:sequenceFlow id="f3" sourceRef="inner" targetRef="end" />
  <bpmn:userTask id="inner" name="复核" camunda:candidateGroups="drug_review" />
  <bpmn:endEvent id="end" />
  <bpmn:subProcess id="on_message" triggeredByEvent="true">
    <bpmn:startEvent id="ev_start" isInterrupting="false">
      <bpmn:messageEventDefinition messageRef="withdraw" />
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="ev_f1" sourceRef="ev_start" targetRef="ev_gw" />
    <bpmn:exclusiveGateway id="ev_gw" default="ev_no" />
    <bpmn:sequenceFlow id="ev_yes" sourceRef="ev_gw" targetRef="ev_end_yes">
      <bpmn:conditionExpression>shop_name != ''</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="ev_no" sourceRef="ev_gw" targetRef="ev_end_no" />
    <bpmn:endEvent id="ev_end_yes" />
    <bpmn:endEvent id="ev_end_no" />
  </bpmn:subProcess>""",
        process_id="pharmacy",
    )
    upload = _upload(_zip(process))
    fields, covered = fields_at(upload, "ev_yes") or ((), False)
    assert "shop_name" in fields and "sells_cold_chain" not in fields and covered
