"""Static checks of the 我要开便利店 bundle's files: its bundle.json (with the 事项清单 `guide`),
its diagram (every element drawn, lanes, no crossing flows), its forms and its DMN table."""

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
from tests.fixtures import convenience_store as cs
from tests.fixtures.materials import conditional_materials, issuers

ROOT = Path(__file__).parents[2]
BUNDLE_DIR = ROOT / "processes" / "convenience_store"
FORMS_DIR = ROOT / "forms" / "convenience_store"
NS = {**NSMAP, "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
NODE_TAGS = (
    "startEvent",
    "endEvent",
    "userTask",
    "businessRuleTask",
    "exclusiveGateway",
    "parallelGateway",
)
Box = tuple[float, float, float, float]
Segment = tuple[tuple[float, float], tuple[float, float]]


@cache
def bpmn() -> Any:
    return etree.parse(str(BUNDLE_DIR / "convenience_store.bpmn")).getroot()


@cache
def metadata() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLE_DIR / "bundle.json").read_text(encoding="utf-8"))
    return data


@cache
def compiled() -> Any:
    return compile_bundle(from_path(BUNDLE_DIR), FormLibrary(ROOT / "forms"))


def nodes() -> dict[str, Any]:
    found = {}
    for tag in NODE_TAGS:
        for element in bpmn().iterfind(f".//bpmn:process/bpmn:{tag}", NS):
            found[element.get("id")] = element
    return found


def flows() -> dict[str, Any]:
    return {f.get("id"): f for f in bpmn().iterfind(".//bpmn:process/bpmn:sequenceFlow", NS)}


