"""Static checks of the 三级联办 bundle's files (processes/disability_allowance/,
forms/disability_allowance/): the forms follow the conventions of docs/bundles.md, the checklist
matches the intake forms, the guide has its entries, the village and town groups are named by the
application's choice and the DMN table covers every village, the certificates apply per item, and
the diagram is complete, inside its lanes, orthogonal and free of crossing flows."""

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
from tests.processes import diagram_geometry as diagram

KEY = "disability_allowance"
BUNDLE = PROCESSES / KEY
FORM_DIR = FORMS / KEY
NS = NSMAP
DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"
FORM_FILES = sorted(FORM_DIR.glob("*.json"))
VILLAGE_TASKS = {"intake", "correction", "village_verify", "publicity", "denial_notice"}


@cache
def tree() -> Any:
    return etree.parse(str(BUNDLE / f"{KEY}.bpmn"))


@cache
def metadata() -> dict[str, Any]:
    return dict(json.loads((BUNDLE / "bundle.json").read_text()))


@cache
def compiled() -> Any:
    return compile_bundle(from_path(BUNDLE), FormLibrary(FORMS))


def form(name: str) -> dict[str, Any]:
    return dict(json.loads((FORM_DIR / f"{name}.json").read_text()))


def test_the_bundle_compiles_without_problems() -> None:
    assert compiled().start_form == f"{KEY}/application.json"
    assert set(compiled().forms) == {f"{KEY}/{p.name}" for p in FORM_FILES}
    assert [w.message for w in compiled().warnings] == []


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


def test_the_checklist_matches_the_intake_choices() -> None:
    materials = {m["code"]: m for m in metadata()["materials"]}
    intake = form("intake")["properties"]
    missing = {o["const"]: o["title"] for o in intake["missing_materials"]["items"]["oneOf"]}
    assert missing == {code: m["name"] for code, m in materials.items()}
    assert not any(m["deferrable"] for m in materials.values())  # no 容缺 in the sources
    decisions = {o["const"] for o in intake["intake_decision"]["oneOf"]}
    assert decisions == {"accept", "correct", "refuse"}
    correction = form("correction")["properties"]["supplied_materials"]["items"]["oneOf"]
    assert {o["const"] for o in correction} == set(materials)


def test_the_guide_has_every_entry_and_fictional_contacts() -> None:
    guide = metadata()["guide"]
    assert set(guide) >= {
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
    assert all(p["address"] and p["hours"] for p in guide["places"])
    assert guide["phones"]["consult"].startswith("0571-8800")
    assert all(i["statutory_workdays"] and i["promised_workdays"] for i in metadata()["items"])


def test_the_village_and_town_groups_come_from_the_application_and_the_table() -> None:
    tasks = compiled().human_tasks
    for element in VILLAGE_TASKS:
        assert tasks[element].groups == ("${village_group}",), element
    assert tasks["town_review"].groups == ("${town_group}",)
    villages = [o["const"] for o in form("application")["properties"]["village_group"]["oneOf"]]
    table = etree.parse(str(BUNDLE / "village_town.dmn"))
    rules = {
        r.find(f"{DMN}inputEntry/{DMN}text").text.strip('"'): r.findall(f"{DMN}outputEntry")
        for r in table.iter(f"{DMN}rule")
    }
    assert sorted(rules) == sorted(villages)  # every village has its town, once (UNIQUE)
    towns = {outputs[0].find(f"{DMN}text").text.strip('"') for outputs in rules.values()}
    assert all(v.startswith("village_") for v in villages)
    assert towns == {"town_chengguan", "town_shimen"}


def test_each_level_has_its_limit_and_the_county_may_send_back() -> None:
    props = {e: t.properties for e, t in compiled().human_tasks.items()}
    for element in ("village_verify", "town_review", "federation_review", "civil_affairs_decision"):
        assert props[element]["time_limit"] == "5", element
    assert props["town_review"]["send_back"] == "village_verify"
    assert props["federation_review"]["send_back"] == "town_review"
    assert props["publicity"]["clock"] == "pause"
    assert props["publicity"]["time_limit"] == "5"  # its deadline is the day the 公示 ends
    assert props["joint_issuance"]["certificate_action"] == "issue"
    preliminary = metadata()["time_limits"]["preliminary"]
    assert (preliminary["starts_at"], preliminary["forwarded_at"]) == (
        "village_verify",
        "forward_to_county",
    )
    timer = tree().find(".//bpmn:boundaryEvent[@id='publicity_period']", NS)
    assert timer.get("attachedToRef") == "publicity"
    assert timer.find(".//bpmn:timeDuration", NS).text == "workdays(5)"


def test_each_allowance_is_a_certificate_of_its_own_issued_when_granted() -> None:
    items = {i["code"]: i for i in metadata()["items"]}
    decision = form("civil_affairs_decision")["properties"]
    application = form("application")["properties"]
    for code in ("living_allowance", "nursing_allowance"):
        item = items[code]
        assert item["applies_if"] == f"apply_{code} == true and {code}_granted != false"
        assert f"apply_{code}" in application and f"{code}_granted" in decision
        assert item["certificate"]["validity_years"] == 1
        fields = dict(item["certificate"]["fields"])
        assert fields["补贴标准(元/月)"] == f"{code}_amount" and f"{code}_amount" in decision


def test_every_element_and_flow_is_drawn_inside_its_lane() -> None:
    diagram.assert_drawn_inside_lanes(tree())
    main = diagram.process(tree())
    nodes = [n for n in main if n.get("id") and n.tag.rsplit("}", 1)[1] != "sequenceFlow"]
    nodes = [n for n in nodes if n.tag.rsplit("}", 1)[1] not in ("laneSet", "documentation")]
    refs = {r.text for r in main.iterfind(".//bpmn:flowNodeRef", NS)}
    assert refs == {n.get("id") for n in nodes if not n.tag.endswith("boundaryEvent")}


def test_shapes_never_overlap() -> None:
    shapes = diagram.shapes(tree())
    lanes = {lane.get("id") for lane in diagram.process(tree()).iterfind(".//bpmn:lane", NS)}
    boxes = {k: b for k, b in shapes.items() if k not in lanes and not k.endswith("participant")}
    boxes.pop("publicity_period")  # a boundary event sits on its task's border
    for (a, (ax, ay, aw, ah)), (b, (bx, by, bw, bh)) in itertools.combinations(boxes.items(), 2):
        apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
        assert apart, f"{a} overlaps {b}"


def test_flows_are_orthogonal_start_and_end_on_their_shapes_and_never_cross() -> None:
    diagram.assert_flows_orthogonal_and_uncrossed(tree())
