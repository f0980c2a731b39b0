"""Static checks of the 新生儿出生一件事 bundle's files (`processes/newborn`, `forms/newborn`): it
compiles with no warning, every form is a labelled JSON Schema that the tasks use, the
checklist and the intake forms agree, each certificate's number and printed fields come from a
form, and the diagram is drawn whole: every element inside its lane, flows orthogonal, touching
their ends, and no two flows crossing."""

from __future__ import annotations

import itertools
import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree

from engine.bpmn.namespaces import NSMAP
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.source import from_path
from engine.forms import validate_form_data
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.materials import conditional_materials, issuers
from tests.fixtures.newborn import APPLICATION, APPLICATION_BY_AGENT, GROUP_OF, PATHS

KEY = "newborn"
NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
CAMUNDA = "{" + NS["camunda"] + "}"
Box = tuple[float, float, float, float]
Point = tuple[float, float]


@cache
def compiled() -> Any:
    return compile_bundle(from_path(PROCESSES / KEY), FormLibrary(FORMS))


@cache
def bundle() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROCESSES / KEY / "bundle.json").read_text("utf-8"))
    return loaded


@cache
def form(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMS / KEY / f"{name}.json").read_text("utf-8"))
    return loaded


@cache
def root() -> Any:
    return etree.parse(str(PROCESSES / KEY / f"{KEY}.bpmn")).getroot()


def process() -> Any:
    return root().find("bpmn:process", NS)


def flow_nodes() -> dict[str, Any]:
    skip = {"laneSet", "sequenceFlow", "documentation", "extensionElements"}
    return {e.get("id"): e for e in process() if etree.QName(e).localname not in skip}


def flows() -> dict[str, Any]:
    return {f.get("id"): f for f in process().findall("bpmn:sequenceFlow", NS)}


def box(element_id: str) -> Box:
    found = root().xpath(
        f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", namespaces=NS
    )
    assert len(found) == 1, f"{element_id}: {len(found)} shapes"
    b = found[0]
    return (float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))


def waypoints(flow_id: str) -> list[Point]:
    found = root().xpath(f"//bpmndi:BPMNEdge[@bpmnElement='{flow_id}']/di:waypoint", namespaces=NS)
    return [(float(p.get("x")), float(p.get("y"))) for p in found]


def test_the_bundle_compiles_without_warnings_and_its_tasks_are_the_expected_ones() -> None:
    result = compiled()
    assert result.warnings == ()
    assert set(result.human_tasks) == set(GROUP_OF)
    for element, task in result.human_tasks.items():
        assert list(task.groups) == [GROUP_OF[element]], element
        assert task.form == f"{KEY}/{element if element != 'joint_issuance' else 'issuance'}.json"
    issuing = {
        e: t.properties.get("certificate_items")
        for e, t in result.human_tasks.items()
        if t.properties.get("certificate_action") == "issue"
    }
    # the hospital and the 接种单位 issue their own at once; 统一出证 the rest
    assert issuing == {
        "birth_certificate": "birth_medical_certificate",
        "vaccination_certificate": "vaccination_certificate",
        "joint_issuance": None,
    }


def test_every_form_is_a_labelled_schema_and_used_by_the_bundle() -> None:
    used = {task.form for task in compiled().human_tasks.values()} | {f"{KEY}/application.json"}
    files = sorted(p.stem for p in (FORMS / KEY).glob("*.json"))
    assert {f"{KEY}/{name}.json" for name in files} == used
    for name in files:
        schema = form(name)
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema["title"], name
        for field, prop in schema["properties"].items():
            assert prop.get("title"), f"{name}.{field} has no title"
            assert "enum" not in prop, f"{name}.{field}: labelled choices use oneOf"
            if prop.get("type") == "string" and "oneOf" not in prop and "format" not in prop:
                assert "maxLength" in prop, f"{name}.{field} has no maxLength"
        assert set(schema["required"]) <= set(schema["properties"]), name


def test_the_fixture_data_fills_the_forms() -> None:
    assert validate_form_data(form("application"), APPLICATION) == []
    assert validate_form_data(form("application"), APPLICATION_BY_AGENT) == []
    names = {"joint_issuance": "issuance"}
    for steps, _end in PATHS.values():
        for element, data in steps:
            assert validate_form_data(form(names.get(element, element)), data) == [], element


def test_the_application_says_the_parent_applies_for_the_child() -> None:
    applicant = bundle()["applicant"]
    assert applicant["name_field"] == "guardian_name"
    assert applicant["holder_field"] == "child_name"
    props = form("application")["properties"]
    assert "监护人" in props["guardian_name"]["title"]
    for field in ("child_name", "child_sex", "child_birth_date", "birth_place"):
        assert field in form("application")["required"], field
    for field in ("mother_id_number", "father_id_number", "household_address"):
        assert field in props, field


