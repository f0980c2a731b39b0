"""Static checks of 我要开药店: its BPMN and diagram, its forms and its bundle.json, and the test
data of tests/fixtures/pharmacy.py against the forms. No database: the files as shipped."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.bpmn.namespaces import NSMAP
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.source import from_path
from engine.forms import validate_form_data
from tests.conftest import FORMS, PROCESSES
from tests.fixtures import pharmacy as p
from tests.fixtures.materials import conditional_materials, issuers

BUNDLE_DIR = PROCESSES / "pharmacy"
NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
TREE = etree.parse(str(BUNDLE_DIR / "pharmacy.bpmn"))
METADATA: dict[str, Any] = json.loads((BUNDLE_DIR / "bundle.json").read_text(encoding="utf-8"))
COMPILED = compile_bundle(from_path(BUNDLE_DIR), FormLibrary(FORMS))
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "exclusiveGateway",
    "parallelGateway",
)


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / "pharmacy" / f"{name}.json").read_text(encoding="utf-8"))


def nodes() -> list[etree._Element]:
    process = TREE.find("bpmn:process", NS)
    assert process is not None
    return [el for el in process if etree.QName(el).localname in FLOW_NODES]


def bounds(element_id: str) -> tuple[float, float, float, float]:
    shape = TREE.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
    assert shape is not None, f"{element_id} has no shape"
    x, y, w, h = (float(shape.get(k, "0")) for k in ("x", "y", "width", "height"))
    return x, y, x + w, y + h


def test_the_bundle_compiles_without_warnings() -> None:
    assert COMPILED.warnings == ()
    assert set(COMPILED.human_tasks) == {
        "intake",
        "correction",
        "supply_materials",
        "review_licence",
        "review_drug",
        "drug_inspection",
        "food_filing",
        "review_food",
        "joint_issuance",
        "denial_notice",
    }


@pytest.mark.parametrize("path", sorted((FORMS / "pharmacy").glob("*.json")), ids=lambda p: p.name)
def test_every_form_is_a_valid_schema_with_titles(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["title"] and schema["description"]
    for name, prop in schema["properties"].items():
        assert prop.get("title"), f"{path.name}: {name} has no title"
        if prop.get("type") == "string" and "oneOf" not in prop and "format" not in prop:
            assert "maxLength" in prop, f"{path.name}: {name} has no maxLength"
        for option in prop.get("oneOf", []):
            assert set(option) == {"const", "title"}, f"{path.name}: {name}"


def test_every_task_of_the_diagram_has_its_form_and_lane() -> None:
    lanes = {
        ref.text: lane.get("name")
        for lane in TREE.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    for node in nodes():
        assert node.get("id") in lanes, f"{node.get('id')} is in no lane"
    for task in TREE.iterfind(".//bpmn:userTask", NS):
        key = task.get(f"{{{NS['camunda']}}}formKey")
        assert key and (FORMS / key).is_file(), task.get("id")
        assert task.get(f"{{{NS['camunda']}}}candidateGroups")


def test_the_inspection_is_a_huoqian_of_the_two_named_inspectors() -> None:
    task = TREE.find(".//bpmn:userTask[@id='drug_inspection']", NS)
    assert task is not None
    assert task.get(f"{{{NS['camunda']}}}assignee") == "${drug_inspector}"
    loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
    assert loop is not None and loop.get("isSequential") in (None, "false")
    assert loop.findtext("bpmn:loopDataInputRef", namespaces=NS) == "drug_inspectors"
    condition = loop.findtext("bpmn:completionCondition", namespaces=NS)
    assert condition == "nr_of_completed_instances >= 1"
    inspectors = form("review_drug")["properties"]["drug_inspectors"]
    assert (inspectors["minItems"], inspectors["maxItems"]) == (2, 2)


def test_every_element_and_flow_is_drawn_and_no_shapes_overlap() -> None:
    drawn = {s.get("bpmnElement") for s in TREE.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in TREE.iterfind(".//bpmndi:BPMNEdge", NS)}
    ids = [n.get("id") for n in nodes()]
    assert set(ids) <= drawn
    assert {f.get("id") for f in TREE.iterfind(".//bpmn:sequenceFlow", NS)} == edges
    boxes = {i: bounds(i) for i in ids}
    for (a, ba), (b, bb) in combinations(boxes.items(), 2):
        overlap = ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]
        assert not overlap, f"{a} and {b} overlap"
    pool = bounds("pharmacy_participant")
    for point in TREE.iterfind(".//di:waypoint", NS):
        x, y = float(point.get("x", "0")), float(point.get("y", "0"))
        assert pool[0] <= x <= pool[2] and pool[1] <= y <= pool[3]


def test_the_materials_checklist_and_the_intake_form_agree() -> None:
    codes = [m["code"] for m in METADATA["materials"]]
    deferrable = [m["code"] for m in METADATA["materials"] if m["deferrable"]]
    intake = form("intake")["properties"]
    assert [o["const"] for o in intake["missing_materials"]["items"]["oneOf"]] == codes
    assert [o["const"] for o in intake["deferred_materials"]["items"]["oneOf"]] == deferrable
    supply = form("supply_materials")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert [o["const"] for o in supply] == deferrable
    assert "pharmacist_proof" not in deferrable  # the key material is never 容缺


def test_the_guide_data_is_complete() -> None:
    guide = METADATA["guide"]
    for key in ("code", "implementing_body", "legal_basis", "fee", "places", "phones", "scope"):
        assert guide[key], key
    assert guide["results"] and guide["conditions"]
    items = {item["code"] for item in METADATA["items"]}
    assert {law["item"] for law in guide["legal_basis"] if "item" in law} <= items


@pytest.mark.parametrize(
    "data",
    [p.APPLICATION, p.PREPACKAGED, p.BULK, p.APPLICATION_BY_AGENT],
    ids=["none", "prepackaged", "bulk", "agent"],
)
def test_the_applications_are_valid(data: dict[str, Any]) -> None:
    assert validate_form_data(COMPILED.forms["pharmacy/application.json"], data) == []


def test_every_step_of_every_path_is_valid_for_its_form() -> None:
    for path, (_, steps, _) in p.PATHS.items():
        for element, data in steps:
            key = COMPILED.human_tasks[element].form
            assert key is not None
            assert validate_form_data(COMPILED.forms[key], data) == [], (path, element)


def test_invalid_answers_are_refused_by_the_forms() -> None:
    review = COMPILED.forms["pharmacy/review_drug.json"]
    assert validate_form_data(review, {"drug_approved": True}) != []  # no inspectors
    one = {"drug_approved": True, "drug_inspectors": ["drug_inspector_a"]}
    assert validate_form_data(review, one) != []
    assert validate_form_data(review, {"drug_approved": False}) != []  # no reason
    inspection = COMPILED.forms["pharmacy/drug_inspection.json"]
    assert validate_form_data(inspection, {"inspection_decision": "reject"}) != []
    food = COMPILED.forms["pharmacy/review_food.json"]
    assert validate_form_data(food, {"food_approved": True}) != []  # no permit number


def test_the_food_materials_are_conditional_and_each_certificate_names_its_issuer() -> None:
    """食品 materials only for a pharmacy selling food; the 备案回执 is a certificate numbered
    with the filing form's number; the drug permit from the drug authority."""
    meta = json.loads((BUNDLE_DIR / "bundle.json").read_text(encoding="utf-8"))
    conditional = conditional_materials(meta, form("application"))
    assert set(conditional) == {"agent_authorization", "food_materials"}
    assert issuers(meta) == p.ISSUERS
    filing = next(i for i in meta["items"] if i["code"] == "food_filing")
    assert filing["applies_if"] == 'food_sales == "prepackaged"'
    number = filing["certificate"]["number_field"]
    assert number in form("food_filing")["required"]
    assert p.FOOD_FILED[number].startswith("YB")
