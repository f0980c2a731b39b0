"""Every path through 我要开餐馆, run by the engine, saved and reloaded at every step."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.case_workflow import CaseWorkflow
from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.bpmn.task_table import all_tasks
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.source import from_path
from engine.forms import validate_form_data
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.restaurant import (
    ACCEPT_WITH_GAPS,
    APPLICATION,
    APPLICATION_BY_AGENT,
    COMMITMENT,
    COMMITMENT_APPROVED,
    DENIAL,
    ENDS,
    FOOD_OK,
    ISSUANCE,
    LICENCE_NO,
    LICENCE_OK,
    PATHS,
    SUPPLIED,
)

COMPILED = compile_bundle(from_path(PROCESSES / "restaurant"), FormLibrary(FORMS))
STARTS_AT = COMPILED.metadata["time_limits"]["starts_at"]
ACCEPTING = {"accept", "accept_with_gaps", "commitment"}


def runtime() -> ProcessRuntime:
    return ProcessRuntime(specs_from_json(COMPILED.specs_json))


def reload(rt: ProcessRuntime, workflow: CaseWorkflow) -> CaseWorkflow:
    """Save and restore: the next step must work on the restored copy exactly as on the original."""
    state = workflow.dump()
    restored = rt.load(state)
    assert restored.dump() == state
    return restored


def ready(workflow: CaseWorkflow) -> dict[str, Any]:
    return {t.element: t for t in workflow.ready_tasks()}


def completed(workflow: CaseWorkflow, element: str) -> bool:
    return workflow.element_completed(element)


class Case:
    """One case on the engine: the case data is merged as the service layer merges it."""

    def __init__(self, start: dict[str, Any] = APPLICATION) -> None:
        self.rt = runtime()
        self.data = dict(start)
        self.workflow = reload(self.rt, self.rt.start(self.data))

    def ready(self) -> set[str]:
        return set(ready(self.workflow))

    def complete(self, element: str, form: dict[str, Any]) -> None:
        tasks = ready(self.workflow)
        assert element in tasks, f"{element} not ready at this step; ready: {sorted(tasks)}"
        key = COMPILED.human_tasks[element].form
        assert key is not None, f"{element} has no form"
        assert validate_form_data(COMPILED.forms[key], form) == []
        self.data.update(form)
        self.workflow.complete(tasks[element].id, self.data)
        self.workflow = reload(self.rt, self.workflow)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_path(path: str) -> None:
    steps, end = PATHS[path]
    case = Case()
    owes_materials = False
    for element, form in steps:
        case.complete(element, form)
        if element == "intake":
            owes_materials = form["intake_decision"] == "accept_with_gaps"
        elif element == "supply_materials":
            owes_materials = False
        if owes_materials:
            assert "joint_issuance" not in case.ready(), "issued before the 容缺 materials came in"
        if "joint_issuance" in case.ready():
            assert case.ready() == {"joint_issuance"}, "issuance opened while work is pending"
    assert case.ready() == set()
    assert case.workflow.is_finished()
    ended = [e for e in ENDS if completed(case.workflow, e)]
    assert ended == [end]
    reached = case.workflow.end_reached()
    assert reached is not None and reached[0] == end
    decisions = {form["intake_decision"] for element, form in steps if element == "intake"}
    assert completed(case.workflow, STARTS_AT) == bool(decisions & ACCEPTING), (
        f"{STARTS_AT} (受理) must be reached exactly on the accepting paths"
    )


def test_every_intake_decision_and_end_has_a_path() -> None:
    options = COMPILED.forms["restaurant/intake.json"]["properties"]["intake_decision"]["oneOf"]
    used = {
        form["intake_decision"]
        for steps, _ in PATHS.values()
        for el, form in steps
        if el == "intake"
    }
    assert used == {option["const"] for option in options}
    assert {end for _, end in PATHS.values()} == set(ENDS)


def test_reviews_run_in_parallel_and_issuance_waits_for_both() -> None:
    rt = runtime()
    workflow = rt.start(APPLICATION)
    data = dict(APPLICATION)
    intake = workflow.ready_tasks()[0]
    data.update(PATHS["granted_without_inspection"][0][0][1])
    workflow.complete(intake.id, data)
    tasks = ready(workflow)
    assert set(tasks) == {"review_licence", "review_food"}
    data.update({"licence_approved": True})
    workflow.complete(tasks["review_licence"].id, data)
    assert [t.element for t in workflow.ready_tasks()] == ["review_food"]
    data.update({"food_approved": True, "needs_inspection": False})
    workflow.complete(tasks["review_food"].id, data)
    assert [t.element for t in workflow.ready_tasks()] == ["joint_issuance"]


def test_issuance_is_not_ready_while_the_supply_task_is_open() -> None:
    case = Case()
    case.complete("intake", ACCEPT_WITH_GAPS)
    assert case.ready() == {"review_licence", "review_food", "supply_materials"}
    case.complete("review_licence", LICENCE_OK)
    case.complete("review_food", FOOD_OK)
    # Both reviews granted: the case waits on the applicant's materials alone.
    assert case.ready() == {"supply_materials"}
    assert not completed(case.workflow, "issuance_join")
    assert not case.workflow.is_finished()
    case.complete("supply_materials", SUPPLIED)
    assert case.ready() == {"joint_issuance"}


def test_supply_before_the_reviews_end_does_not_open_issuance() -> None:
    case = Case()
    case.complete("intake", ACCEPT_WITH_GAPS)
    case.complete("supply_materials", SUPPLIED)
    assert case.ready() == {"review_licence", "review_food"}
    case.complete("review_food", FOOD_OK)
    assert case.ready() == {"review_licence"}
    case.complete("review_licence", LICENCE_OK)
    assert case.ready() == {"joint_issuance"}


def test_denial_terminates_the_case_and_cancels_the_supply_task() -> None:
    case = Case()
    case.complete("intake", ACCEPT_WITH_GAPS)
    case.complete("review_licence", LICENCE_NO)
    case.complete("review_food", FOOD_OK)
    assert case.ready() == {"denial_notice", "supply_materials"}
    supply = ready(case.workflow)["supply_materials"].id
    case.complete("denial_notice", DENIAL)
    assert case.ready() == set()
    assert case.workflow.is_finished()
    assert case.workflow.end_reached() == ("denied", "不予许可")
    cancelled = [t for t in all_tasks(case.workflow.spiff) if str(t.id) == supply]
    assert [t.state for t in cancelled] == [TaskState.CANCELLED]
    assert not completed(case.workflow, "joint_issuance")


def test_commitment_is_decided_at_once_without_reviews() -> None:
    case = Case()
    case.complete("intake", COMMITMENT)
    assert case.ready() == {"commitment_approval"}
    case.complete("commitment_approval", COMMITMENT_APPROVED)
    assert case.ready() == {"joint_issuance"}
    case.complete("joint_issuance", ISSUANCE)
    assert case.ready() == {"post_check"}
    for skipped in ("review_licence", "review_food", "site_inspection", "supply_materials"):
        assert not completed(case.workflow, skipped), skipped


def test_plain_cases_end_at_issuance_without_post_check() -> None:
    steps, _ = PATHS["granted_without_inspection"]
    case = Case()
    for element, form in steps:
        case.complete(element, form)
    assert case.workflow.is_finished()
    assert not completed(case.workflow, "post_check")


def test_a_case_filed_by_an_agent_runs_like_any_other() -> None:
    start_form = COMPILED.forms[COMPILED.start_form or ""]
    assert validate_form_data(start_form, APPLICATION_BY_AGENT) == []
    without_id = {k: v for k, v in APPLICATION_BY_AGENT.items() if k != "agent_id_number"}
    assert validate_form_data(start_form, without_id) != []
    case = Case(APPLICATION_BY_AGENT)
    for element, form in PATHS["granted_without_inspection"][0]:
        case.complete(element, form)
    assert case.workflow.is_finished()


def _certificate_fields() -> set[str]:
    fields = set()
    for item in COMPILED.metadata["items"]:
        certificate = item["certificate"]
        fields.add(certificate["number_field"])
        fields.update(field for _label, field in certificate["fields"])
    return fields


@pytest.mark.parametrize(
    "path", sorted(p for p, (steps, _) in PATHS.items() if ("joint_issuance", ISSUANCE) in steps)
)
def test_issuance_has_the_data_every_certificate_needs(path: str) -> None:
    """When 统一发证 completes, the case data holds each certificate's number and fields."""
    case = Case()
    for element, form in PATHS[path][0]:
        case.complete(element, form)
        if element == "joint_issuance":
            break
    applicant = COMPILED.metadata["applicant"]
    needed = _certificate_fields() | {applicant["holder_field"], applicant["name_field"]}
    assert needed <= set(case.data), sorted(needed - set(case.data))


def test_the_compiled_bundle_carries_the_task_properties() -> None:
    props = {element: info.properties for element, info in COMPILED.human_tasks.items()}
    assert props["supply_materials"] == {"clock": "pause", "time_limit": "supply_workdays"}
    assert props["post_check"] == {"time_limit": "20"}
    assert props["joint_issuance"] == {"certificate_action": "issue"}
    assert props["revocation"] == {"certificate_action": "revoke"}
    assert props["review_licence"] == props["review_food"] == {"send_back": "intake"}
    assert {e for e, p in props.items() if p} == {
        "supply_materials",
        "post_check",
        "joint_issuance",
        "revocation",
        "review_licence",
        "review_food",
    }
