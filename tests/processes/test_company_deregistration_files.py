"""Static checks of the 企业注销一件事 bundle's files: its bundle.json (items with `applies_if`,
the certificates, the 事项清单 `guide`), its diagram (every element drawn inside its lane,
orthogonal flows that never cross, the 20-day timer on the notice), its forms and its DMN table."""

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
from tests.fixtures import company_deregistration as cd

ROOT = Path(__file__).parents[2]
BUNDLE_DIR = ROOT / "processes" / "company_deregistration"
FORMS_DIR = ROOT / "forms" / "company_deregistration"
NS = {**NSMAP, "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
NODE_TAGS = (
    "startEvent",
    "endEvent",
    "userTask",
    "businessRuleTask",
    "exclusiveGateway",
    "parallelGateway",
    "boundaryEvent",
)
Box = tuple[float, float, float, float]
Segment = tuple[tuple[float, float], tuple[float, float]]


@cache
def bpmn() -> Any:
    return etree.parse(str(BUNDLE_DIR / "company_deregistration.bpmn")).getroot()


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
    assert bundle.start_form == "company_deregistration/application.json"
    assert set(bundle.human_tasks) == {n for n, e in nodes().items() if e.tag.endswith("userTask")}
    for element, info in bundle.human_tasks.items():
        assert info.form and info.form.startswith("company_deregistration/"), element
    assert bundle.warnings == ()


def test_the_diagram_draws_every_element_and_flow() -> None:
    drawn = {s.get("bpmnElement") for s in bpmn().iterfind(".//bpmndi:BPMNShape", NS)} | {
        e.get("bpmnElement") for e in bpmn().iterfind(".//bpmndi:BPMNEdge", NS)
    }
    process = bpmn().find(".//bpmn:process", NS)
    ids = {
        e.get("id")
        for e in process.iter()
        if e.get("id") and not e.tag.endswith(("Definition", "laneSet"))
    }
    assert ids - drawn == {"company_deregistration"}  # the process is drawn as its pool
    pool = bpmn().find(".//bpmn:participant", NS)
    assert pool is not None and pool.get("id") in drawn


def test_bundle_json_lists_the_items_and_the_guide() -> None:
    meta = metadata()
    items = {item["code"]: item for item in meta["items"]}
    assert list(items) == [
        "deregistration",
        "tax_clearance",
        "social_insurance_cancellation",
        "housing_fund_cancellation",
        "customs_cancellation",
        "foreign_trade_cancellation",
    ]
    assert [code for code, item in items.items() if "certificate" in item] == [
        "deregistration",
        "tax_clearance",
    ]
    assert items["customs_cancellation"]["applies_if"] == "customs_registered == True"
    assert items["foreign_trade_cancellation"]["applies_if"] == "foreign_trade_registered == True"
    assert meta["time_limits"]["starts_at"] == "clearance_split"
    guide = meta["guide"]
    for key in ("code", "implementing_body", "legal_basis", "fee", "places", "phones", "scope"):
        assert guide[key], key
    assert guide["phones"]["consult"] and guide["phones"]["complaint"]
    assert all(p["address"] and p["hours"] for p in guide["places"])
    assert guide["results"] and guide["conditions"]
    laws = {entry.get("item") for entry in guide["legal_basis"]}
    assert set(items) <= laws
    for item in items.values():
        assert item["statutory_workdays"] >= item["promised_workdays"] >= 1


def test_the_notice_is_a_20_day_interrupting_timer_on_a_paused_task() -> None:
    timer = nodes()["notice_expired"]
    assert timer.get("attachedToRef") == "public_notice"
    assert timer.get("cancelActivity") in (None, "true")
    duration = timer.find("bpmn:timerEventDefinition/bpmn:timeDuration", NS)
    assert duration is not None and duration.text == "P20D"
    for element in ("public_notice", "liquidation_check"):
        props = {
            p.get("name"): p.get("value")
            for p in nodes()[element].iterfind(".//camunda:property", NS)
        }
        assert props.get("clock") == "pause", element


def test_material_choices_follow_the_checklist() -> None:
    codes = [m["code"] for m in metadata()["materials"]]
    intake = json.loads((FORMS_DIR / "intake.json").read_text(encoding="utf-8"))
    props = intake["properties"]
    assert [c["const"] for c in props["missing_materials"]["items"]["oneOf"]] == codes
    correction = json.loads((FORMS_DIR / "correction.json").read_text(encoding="utf-8"))
    items = correction["properties"]["supplied_materials"]["items"]
    assert [c["const"] for c in items["oneOf"]] == codes
    decisions = [c["const"] for c in props["intake_decision"]["oneOf"]]
    assert decisions == ["accept", "correct", "refuse"]
    used = {
        d["intake_decision"] for _, steps, _ in cd.PATHS.values() for e, d in steps if e == "intake"
    }
    assert used == set(decisions)
    assert {end for _, _, end in cd.PATHS.values()} == set(cd.ENDS)


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
    start = Draft202012Validator(forms["company_deregistration/application.json"])
    applications = [a for a, _, _ in cd.PATHS.values()]
    applications += [{**cd.BASE, **changes} for changes, _ in cd.PROCEDURE_ROWS.values()]
    for application in applications:
        assert list(start.iter_errors(application)) == []
    for _, steps, _ in cd.PATHS.values():
        for element, data in steps:
            if element == cd.TIMER:
                continue
            form = forms[tasks[element].form]
            errors = list(Draft202012Validator(form).iter_errors(data))
            assert errors == [], (element, errors)


def test_certificate_numbers_match_their_patterns() -> None:
    import re

    items = {i["code"]: i for i in metadata()["items"]}
    numbers = {
        "deregistration": cd.ISSUANCE["dereg_notice_number"],
        "tax_clearance": cd.TAX_OK["tax_clearance_number"],
    }
    for code, number in numbers.items():
        assert re.fullmatch(items[code]["certificate"]["number_pattern"], number), code


def test_every_element_is_drawn_inside_its_lane() -> None:
    lanes = {}
    for lane in bpmn().iterfind(".//bpmn:lane", NS):
        for ref in (r.text for r in lane.iterfind("bpmn:flowNodeRef", NS)):
            assert ref not in lanes, f"{ref} is in two lanes"
            lanes[ref] = lane.get("id")
    placed = {n for n in nodes() if n != "notice_expired"}  # a boundary event sits on its task
    assert set(lanes) == placed
    for node, lane in lanes.items():
        x, y, w, h = box(node)
        lx, ly, lw, lh = box(lane)
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, node
    for a, b in itertools.combinations(placed, 2):
        ax, ay, aw, ah = box(a)
        bx, by, bw, bh = box(b)
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)
    tx, ty, tw, th = box("notice_expired")
    px, py, pw, ph = box("public_notice")
    assert px <= tx + tw / 2 <= px + pw and ty + th / 2 == py + ph  # on the task's bottom edge


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
        for s1 in itertools.pairwise(waypoints(f1)):
            for s2 in itertools.pairwise(waypoints(f2)):
                assert not _cross(s1, s2), f"{f1} crosses {f2}"


def test_the_procedure_table_has_one_rule_per_fixture_row() -> None:
    dmn = etree.parse(str(BUNDLE_DIR / "deregistration_procedure.dmn")).getroot()
    table = dmn.find(".//dmn:decision[@id='deregistration_procedure']/dmn:decisionTable", NS)
    assert table is not None and table.get("hitPolicy") == "FIRST"
    rules = [r.get("id") for r in table.iterfind("dmn:rule", NS)]
    assert rules == list(cd.PROCEDURE_ROWS)
    rule_task = nodes()["choose_procedure"]
    assert rule_task.get(f"{{{NS['camunda']}}}decisionRef") == "deregistration_procedure"
