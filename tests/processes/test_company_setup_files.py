"""Static checks of 企业开办一件事's files (processes/company_setup/, forms/company_setup/): the
forms follow the conventions of docs/bundles.md, the checklist matches the intake forms, the guide
has its entries, each certificate's number is entered on the form of the task before it is issued,
the optional branches' gateways say what their items' `applies_if` say, every task has its hour
limit, and the hand-placed diagram is complete, inside its lanes, orthogonal and free of crossing
flows."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.bpmn.namespaces import NSMAP
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.source import from_path
from tests.conftest import FORMS, PROCESSES
from tests.processes import diagram_geometry as diagram

BUNDLE = PROCESSES / "company_setup"
FORM_DIR = FORMS / "company_setup"
NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
FORM_FILES = sorted(FORM_DIR.glob("*.json"))


@cache
def tree() -> Any:
    return etree.parse(str(BUNDLE / "company_setup.bpmn"))


@cache
def metadata() -> dict[str, Any]:
    return dict(json.loads((BUNDLE / "bundle.json").read_text()))


def form(name: str) -> dict[str, Any]:
    return dict(json.loads((FORM_DIR / f"{name}.json").read_text()))


def properties(element: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


def user_tasks() -> dict[str, Any]:
    return {t.get("id"): t for t in diagram.process(tree()).iterfind("bpmn:userTask", NS)}


def test_the_bundle_compiles_without_problems() -> None:
    compiled = compile_bundle(from_path(BUNDLE), FormLibrary(FORMS))
    assert compiled.start_form == "company_setup/application.json"
    assert set(compiled.forms) == {f"company_setup/{p.name}" for p in FORM_FILES}


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_each_form_follows_the_conventions(path: Path) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["title"] and schema["description"] and schema["type"] == "object"
    assert schema["additionalProperties"] is True
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"{name} has no title"
        assert "enum" not in prop, f"{name}: choices are oneOf const/title"
        for option in prop.get("oneOf", []) + prop.get("items", {}).get("oneOf", []):
            assert set(option) == {"const", "title"}, name
        free_text = prop.get("type") == "string" and not (
            {"oneOf", "const", "format", "pattern"} & set(prop)
        )
        if free_text:
            assert "maxLength" in prop, f"{name} is free text without maxLength"
    assert set(schema["required"]) <= set(schema["properties"])


def test_the_checklist_matches_the_intake_and_correction_choices() -> None:
    materials = {m["code"]: m["name"] for m in metadata()["materials"]}
    intake = form("intake")["properties"]
    missing = {o["const"]: o["title"] for o in intake["missing_materials"]["items"]["oneOf"]}
    assert missing == materials
    correction = form("correction")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert {o["const"] for o in correction} == set(materials)
    # no material may be deferred (no 容缺受理): the 住所 告知承诺 replaces the one that may lack
    assert not any(m["deferrable"] for m in metadata()["materials"])
    assert "deferred_materials" not in intake


def test_the_guide_has_every_entry_and_fictional_contacts() -> None:
    guide = metadata()["guide"]
    assert set(guide) == {
        "code",
        "implementing_body",
        "legal_basis",
        "fee",
        "places",
        "phones",
        "scope",
        "results",
        "conditions",
        "statutory_limit_note",
    }
    items = {i["code"] for i in metadata()["items"]}
    assert {b["item"] for b in guide["legal_basis"] if "item" in b} == items
    assert all(p["address"].startswith("示范区") for p in guide["places"])
    assert guide["phones"]["consult"].startswith("0571-8800")
    assert metadata()["time_limits"]["promised_workdays"] == 1  # 一日办结


def test_each_certificate_number_is_entered_before_its_issuing_task() -> None:
    """营业执照 at 核发营业执照 (its own form holds the number), the 印章备案回执 at 统一出件 (the
    police's 备案 form holds it); each issuing task names its one item."""
    items = {i["code"]: i for i in metadata()["items"]}
    with_certificate = {code for code, i in items.items() if "certificate" in i}
    assert with_certificate == {"business_registration", "seal_filing"}
    issuing = {
        element: properties(task)
        for element, task in user_tasks().items()
        if properties(task).get("certificate_action")
    }
    assert {e: p["certificate_items"] for e, p in issuing.items()} == {
        "licence_issuance": "business_registration",
        "joint_issuance": "seal_filing",
    }
    for code, form_name in (
        ("business_registration", "licence_issuance"),
        ("seal_filing", "seal_filing"),
    ):
        certificate = items[code]["certificate"]
        field = form(form_name)["properties"][certificate["number_field"]]
        assert field["pattern"] == f"^{certificate['number_pattern']}$"


def test_the_optional_gateways_say_what_the_items_applies_if_says() -> None:
    conditions = {
        f.get("targetRef"): f.findtext("bpmn:conditionExpression", namespaces=NS)
        for f in diagram.process(tree()).iterfind("bpmn:sequenceFlow", NS)
    }
    by_item = {
        "social_insurance": "social_registration",
        "housing_fund": "housing_fund_registration",
        "bank_account": "bank_appointment",
    }
    items = {i["code"]: i for i in metadata()["items"]}
    assert {code for code, i in items.items() if "applies_if" in i} == set(by_item)
    for code, element in by_item.items():
        assert conditions[element] == items[code]["applies_if"], code


def test_every_task_after_intake_has_an_hour_limit() -> None:
    for element, task in user_tasks().items():
        limit = properties(task).get("time_limit")
        if element in ("intake", "correction"):
            assert limit is None, element  # before 受理: the window's own pace
        else:
            assert limit is not None and limit.endswith("h"), element


def test_every_element_and_flow_is_drawn_inside_its_lane() -> None:
    diagram.assert_drawn_inside_lanes(tree())


def test_flows_are_orthogonal_start_and_end_on_their_shapes_and_never_cross() -> None:
    diagram.assert_flows_orthogonal_and_uncrossed(tree())
