"""Static checks of 我要开旅馆's files (processes/hotel/, forms/hotel/): the forms follow the
conventions of docs/bundles.md, the checklist matches the intake forms, the guide has its entries,
and the hand-drawn diagram is complete, inside its lanes, orthogonal and free of crossing flows."""

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
from tests.fixtures import hotel as h
from tests.fixtures.materials import conditional_materials, issuers
from tests.processes import diagram_geometry as diagram

BUNDLE = PROCESSES / "hotel"
FORM_DIR = FORMS / "hotel"
NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
FORM_FILES = sorted(FORM_DIR.glob("*.json"))


@cache
def tree() -> Any:
    return etree.parse(str(BUNDLE / "hotel.bpmn"))


@cache
def metadata() -> dict[str, Any]:
    return dict(json.loads((BUNDLE / "bundle.json").read_text()))


def form(name: str) -> dict[str, Any]:
    return dict(json.loads((FORM_DIR / f"{name}.json").read_text()))


def test_the_bundle_compiles_without_problems() -> None:
    compiled = compile_bundle(from_path(BUNDLE), FormLibrary(FORMS))
    assert compiled.start_form == "hotel/application.json"
    assert set(compiled.forms) == {f"hotel/{p.name}" for p in FORM_FILES}


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_each_form_follows_the_conventions(path: Path) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["title"] and schema["type"] == "object"
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


def test_the_checklist_matches_the_intake_choices() -> None:
    materials = {m["code"]: m for m in metadata()["materials"]}
    intake = form("intake")["properties"]
    missing = {o["const"]: o["title"] for o in intake["missing_materials"]["items"]["oneOf"]}
    assert missing == {code: m["name"] for code, m in materials.items()}
    deferred = {o["const"] for o in intake["deferred_materials"]["items"]["oneOf"]}
    assert deferred == {code for code, m in materials.items() if m["deferrable"]}
    supply = form("supply_materials")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert {o["const"] for o in supply} == deferred
    correction = form("correction")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert {o["const"] for o in correction} == set(materials)


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
    }
    items = {i["code"] for i in metadata()["items"]}
    assert {b["item"] for b in guide["legal_basis"] if "item" in b} == items
    assert all(p["address"].startswith("示范区") for p in guide["places"])
    assert guide["phones"]["consult"].startswith("0571-8800")


def test_the_forms_hold_every_certificate_number() -> None:
    """The issuance form asks for the numbers of the items every hotel applies for; the fire
    brigade enters its 合格证 number in its own decision (the item applies above a size)."""
    issuance, decision = form("issuance"), form("department_decision")
    items = {i["code"]: i for i in metadata()["items"]}
    assert all("certificate" in item for item in items.values())
    assert [c for c, i in items.items() if "applies_if" in i] == ["fire_safety_check"]
    assert items["fire_safety_check"]["applies_if"] == "fire_check_required == True"
    for code, item in items.items():
        certificate = item["certificate"]
        holder = decision if code == "fire_safety_check" else issuance
        field = holder["properties"][certificate["number_field"]]
        assert field["pattern"] == f"^{certificate['number_pattern']}$"
        if holder is issuance:
            assert certificate["number_field"] in issuance["required"]


def test_a_failed_post_check_revokes_the_health_permit_only() -> None:
    bundle = compile_bundle(from_path(BUNDLE), FormLibrary(FORMS))
    props = bundle.human_tasks["revocation"].properties
    assert props["certificate_action"] == "revoke"
    assert props["certificate_items"] == "public_health_permit"


def test_every_element_and_flow_is_drawn_inside_its_lane() -> None:
    diagram.assert_drawn_inside_lanes(tree())


def test_flows_are_orthogonal_start_and_end_on_their_shapes_and_never_cross() -> None:
    diagram.assert_flows_orthogonal_and_uncrossed(tree())


def test_the_fire_materials_are_asked_by_size_and_each_department_issues_its_certificate() -> None:
    """The 消防 materials read the application's area and rooms (the fire check's own condition
    reads the decision table's output, unknown at 一窗受理)."""
    meta = metadata()
    conditional = conditional_materials(meta, form("application"))
    assert set(conditional) == {"agent_authorization", "fire_safety_materials"}
    fire = next(m for m in meta["materials"] if m["code"] == "fire_safety_materials")
    assert fire["applies_if"] == "building_area_m2 >= 500 or room_count > 14"
    assert issuers(meta) == h.ISSUERS
