"""会签 / 或签 at upload (engine/bundles/multi_sign.py, checks.expressions) and what the
compiled condition gives (engine/bpmn/multi_sign.py): conditions in the expression language
with the signature counts, signer references only to the instance's item, outcome fields that
a gateway after the task may read."""

from __future__ import annotations

import pytest

from engine.bpmn import multi_sign as engine_multi_sign
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import from_upload
from engine.expressions import compile_expression
from engine.services.multi_sign import instance_people, item_reference, label
from tests.conftest import FORMS
from tests.fixtures import bpmn
from tests.fixtures import multi_sign as bundles

LIBRARY = FormLibrary(FORMS)


def _compile(**task: object) -> object:
    files = bundles.files("joint", **task)
    return compile_bundle(from_upload("joint.zip", bpmn.zipped(files)), LIBRARY)


def _problems(data: bytes) -> list[Problem]:
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload("t.bpmn", data), LIBRARY)
    return err.value.problems


@pytest.mark.parametrize(
    "condition",
    [
        bundles.ANY_ONE,
        bundles.REJECTION_ENDS,
        bundles.HALF,
        "${nrOfCompletedInstances / nrOfInstances >= 0.6}",  # Camunda's spelling
        'decision == "reject"',  # the instance's own form field
    ],
)
def test_completion_conditions_in_the_language_compile(condition: str) -> None:
    compiled = _compile(condition=condition)
    info = compiled.human_tasks["sign"]  # type: ignore[attr-defined]
    assert info.groups == ("${department}",)
    # the gateway after it reads the outcome: no warning about an undeclared field
    assert not [w for w in compiled.warnings if "sign_result" in w.message]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "condition", ["__import__('os').system('id')", "nr_of_approvals.__class__", "open('x')"]
)
def test_a_completion_condition_with_code_is_refused_naming_the_task(condition: str) -> None:
    body = bundles.process(bundles.sign_task(condition=condition), "joint")
    problems = _problems(body)
    assert any("多实例完成条件" in p.message and p.element == "sign" for p in problems), problems


def test_a_signer_reference_needs_a_multi_instance_task_and_its_item() -> None:
    # on a plain task an assignee expression reads the case data (issue 22), and so does a
    # group written as one whole expression (docs/bundles.md, Groups); text around it is refused
    plain = bpmn.linear('camunda:candidateGroups="g" camunda:assignee="${signer}"')
    assert compile_bundle(from_upload("t.bpmn", plain), LIBRARY).human_tasks["task"].assignee
    plain = bpmn.linear('camunda:candidateGroups="${g}"')
    assert compile_bundle(from_upload("t.bpmn", plain), LIBRARY).human_tasks["task"].groups == (
        "${g}",
    )
    plain = bpmn.linear('camunda:candidateGroups="g_${g}"')
    assert any("不能把表达式嵌在文字中" in p.message for p in _problems(plain))
    wrong = bundles.process(
        bundles.sign_task(item="department").replace("${department}", "${x}"), "j"
    )
    assert any("inputDataItem 'department'" in p.message for p in _problems(wrong))


def test_the_id_of_a_multi_instance_task_must_be_a_field_name() -> None:
    body = bundles.process(bundles.sign_task(), "joint").replace(b'"sign"', b'"sign-1"')
    body = body.replace(b'targetRef="sign"', b'targetRef="sign-1"')
    body = body.replace(b'sourceRef="sign"', b'sourceRef="sign-1"')
    assert any("必须是字段名" in p.message for p in _problems(body))


def test_the_condition_variables_and_the_outcome_rules() -> None:
    names = compile_expression(bundles.HALF, ENGINE_FUNCTIONS).names
    assert names <= set(engine_multi_sign.VARIABLES)
    assert engine_multi_sign.vote("同意") is True and engine_multi_sign.vote(True) is True
    assert engine_multi_sign.vote("REJECT") is False and engine_multi_sign.vote(False) is False
    assert engine_multi_sign.vote("abstain") is None and engine_multi_sign.vote(None) is None


def test_who_signs_an_instance() -> None:
    info = _compile().human_tasks["sign"]  # type: ignore[attr-defined]
    assert instance_people(info, "fire_dept", "sign") == (("fire_dept",), None)
    person = _compile(assign="assignee", item="inspector", collection="inspectors")
    info = person.human_tasks["sign"]  # type: ignore[attr-defined]
    assert item_reference(info.assignee) == "inspector"
    assert instance_people(info, "zhang", "sign") == (None, "zhang")
    assert instance_people(info, {"assignee": "li", "group": "g"}, "sign") == (("g",), "li")
    assert instance_people(info, None, "sign") == (None, None)


def test_the_progress_label() -> None:
    assert label(None) is None
    assert label({"signed": 1, "total": 3, "any_one": False}) == "会签 (1/3)"
    assert label({"signed": 0, "total": 2, "any_one": True}) == "或签 (0/2)"
    assert label({"signed": 2, "total": 3, "sequential": True}) == "依次会签 (2/3)"


def test_signers_fixed_in_the_diagram_need_a_collection_and_names() -> None:
    assert _compile(signers="fire_dept, health_dept").human_tasks["sign"].properties  # type: ignore[attr-defined]
    plain = bpmn.linear(
        'camunda:candidateGroups="g"',
    ).replace(
        b'name="\xe5\x8a\x9e\xe7\x90\x86" camunda:candidateGroups="g">',
        b'name="x" camunda:candidateGroups="g"><bpmn:extensionElements><camunda:properties>'
        b'<camunda:property name="signers" value="a,b" /></camunda:properties>'
        b"</bpmn:extensionElements>",
    )
    assert any("只能用于" in p.message for p in _problems(plain))
    empty = bundles.process(bundles.sign_task(signers="fire_dept,,health_dept"), "j")
    assert any("逗号分隔" in p.message for p in _problems(empty))