def test_the_checklist_and_the_intake_forms_agree() -> None:
    codes = [m["code"] for m in bundle()["materials"]]
    assert len(set(codes)) == len(codes)
    intake = form("intake")["properties"]
    choices = [c["const"] for c in intake["missing_materials"]["items"]["oneOf"]]
    assert choices == codes
    supplied = form("correction")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert [c["const"] for c in supplied] == codes
    # no 容缺 and no 告知承诺 for this bundle: nothing deferrable, no such decision
    assert not any(m["deferrable"] for m in bundle()["materials"])
    decisions = [c["const"] for c in intake["intake_decision"]["oneOf"]]
    assert decisions == ["accept", "correct", "refuse"]


def test_each_certificate_number_and_field_comes_from_a_form() -> None:
    declared: dict[str, str] = {}
    for path in (FORMS / KEY).glob("*.json"):
        for field in json.loads(path.read_text("utf-8"))["properties"]:
            declared.setdefault(field, path.stem)
    kinds = {}
    for item in bundle()["items"]:
        assert item["department"] and item["promised_workdays"] >= 1, item["code"]
        cert = item.get("certificate")
        if cert is None:
            continue
        kinds[item["code"]] = cert["title"]
        owner = form(declared[cert["number_field"]])
        assert owner["properties"][cert["number_field"]]["pattern"] == f"^{cert['number_pattern']}$"
        for _label, field in cert["fields"]:
            assert field in declared, f"{item['code']}: no form sets {field}"
    assert set(kinds) == {
        "birth_medical_certificate",
        "household_registration",
        "social_security_card",
        "vaccination_certificate",
    }


def test_the_guide_data_is_complete() -> None:
    guide = bundle()["guide"]
    for key in ("code", "implementing_body", "legal_basis", "fee", "places", "phones", "scope"):
        assert guide[key], key
    items = {i["code"] for i in bundle()["items"]}
    assert {b["item"] for b in guide["legal_basis"]} == items
    assert guide["phones"]["complaint"] == "12345"


def test_every_element_sits_inside_its_lane_and_nothing_overlaps() -> None:
    lanes = process().findall("bpmn:laneSet/bpmn:lane", NS)
    lane_of = {ref.text: lane.get("id") for lane in lanes for ref in lane}
    nodes = flow_nodes()
    assert set(lane_of) == set(nodes)
    for node, lane in lane_of.items():
        nx, ny, nw, nh = box(node)
        lx, ly, lw, lh = box(lane)
        assert lx < nx and nx + nw <= lx + lw and ly <= ny and ny + nh <= ly + lh, node
    for a, b in itertools.combinations(nodes, 2):
        ax, ay, aw, ah = box(a)
        bx, by, bw, bh = box(b)
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)


def _touches(point: Point, b: Box) -> bool:
    x, y, w, h = b
    px, py = point
    inside = x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1
    return inside and min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= 1


def test_flows_are_orthogonal_touch_their_ends_and_never_cross() -> None:
    segments: list[tuple[str, Point, Point]] = []
    for flow_id, flow in flows().items():
        points = waypoints(flow_id)
        assert len(points) >= 2, flow_id
        assert _touches(points[0], box(flow.get("sourceRef"))), flow_id
        assert _touches(points[-1], box(flow.get("targetRef"))), flow_id
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow_id} has a diagonal segment"
            segments.append((flow_id, p, q))
    for (fa, a1, a2), (fb, b1, b2) in itertools.combinations(segments, 2):
        if fa == fb:
            continue
        a_vertical, b_vertical = a1[0] == a2[0], b1[0] == b2[0]
        if a_vertical == b_vertical:
            continue  # parallel segments: no crossing
        v1, v2, h1, h2 = (a1, a2, b1, b2) if a_vertical else (b1, b2, a1, a2)
        x, y = v1[0], h1[1]
        strictly = min(h1[0], h2[0]) < x < max(h1[0], h2[0]) and min(v1[1], v2[1]) < y < max(
            v1[1], v2[1]
        )
        assert not strictly, f"{fa} crosses {fb} at ({x}, {y})"


def test_each_certificate_names_its_issuer_and_the_agents_material_is_conditional() -> None:
    """The hospital and the 接种单位 are named by the case data (`issuer_field`, a field of a
    form), the police station and the 人社局 by the certificate (`issuer`)."""
    meta = bundle()
    assert set(conditional_materials(meta, form("application"))) == {"agent_authorization"}
    certificates = {i["code"]: i["certificate"] for i in meta["items"] if i.get("certificate")}
    assert certificates["birth_medical_certificate"]["issuer_field"] == "birth_hospital"
    assert "birth_hospital" in form("application")["required"]
    assert certificates["vaccination_certificate"]["issuer_field"] == "vaccination_unit"
    assert "vaccination_unit" in form("vaccination_certificate")["properties"]
    assert issuers(meta)["household_registration"] == "示范区公安分局户籍派出所"
    assert issuers(meta)["social_security_card"] == "示范区人力资源和社会保障局"