def box(element_id: str) -> Box:
    shape = bpmn().find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
    assert shape is not None, f"no shape for {element_id}"
    return tuple(float(shape.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def waypoints(flow_id: str) -> list[tuple[float, float]]:
    edge = bpmn().find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow_id}']", NS)
    assert edge is not None, f"no edge for {flow_id}"
    return [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]


def test_the_bundle_compiles_with_its_forms_and_decision() -> None:
    bundle = compiled()
    assert bundle.start_form == "convenience_store/application.json"
    assert set(bundle.human_tasks) == {n for n, e in nodes().items() if e.tag.endswith("userTask")}
    for element, info in bundle.human_tasks.items():
        assert info.form and info.form.startswith("convenience_store/"), element


def test_bundle_json_lists_the_items_and_the_guide() -> None:
    meta = metadata()
    items = {item["code"]: item for item in meta["items"]}
    assert list(items) == ["business_licence", "food_filing", "food_permit", "tobacco_licence"]
    # Every item has a certificate; all but the business licence apply to some applications
    # only, by the application's answers (备案 or 许可, tobacco or not).
    assert all("certificate" in item for item in items.values())
    assert {code: item.get("applies_if") for code, item in items.items()} == {
        "business_licence": None,
        "food_filing": 'food_mode == "prepackaged_only"',
        "food_permit": 'food_mode == "with_bulk_food"',
        "tobacco_licence": "sells_tobacco == True",
    }
    assert items["food_filing"]["statutory_workdays"] == 0  # 当场备案
    assert meta["time_limits"]["starts_at"] == "review_split"
    guide = meta["guide"]
    for key in ("code", "implementing_body", "legal_basis", "fee", "places", "phones", "scope"):
        assert guide[key], key
    assert guide["results"] and guide["conditions"]
    laws = {entry.get("item") for entry in guide["legal_basis"]}
    assert {"business_licence", "food_filing", "food_permit", "tobacco_licence"} <= laws


def test_material_choices_follow_the_checklist() -> None:
    codes = [m["code"] for m in metadata()["materials"]]
    deferrable = [m["code"] for m in metadata()["materials"] if m["deferrable"]]
    intake = json.loads((FORMS_DIR / "intake.json").read_text(encoding="utf-8"))
    props = intake["properties"]
    assert [c["const"] for c in props["missing_materials"]["items"]["oneOf"]] == codes
    assert [c["const"] for c in props["deferred_materials"]["items"]["oneOf"]] == deferrable
    decisions = [c["const"] for c in props["intake_decision"]["oneOf"]]
    assert decisions == ["accept", "correct", "refuse", "accept_with_gaps"]
    used = {
        d["intake_decision"] for _, steps, _ in cs.PATHS.values() for e, d in steps if e == "intake"
    }
    assert used == set(decisions)
    assert {end for _, _, end in cs.PATHS.values()} == set(cs.ENDS)


@pytest.mark.parametrize("path", sorted(FORMS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_form_is_a_labelled_draft_2020_12_schema(path: Path) -> None:
    form = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(form)
    assert form["title"] and form["type"] == "object"
    for name, field in form["properties"].items():
        assert field.get("title"), f"{path.name}: {name} has no title"
        assert "enum" not in field, f"{path.name}: {name} uses a bare enum"
        if field.get("type") == "string" and "oneOf" not in field and "format" not in field:
            assert "maxLength" in field, f"{path.name}: {name} has no maxLength"


def test_fixture_data_is_valid_for_each_form() -> None:
    forms = compiled().forms
    tasks = compiled().human_tasks
    start = Draft202012Validator(forms["convenience_store/application.json"])
    for application in (
        cs.PREPACKAGED,
        cs.PREPACKAGED_TOBACCO,
        cs.BULK,
        cs.BULK_TOBACCO,
        cs.BY_AGENT,
    ):
        assert list(start.iter_errors(application)) == []
    for _, steps, _ in cs.PATHS.values():
        for element, data in steps:
            form = forms[tasks[element].form]
            errors = list(Draft202012Validator(form).iter_errors(data))
            assert errors == [], (element, errors)


def test_every_element_is_drawn_inside_its_lane() -> None:
    lanes = {}
    for lane in bpmn().iterfind(".//bpmn:lane", NS):
        refs = [r.text for r in lane.iterfind("bpmn:flowNodeRef", NS)]
        for ref in refs:
            assert ref not in lanes, f"{ref} is in two lanes"
            lanes[ref] = lane.get("id")
    assert set(lanes) == set(nodes())
    for node, lane in lanes.items():
        x, y, w, h = box(node)
        lx, ly, lw, lh = box(lane)
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, node
    for a, b in itertools.combinations(nodes(), 2):
        ax, ay, aw, ah = box(a)
        bx, by, bw, bh = box(b)
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)


def _touches(point: tuple[float, float], shape: Box) -> bool:
    px, py = point
    x, y, w, h = shape
    inside = x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1
    return inside and min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= 1


def test_edges_are_orthogonal_and_touch_their_shapes() -> None:
    for flow_id, flow in flows().items():
        points = waypoints(flow_id)
        assert len(points) >= 2
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow_id} has a diagonal segment"
        assert _touches(points[0], box(flow.get("sourceRef"))), flow_id
        assert _touches(points[-1], box(flow.get("targetRef"))), flow_id


def _segments(flow_id: str) -> list[Segment]:
    return list(itertools.pairwise(waypoints(flow_id)))


def _cross(a: Segment, b: Segment) -> bool:
    """A horizontal and a vertical segment crossing strictly inside both."""
    (ax1, ay1), (ax2, ay2) = a
    (bx1, by1), (bx2, by2) = b
    if ay1 == ay2 and bx1 == bx2:
        return min(ax1, ax2) < bx1 < max(ax1, ax2) and min(by1, by2) < ay1 < max(by1, by2)
    if ax1 == ax2 and by1 == by2:
        return _cross(b, a)
    return False


def test_no_two_flows_cross() -> None:
    for f1, f2 in itertools.combinations(flows(), 2):
        for s1 in _segments(f1):
            for s2 in _segments(f2):
                assert not _cross(s1, s2), f"{f1} crosses {f2}"


def test_the_layout_table_has_one_rule_per_fixture_row() -> None:
    dmn = etree.parse(str(BUNDLE_DIR / "tobacco_layout.dmn")).getroot()
    table = dmn.find(".//dmn:decision[@id='tobacco_layout']/dmn:decisionTable", NS)
    assert table is not None and table.get("hitPolicy") == "FIRST"
    rules = [r.get("id") for r in table.iterfind("dmn:rule", NS)]
    assert set(rules) == set(cs.LAYOUT_ROWS) - {"r_school_before_mall"}
    rule_task = nodes()["tobacco_layout"]
    assert rule_task.get(f"{{{NS['camunda']}}}decisionRef") == "tobacco_layout"


def test_materials_of_an_item_and_each_certificates_issuer() -> None:
    """The food permit's and the tobacco licence's materials are asked only when the item
    applies (`materials[].item`); the tobacco licence is issued by the 烟草专卖局."""
    meta = metadata()
    application = json.loads((FORMS_DIR / "application.json").read_text(encoding="utf-8"))
    conditional = conditional_materials(meta, application)
    assert set(conditional) == {
        "agent_authorization",
        "food_safety_rules",
        "premises_layout",
        "health_certificates",
        "tobacco_application",
        "residence_separation",
        "location_photos",
    }
    assert conditional["tobacco_application"] == "销售卷烟、雪茄烟"
    assert issuers(meta) == {
        "business_licence": "示范区市场监督管理局",
        "food_filing": "示范区市场监督管理局",
        "food_permit": "示范区市场监督管理局",
        "tobacco_licence": "示范区烟草专卖局",
    }
