"""Static checks of 企业开办一件事's files (processes/company_setup/, forms/company_setup/): the
forms follow the conventions of docs/bundles.md, the checklist matches the intake forms, the guide
has its entries, each certificate's number is entered on the form of the task before it is issued,
the optional branches' gateways say what their items' `applies_if` say, every task has its hour
limit, and the hand-placed diagram is complete, inside its lanes, orthogonal and free of crossing
flows."""

from __future__ import annotations

import itertools
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

BUNDLE = PROCESSES / "company_setup"
FORM_DIR = FORMS / "company_setup"
NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
FORM_FILES = sorted(FORM_DIR.glob("*.json"))

Box = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]


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
    return {t.get("id"): t for t in _process().iterfind("bpmn:userTask", NS)}


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
        for f in _process().iterfind("bpmn:sequenceFlow", NS)
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


def _bounds(element: Any) -> Box:
    b = element.find("dc:Bounds", NS)
    return (float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))


def _shapes() -> dict[str, Box]:
    return {s.get("bpmnElement"): _bounds(s) for s in tree().iterfind(".//bpmndi:BPMNShape", NS)}


def _edges() -> dict[str, list[Point]]:
    return {
        e.get("bpmnElement"): [
            (float(w.get("x")), float(w.get("y"))) for w in e.iterfind("di:waypoint", NS)
        ]
        for e in tree().iterfind(".//bpmndi:BPMNEdge", NS)
    }


def _process() -> Any:
    return tree().find("bpmn:process", NS)


def _on_border(point: Point, box: Box) -> bool:
    x, y = point
    bx, by, w, h = box
    inside = bx - 0.5 <= x <= bx + w + 0.5 and by - 0.5 <= y <= by + h + 0.5
    return inside and (x in (bx, bx + w) or y in (by, by + h))


def test_every_element_and_flow_is_drawn_inside_its_lane() -> None:
    shapes, process = _shapes(), _process()
    nodes = [n for n in process if n.get("id") and n.tag.rsplit("}", 1)[1] != "sequenceFlow"]
    nodes = [n for n in nodes if n.tag.rsplit("}", 1)[1] not in ("laneSet", "documentation")]
    assert {n.get("id") for n in nodes} <= set(shapes)
    flows = {f.get("id") for f in process.iterfind("bpmn:sequenceFlow", NS)}
    assert set(_edges()) == flows
    for lane in process.iterfind(".//bpmn:lane", NS):
        lx, ly, lw, lh = shapes[lane.get("id")]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x, y, w, h = shapes[ref.text]
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, ref.text


def test_flows_are_orthogonal_start_and_end_on_their_shapes_and_never_cross() -> None:
    shapes, edges = _shapes(), _edges()
    segments: list[tuple[str, Point, Point]] = []
    for flow in _process().iterfind("bpmn:sequenceFlow", NS):
        points = edges[flow.get("id")]
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow.get("id")
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow.get("id")
        for a, b in itertools.pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], f"{flow.get('id')} has a slanted segment"
            segments.append((flow.get("id"), a, b))
    for (f1, a1, b1), (f2, a2, b2) in itertools.combinations(segments, 2):
        if f1 == f2:
            continue
        horizontal = [(s, e) for s, e in ((a1, b1), (a2, b2)) if s[1] == e[1] and s[0] != e[0]]
        vertical = [(s, e) for s, e in ((a1, b1), (a2, b2)) if s[0] == e[0] and s[1] != e[1]]
        if len(horizontal) != 1 or len(vertical) != 1:
            continue  # parallel segments may share a trunk into a join or out of a split
        (h1, h2), (v1, v2) = horizontal[0], vertical[0]
        crosses = min(h1[0], h2[0]) < v1[0] < max(h1[0], h2[0]) and min(v1[1], v2[1]) < h1[1] < max(
            v1[1], v2[1]
        )
        assert not crosses, f"{f1} crosses {f2} at ({v1[0]}, {h1[1]})"
