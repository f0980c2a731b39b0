"""Static checks of the "我要开餐馆" bundle: its BPMN, its diagram and its form schemas.

No engine runs here: these tests read the files a process designer ships
(processes/restaurant/ and forms/restaurant/) and check what an upload must
accept and what a modeler must be able to show.
"""

from __future__ import annotations

import ast
import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

ROOT = Path(__file__).parents[2]
BUNDLE_DIR = ROOT / "processes" / "restaurant"
BPMN_FILE = BUNDLE_DIR / "restaurant.bpmn"
BUNDLE_FILE = BUNDLE_DIR / "bundle.json"
FORMS_DIR = ROOT / "forms"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "camunda": CAMUNDA}

FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "scriptTask",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}

LANE_NAMES = ["综合窗口", "市场监管(营业执照)", "食品经营审查", "踏勘中心", "发证窗口"]

# userTask id -> (candidate group, lane name, form key)
EXPECTED_TASKS = {
    "intake": ("front_desk", "综合窗口", "restaurant/intake.json"),
    "correction": ("front_desk", "综合窗口", "restaurant/correction.json"),
    "review_licence": ("market_regulation", "市场监管(营业执照)", "restaurant/review_licence.json"),
    "review_food": ("food_safety", "食品经营审查", "restaurant/review_food.json"),
    "site_inspection": ("inspection", "踏勘中心", "restaurant/site_inspection.json"),
    "joint_issuance": ("issuance", "发证窗口", "restaurant/issuance.json"),
    "denial_notice": ("issuance", "发证窗口", "restaurant/denial_notice.json"),
    "supply_materials": ("front_desk", "综合窗口", "restaurant/supply_materials.json"),
    "commitment_approval": (
        "market_regulation",
        "市场监管(营业执照)",
        "restaurant/commitment_approval.json",
    ),
    "post_check": ("inspection", "踏勘中心", "restaurant/post_check.json"),
    "revocation": ("issuance", "发证窗口", "restaurant/revocation.json"),
}

# userTask id -> the extension properties (camunda:properties) the engine reads; others have none.
EXPECTED_PROPERTIES = {
    "supply_materials": {"clock": "pause", "time_limit": "supply_workdays"},
    "post_check": {"time_limit": "20"},
    "joint_issuance": {"certificate_action": "issue"},
    "revocation": {"certificate_action": "revoke"},
    # 退回 from either review goes to 一窗受理 only (issue 18 · 1)
    "review_licence": {"send_back": "intake"},
    "review_food": {"send_back": "intake"},
}

ENDS = {"refused", "concluded", "denied", "revoked"}
# End events that must stop every other branch (an open 容缺 supply task) when reached.
TERMINATING_ENDS = {"denied"}
ACCEPTING_DECISIONS = {"accept", "accept_with_gaps", "commitment"}


def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


@cache
def bundle() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(BUNDLE_FILE.read_text(encoding="utf-8"))
    return result


@cache
def tree() -> etree._ElementTree:
    return etree.parse(str(BPMN_FILE))


def root() -> etree._Element:
    return tree().getroot()


def process() -> etree._Element:
    matches = root().xpath("bpmn:process[@id=$pid]", namespaces=NS, pid=bundle()["process"])
    assert len(matches) == 1, f"no bpmn:process with id {bundle()['process']!r}"
    element: etree._Element = matches[0]
    return element


def flow_nodes() -> dict[str, etree._Element]:
    return {el.get("id"): el for el in process() if local_name(el) in FLOW_NODE_TAGS}


def sequence_flows() -> dict[str, etree._Element]:
    return {el.get("id"): el for el in process().findall(q("bpmn", "sequenceFlow"))}


def user_tasks() -> dict[str, etree._Element]:
    return {i: el for i, el in flow_nodes().items() if local_name(el) == "userTask"}


def lanes() -> dict[str, etree._Element]:
    return {el.get("id"): el for el in process().iter(q("bpmn", "lane"))}


def participant() -> etree._Element:
    matches = root().xpath("bpmn:collaboration/bpmn:participant", namespaces=NS)
    assert len(matches) == 1, "expected one collaboration with exactly one participant"
    element: etree._Element = matches[0]
    return element


def shapes() -> dict[str, etree._Element]:
    return {
        el.get("bpmnElement"): el for el in root().iterfind(".//bpmndi:BPMNShape", namespaces=NS)
    }


def edges() -> dict[str, etree._Element]:
    return {
        el.get("bpmnElement"): el for el in root().iterfind(".//bpmndi:BPMNEdge", namespaces=NS)
    }


def bounds_of(element_id: str) -> tuple[float, float, float, float]:
    shape = shapes()[element_id]
    b = shape.find(q("dc", "Bounds"))
    assert b is not None, f"shape of {element_id} has no dc:Bounds"
    return (float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))


def waypoints(flow_id: str) -> list[tuple[float, float]]:
    edge = edges()[flow_id]
    return [(float(w.get("x")), float(w.get("y"))) for w in edge.findall(q("di", "waypoint"))]


def form_key(element: etree._Element) -> str | None:
    return element.get(q("camunda", "formKey"))


def task_properties(element: etree._Element) -> dict[str, str]:
    props = element.xpath(
        "bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS
    )
    return {prop.get("name"): prop.get("value") for prop in props}


@cache
def form_schema(key: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS_DIR / key).read_text(encoding="utf-8"))
    return schema


def lane_of() -> dict[str, str]:
    """flow node id -> lane name (from bpmn:flowNodeRef)."""
    result: dict[str, str] = {}
    for lane in lanes().values():
        for ref in lane.findall(q("bpmn", "flowNodeRef")):
            assert ref.text not in result, f"{ref.text} is in two lanes"
            result[ref.text] = lane.get("name")
    return result


# --------------------------------------------------------------------------------------------
# bundle.json


def test_bundle_metadata() -> None:
    data = bundle()
    assert data["key"] == "restaurant"
    assert data["name"] == "我要开餐馆"
    assert isinstance(data["description"], str) and data["description"].strip()
    assert [(i["code"], i["name"], i["department"]) for i in data["items"]] == [
        ("business_licence", "营业执照", "市场监管局"),
        ("food_permit", "食品经营许可证", "市场监管局(食品经营)"),
    ]
    assert [(i["statutory_workdays"], i["promised_workdays"]) for i in data["items"]] == [
        (15, 3),
        (20, 7),
    ]
    for item in data["items"]:
        assert 0 < item["promised_workdays"] <= item["statutory_workdays"], item["code"]
    assert data["issuer"] == "杭州市上城区市场监督管理局"
    # Chinese text is stored as-is, 2-space indented.
    text = BUNDLE_FILE.read_text(encoding="utf-8")
    assert "\\u" not in text and "我要开餐馆" in text
    assert text == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_bundle_process_is_the_executable_process_of_the_pool() -> None:
    proc = process()
    assert proc.get("isExecutable") == "true"
    assert participant().get("processRef") == bundle()["process"]
    assert participant().get("name") == "我要开餐馆 证照联办"
    executable = root().xpath("bpmn:process[@isExecutable='true']/@id", namespaces=NS)
    assert executable == [bundle()["process"]]


# --------------------------------------------------------------------------------------------
# BPMN: well-formed, XSD-valid, parsed by SpiffWorkflow


def test_bpmn_is_well_formed_utf8_with_expected_namespaces() -> None:
    raw = BPMN_FILE.read_bytes()
    raw.decode("utf-8")
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    doc = etree.fromstring(raw)
    assert doc.tag == q("bpmn", "definitions")
    for prefix, uri in NS.items():
        assert doc.nsmap.get(prefix) == uri, prefix


def test_bpmn_is_valid_against_spiffworkflow_xsd() -> None:
    BpmnValidator().validate(copy.deepcopy(tree()), str(BPMN_FILE))


def test_xsd_validator_is_a_real_check() -> None:
    """The same validator rejects this file once a sequence flow loses its targetRef."""
    broken = copy.deepcopy(tree())
    flow = broken.getroot().find(f".//{q('bpmn', 'sequenceFlow')}")
    assert flow is not None
    del flow.attrib["targetRef"]
    with pytest.raises(ValidationException):
        BpmnValidator().validate(broken, str(BPMN_FILE))


def test_camunda_parser_finds_the_main_process() -> None:
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    process_id = bundle()["process"]
    assert process_id in parser.get_process_ids()
    spec = parser.get_spec(process_id)
    for task_id, (_group, lane, key) in EXPECTED_TASKS.items():
        task_spec = spec.task_specs[task_id]
        assert task_spec.form.key == key
        assert task_spec.lane == lane
    assert spec.task_specs["submitted"].lane == "综合窗口"


# --------------------------------------------------------------------------------------------
# The process model


def test_no_scripts_or_listeners() -> None:
    assert not root().xpath(".//bpmn:scriptTask | .//bpmn:script", namespaces=NS)
    assert not root().xpath(
        ".//camunda:executionListener | .//camunda:taskListener | .//camunda:script",
        namespaces=NS,
    )


def test_lanes_cover_every_flow_node_once() -> None:
    assert [lane.get("name") for lane in lanes().values()] == LANE_NAMES
    assert set(lane_of()) == set(flow_nodes())


def test_user_tasks_have_group_form_and_lane() -> None:
    tasks = user_tasks()
    assert set(tasks) == set(EXPECTED_TASKS)
    where = lane_of()
    for task_id, element in tasks.items():
        group, lane, key = EXPECTED_TASKS[task_id]
        assert element.get(q("camunda", "candidateGroups")) == group, task_id
        assert form_key(element) == key, task_id
        assert where[task_id] == lane, task_id
        assert element.get("name"), task_id


def test_form_keys_resolve_to_valid_draft_2020_12_schemas() -> None:
    keyed = [el for el in flow_nodes().values() if form_key(el)]
    start_events = [el for el in flow_nodes().values() if local_name(el) == "startEvent"]
    assert len(start_events) == 1
    assert form_key(start_events[0]) == "restaurant/application.json"
    for element in keyed:
        key = form_key(element)
        assert key is not None
        path = FORMS_DIR / key
        assert path.is_file(), f"{element.get('id')}: form {key} not found under forms/"
        schema = form_schema(key)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_form_file_is_a_labelled_object_schema() -> None:
    files = sorted((FORMS_DIR / "restaurant").glob("*.json"))
    referenced = {form_key(el) for el in flow_nodes().values()} - {None}
    assert {f"restaurant/{p.name}" for p in files} == referenced
    for path in files:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", path.name
        assert schema["title"], path.name
        assert schema["additionalProperties"] is True, path.name
        assert schema["required"], path.name
        assert set(schema["required"]) <= set(schema["properties"]), path.name
        for name, prop in schema["properties"].items():
            assert prop.get("title"), f"{path.name}: {name} has no title"
            assert "enum" not in prop, f"{path.name}: {name}: write enums as oneOf/const/title"
            for option in prop.get("oneOf", []):
                assert set(option) == {"const", "title"}, f"{path.name}: {name}"
            if prop.get("type") == "string" and "format" not in prop and "oneOf" not in prop:
                assert "maxLength" in prop, f"{path.name}: {name} has no maxLength"


def test_application_form_checks_applicant_data() -> None:
    validator = Draft202012Validator(form_schema("restaurant/application.json"))
    good = {
        "applicant_name": "何为民",
        "applicant_id_number": "92510114MA6DXXXX0Q",
        "shop_name": "何记川菜馆",
        "shop_address": "成都市新都区新都大道1号",
        "business_scope": "热食类食品制售",
        "premises_area_m2": 80,
        "contact_phone": "13912345678",
    }
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({**good, "applicant_id_number": "51011419800101123X"})) == []
    agent = {"agent_name": "李代办", "agent_id_number": "510114199001011234"}
    assert list(validator.iter_errors({**good, **agent})) == []
    assert list(validator.iter_errors({**good, **agent, "agent_phone": "13800138000"})) == []
    # 帮办代办: a helper is recorded with an identity document, never by name alone.
    errors = list(validator.iter_errors({**good, "agent_name": "李代办"}))
    assert [e.validator for e in errors] == ["dependentRequired"]
    for bad in (
        {"applicant_id_number": "12345"},
        {"contact_phone": "0281234567"},
        {"premises_area_m2": 0},
        {**agent, "agent_id_number": "12345"},
        {**agent, "agent_phone": "0281234567"},
    ):
        assert list(validator.iter_errors({**good, **bad})), bad
    missing = dict(good)
    del missing["shop_address"]
    assert list(validator.iter_errors(missing))


# --------------------------------------------------------------------------------------------
# Diagram interchange


def test_every_element_has_diagram_interchange() -> None:
    planes = root().xpath("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", namespaces=NS)
    assert len(planes) == 1
    collaboration = root().find(q("bpmn", "collaboration"))
    assert collaboration is not None
    assert planes[0].get("bpmnElement") == collaboration.get("id")

    all_shapes = shapes()
    needing_shape = [*flow_nodes(), *lanes(), participant().get("id")]
    for element_id in needing_shape:
        assert element_id in all_shapes, f"no BPMNShape for {element_id}"
        x, y, width, height = bounds_of(element_id)
        assert width > 0 and height > 0, element_id
    for element_id in [*lanes(), participant().get("id")]:
        assert all_shapes[element_id].get("isHorizontal") == "true", element_id

    all_edges = edges()
    for flow_id in sequence_flows():
        assert flow_id in all_edges, f"no BPMNEdge for {flow_id}"
        assert len(waypoints(flow_id)) >= 2, flow_id


def _on_border(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    px, py = point
    x, y, width, height = box
    tol = 1.0
    inside = x - tol <= px <= x + width + tol and y - tol <= py <= y + height + tol
    near_edge = min(abs(px - x), abs(px - x - width), abs(py - y), abs(py - y - height)) <= tol
    return inside and near_edge


def test_edges_are_orthogonal_and_touch_their_shapes() -> None:
    for flow_id, flow in sequence_flows().items():
        points = waypoints(flow_id)
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow_id} has a diagonal segment"
        source, target = bounds_of(flow.get("sourceRef")), bounds_of(flow.get("targetRef"))
        # Events and gateways are round/diamond: accept a point on their bounding box.
        assert _on_border(points[0], source), f"{flow_id} does not start at its source"
        assert _on_border(points[-1], target), f"{flow_id} does not end at its target"


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def test_layout_is_tidy() -> None:
    """No two flow nodes overlap; each sits inside its lane; lanes stack inside the pool."""
    nodes = list(flow_nodes())
    for a, b in itertools.combinations(nodes, 2):
        assert not _overlap(bounds_of(a), bounds_of(b)), f"{a} overlaps {b}"

    px, py, pw, ph = bounds_of(participant().get("id"))
    lane_boxes = {lane.get("name"): bounds_of(lane_id) for lane_id, lane in lanes().items()}
    ordered = sorted(lane_boxes.values(), key=lambda box: box[1])
    assert ordered[0][1] == py and ordered[-1][1] + ordered[-1][3] == py + ph
    for upper, lower in itertools.pairwise(ordered):
        assert upper[1] + upper[3] == lower[1], "lanes must stack without gaps"
    for lx, _ly, lw, _lh in ordered:
        assert px < lx and lx + lw == px + pw

    where = lane_of()
    for node in nodes:
        nx, ny, nw, nh = bounds_of(node)
        lx, ly, lw, lh = lane_boxes[where[node]]
        assert lx < nx and nx + nw <= lx + lw and ly <= ny and ny + nh <= ly + lh, (
            f"{node} is drawn outside its lane {where[node]}"
        )

    # Named gateways and events carry a label placed in the diagram.
    for node_id, element in flow_nodes().items():
        if element.get("name") and local_name(element) != "userTask":
            label = shapes()[node_id].find(q("bpmndi", "BPMNLabel"))
            assert label is not None and label.find(q("dc", "Bounds")) is not None, node_id


# --------------------------------------------------------------------------------------------
# Conditions: a restricted Python expression, reading only data guaranteed on that path

ALLOWED_AST = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.Gt,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
)


def conditions() -> dict[str, str]:
    result = {}
    for flow_id, flow in sequence_flows().items():
        cond = flow.find(q("bpmn", "conditionExpression"))
        if cond is not None:
            assert cond.get(f"{{{XSI}}}type") == "bpmn:tFormalExpression", flow_id
            assert cond.text and cond.text.strip(), flow_id
            result[flow_id] = cond.text.strip()
    return result


def names_read(expression: str) -> set[str]:
    tree_ = ast.parse(expression, mode="eval")
    for node in ast.walk(tree_):
        assert isinstance(node, ALLOWED_AST), f"{expression!r}: {type(node).__name__} not allowed"
    return {node.id for node in ast.walk(tree_) if isinstance(node, ast.Name)}


def provided_names(element: etree._Element) -> set[str]:
    """Names a node's form always sets (its top-level `required`)."""
    key = form_key(element)
    return set(form_schema(key)["required"]) if key else set()


def guaranteed_names() -> dict[str, set[str]]:
    """For each flow node, the names set on every path from the start event to it."""
    nodes = flow_nodes()
    flows = sequence_flows().values()
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for flow in flows:
        preds[flow.get("targetRef")].append(flow.get("sourceRef"))
    universe = set().union(*(provided_names(el) for el in nodes.values()))
    before = {n: (set() if not preds[n] else set(universe)) for n in nodes}
    changed = True
    while changed:
        changed = False
        for node_id, element in nodes.items():
            if not preds[node_id]:
                continue
            after_preds = [before[p] | provided_names(nodes[p]) for p in preds[node_id]]
            is_join = local_name(element) == "parallelGateway" and len(preds[node_id]) > 1
            merged = set().union(*after_preds) if is_join else set.intersection(*after_preds)
            if merged != before[node_id]:
                before[node_id] = merged
                changed = True
    return before


def property_schema(name: str) -> dict[str, Any]:
    found = [
        form_schema(key)["properties"][name]
        for key in {form_key(el) for el in flow_nodes().values()} - {None}
        if name in form_schema(key)["properties"]
    ]
    assert len(found) == 1, f"{name} must be defined by exactly one form"
    return found[0]


def domain(name: str) -> list[Any]:
    prop = property_schema(name)
    if "oneOf" in prop:
        return [option["const"] for option in prop["oneOf"]]
    assert prop.get("type") == "boolean", f"{name}: conditions may only read enums and booleans"
    return [True, False]


def test_conditions_use_the_expression_subset_and_guaranteed_names() -> None:
    guaranteed = guaranteed_names()
    flows = sequence_flows()
    conds = conditions()
    assert conds, "the process routes on data"
    for flow_id, expression in conds.items():
        source = flows[flow_id].get("sourceRef")
        missing = names_read(expression) - guaranteed[source]
        assert not missing, f"{flow_id}: {sorted(missing)} may be unset when reaching {source}"


def test_gateways_route_every_case_exactly_one_way() -> None:
    """Every exclusive gateway: each outgoing flow has a condition or is the default, and for
    every combination of the form values its conditions read, at most one condition holds;
    when none holds there is a default flow."""
    conds = conditions()
    for gateway_id, gateway in flow_nodes().items():
        outgoing = [f for f in sequence_flows().values() if f.get("sourceRef") == gateway_id]
        if local_name(gateway) != "exclusiveGateway" or len(outgoing) < 2:
            continue
        default = gateway.get("default")
        exprs = []
        for flow in outgoing:
            if flow.get("id") == default:
                assert flow.get("id") not in conds, f"default flow {default} has a condition"
            else:
                assert flow.get("id") in conds, f"{flow.get('id')} has no condition"
                exprs.append(conds[flow.get("id")])
        read = sorted(set().union(*(names_read(e) for e in exprs)))
        for values in itertools.product(*(domain(n) for n in read)):
            env = dict(zip(read, values, strict=True))
            code = [compile(ast.parse(e, mode="eval"), "<condition>", "eval") for e in exprs]
            taken = sum(bool(eval(c, {"__builtins__": {}}, env)) for c in code)
            assert taken <= 1, f"{gateway_id}: {env} matches {taken} conditions"
            assert taken == 1 or default, f"{gateway_id}: no flow for {env}"


def test_process_reaches_each_outcome() -> None:
    """Start, the intake 补正 loop, and the four ends are all wired up."""
    nodes = flow_nodes()
    kinds = {i: local_name(el) for i, el in nodes.items()}
    ends = {i for i, k in kinds.items() if k == "endEvent"}
    assert ends == ENDS
    successors: dict[str, set[str]] = {n: set() for n in nodes}
    for flow in sequence_flows().values():
        successors[flow.get("sourceRef")].add(flow.get("targetRef"))

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(successors[node])
        return seen

    assert reachable("submitted") == set(nodes)
    assert "intake" in reachable("correction"), "补正 must lead back to intake"
    for node in nodes:
        assert reachable(node) & ends, f"{node} cannot reach an end event"


# --------------------------------------------------------------------------------------------
# 政务 rules: task properties, terminate ends, time limits, the materials checklist, certificates


def test_task_properties() -> None:
    for task_id, element in user_tasks().items():
        assert task_properties(element) == EXPECTED_PROPERTIES.get(task_id, {}), task_id


def test_time_limit_properties_name_a_number_or_an_integer_field() -> None:
    """`time_limit` is a number of working days, or an integer field the intake form requires
    whenever the task can open (容缺受理 requires `supply_workdays`)."""
    for task_id, props in EXPECTED_PROPERTIES.items():
        limit = props.get("time_limit")
        if limit is None or limit.isdigit():
            continue
        prop = property_schema(limit)
        assert prop["type"] == "integer" and prop["minimum"] >= 1, task_id
    intake_form = form_schema("restaurant/intake.json")
    gaps_rule = next(
        rule["then"]
        for rule in intake_form["allOf"]
        if rule["if"]["properties"]["intake_decision"]["const"] == "accept_with_gaps"
    )
    assert {"deferred_materials", "supply_workdays"} <= set(gaps_rule["required"])
    assert (
        intake_form["properties"]["supply_workdays"]["minimum"],
        intake_form["properties"]["supply_workdays"]["maximum"],
    ) == (1, 30)


def test_only_the_denial_end_terminates() -> None:
    for end_id in ENDS:
        element = flow_nodes()[end_id]
        terminate = element.findall(q("bpmn", "terminateEventDefinition"))
        assert len(terminate) == (1 if end_id in TERMINATING_ENDS else 0), end_id


def test_parallel_gateways_have_no_conditions() -> None:
    conds = conditions()
    for gateway_id, gateway in flow_nodes().items():
        if local_name(gateway) != "parallelGateway":
            continue
        outgoing = [f for f in sequence_flows().values() if f.get("sourceRef") == gateway_id]
        assert not [f.get("id") for f in outgoing if f.get("id") in conds], gateway_id


def _successors() -> dict[str, set[str]]:
    result: dict[str, set[str]] = {n: set() for n in flow_nodes()}
    for flow in sequence_flows().values():
        result[flow.get("sourceRef")].add(flow.get("targetRef"))
    return result


def _reachable(start: str, stop: set[str]) -> set[str]:
    successors, seen, todo = _successors(), set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            if node not in stop:
                todo.extend(successors[node])
    return seen


def test_time_limits_start_at_acceptance() -> None:
    """`starts_at` (受理) is reached after every accepting intake decision and never after 补正
    or 不予受理 (before the case comes back to intake)."""
    limits = bundle()["time_limits"]
    assert limits == {
        "starts_at": limits["starts_at"],
        "warning_workdays": 2,
        "escalation_group": "supervisors",
    }
    starts_at = limits["starts_at"]
    assert starts_at in flow_nodes()
    intake = bundle()["intake"]
    gateway = next(
        f.get("targetRef")
        for f in sequence_flows().values()
        if f.get("sourceRef") == intake["element"]
    )
    conds = conditions()
    outgoing = [f for f in sequence_flows().values() if f.get("sourceRef") == gateway]
    for decision in domain(intake["decision_field"]):
        env = {intake["decision_field"]: decision}
        taken = [
            f.get("targetRef")
            for f in outgoing
            if eval(
                compile(ast.parse(conds[f.get("id")], mode="eval"), "<c>", "eval"),
                {"__builtins__": {}},
                env,
            )
        ]
        assert len(taken) == 1, decision
        reached = _reachable(taken[0], stop={intake["element"]})
        assert (starts_at in reached) == (decision in ACCEPTING_DECISIONS), decision


def test_intake_metadata_names_real_elements_and_fields() -> None:
    intake = bundle()["intake"]
    assert intake == {
        "element": "intake",
        "decision_field": "intake_decision",
        "missing_field": "missing_materials",
        "correction_element": "correction",
    }
    tasks = user_tasks()
    assert intake["element"] in tasks and intake["correction_element"] in tasks
    intake_form = form_schema(form_key(tasks[intake["element"]]) or "")
    assert {intake["decision_field"], intake["missing_field"]} <= set(intake_form["properties"])
    assert domain(intake["decision_field"]) == [
        "accept",
        "correct",
        "refuse",
        "accept_with_gaps",
        "commitment",
    ]


def test_applicant_metadata_names_application_fields() -> None:
    application = form_schema("restaurant/application.json")
    applicant = bundle()["applicant"]
    assert applicant == {
        "name_field": "applicant_name",
        "id_field": "applicant_id_number",
        "agent_field": "agent_name",
        "holder_field": "shop_name",
        "phone_field": "contact_phone",
    }
    for key, field in applicant.items():
        assert field in application["properties"], key
        if key != "agent_field":
            assert field in application["required"], key
    assert application["dependentRequired"] == {"agent_name": ["agent_id_number"]}
    assert "agent_phone" in application["properties"]


def materials() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = bundle()["materials"]
    return result


def test_materials_checklist() -> None:
    checklist = materials()
    assert 8 <= len(checklist) <= 15
    for material in checklist:
        assert set(material) == {"code", "name", "required", "deferrable", "note"}, material
        assert material["code"].isidentifier() and material["code"].isascii()
        assert material["name"].strip() and isinstance(material["note"], str)
        assert isinstance(material["required"], bool) and isinstance(material["deferrable"], bool)
        # 容缺 only for a material the case needs, and never for an optional one.
        assert material["required"] or not material["deferrable"], material["code"]
    codes = [m["code"] for m in checklist]
    assert len(set(codes)) == len(codes), "material codes must be unique"
    names = [m["name"] for m in checklist]
    assert len(set(names)) == len(names), "material names must be unique"
    deferrable = {m["code"] for m in checklist if m["deferrable"]}
    assert deferrable and deferrable <= set(codes)
    assert deferrable == {"health_certificates", "equipment_layout", "safety_manager_proof"}
    # Key materials (申请书, 身份证明, 经营场所) can never be deferred.
    for key in ("application_form", "identity_proof", "premises_proof"):
        assert key in codes and key not in deferrable


def _item_codes(form: str, field: str) -> list[str]:
    prop = form_schema(form)["properties"][field]
    assert prop["type"] == "array" and prop["uniqueItems"] is True, (form, field)
    items = prop["items"]
    assert items["type"] == "string" and "enum" not in items, (form, field)
    for option in items["oneOf"]:
        assert set(option) == {"const", "title"}, (form, field)
    return [option["const"] for option in items["oneOf"]]


def test_material_fields_offer_exactly_the_checklist() -> None:
    """Every material list in a form offers the checklist's codes, labelled with its names."""
    names = {m["code"]: m["name"] for m in materials()}
    every = [m["code"] for m in materials()]
    deferrable = [m["code"] for m in materials() if m["deferrable"]]
    expected = {
        ("restaurant/intake.json", "missing_materials"): every,
        ("restaurant/intake.json", "deferred_materials"): deferrable,
        ("restaurant/correction.json", "supplied_materials"): every,
        ("restaurant/supply_materials.json", "supplied_materials"): deferrable,
    }
    for (form, field), codes in expected.items():
        assert _item_codes(form, field) == codes, (form, field)
        titles = form_schema(form)["properties"][field]["items"]["oneOf"]
        assert all(option["title"] == names[option["const"]] for option in titles)


def test_intake_form_rules() -> None:
    validator = Draft202012Validator(form_schema("restaurant/intake.json"))

    def ok(data: dict[str, Any]) -> bool:
        return not list(validator.iter_errors(data))

    gaps = {
        "intake_decision": "accept_with_gaps",
        "deferred_materials": ["health_certificates"],
        "supply_workdays": 10,
    }
    assert ok({"intake_decision": "accept"})
    assert ok({"intake_decision": "commitment"})
    assert ok(gaps)
    assert ok({"intake_decision": "correct", "missing_materials": ["floor_plan", "premises_proof"]})
    assert ok({"intake_decision": "refuse", "intake_opinion": "不属于受理范围"})
    for bad in (
        {**gaps, "deferred_materials": []},
        {**gaps, "deferred_materials": ["premises_proof"]},  # not deferrable
        {**gaps, "deferred_materials": ["health_certificates", "health_certificates"]},
        {**gaps, "supply_workdays": 0},
        {**gaps, "supply_workdays": 31},
        {**gaps, "supply_workdays": 2.5},
        {k: v for k, v in gaps.items() if k != "supply_workdays"},
        {k: v for k, v in gaps.items() if k != "deferred_materials"},
        {"intake_decision": "correct"},
        {"intake_decision": "correct", "missing_materials": []},
        {"intake_decision": "correct", "missing_materials": ["租赁合同"]},  # a name, not a code
        {"intake_decision": "refuse"},
        {"intake_decision": "maybe"},
    ):
        assert not ok(bad), bad


def test_commitment_and_post_check_forms() -> None:
    approval = Draft202012Validator(form_schema("restaurant/commitment_approval.json"))
    signed = {"commitment_signed": True, "commitment_text": "本人承诺", "approval_opinion": "同意"}
    assert not list(approval.iter_errors(signed))
    assert list(approval.iter_errors({**signed, "commitment_signed": False}))
    assert list(approval.iter_errors({k: v for k, v in signed.items() if k != "commitment_text"}))

    check = Draft202012Validator(form_schema("restaurant/post_check.json"))
    assert not list(check.iter_errors({"check_passed": True, "check_method": "video"}))
    assert list(check.iter_errors({"check_passed": False, "check_method": "onsite"}))
    assert not list(
        check.iter_errors({"check_passed": False, "check_method": "onsite", "check_report": "不符"})
    )
    assert list(check.iter_errors({"check_passed": True, "check_method": "drone"}))

    revocation = Draft202012Validator(form_schema("restaurant/revocation.json"))
    assert list(revocation.iter_errors({}))
    assert list(revocation.iter_errors({"revocation_reason": ""}))


def all_form_fields() -> set[str]:
    keys = {form_key(el) for el in flow_nodes().values()} - {None}
    return {name for key in keys for name in form_schema(key or "")["properties"]}


def test_certificates_read_fields_the_forms_set() -> None:
    """Each item issues one certificate; its number and every printed field come from a form;
    the number is required by the 统一发证 form (the task with certificate_action=issue)."""
    fields = all_form_fields()
    issuing = [t for t, p in EXPECTED_PROPERTIES.items() if p.get("certificate_action") == "issue"]
    assert issuing == ["joint_issuance"]
    issuance_form = form_schema(form_key(user_tasks()["joint_issuance"]) or "")
    expected = {
        "business_licence": ("营业执照", "licence_number", None),
        "food_permit": ("食品经营许可证", "permit_number", 5),
    }
    for item in bundle()["items"]:
        certificate = item["certificate"]
        assert set(certificate) == {
            "title",
            "number_field",
            "number_pattern",
            "validity_years",
            "fields",
        }
        title, number_field, years = expected[item["code"]]
        assert (certificate["title"], certificate["number_field"]) == (title, number_field)
        assert certificate["validity_years"] == years
        assert number_field in issuance_form["required"], number_field
        # the form checks the same format as 统一发证 (the form's pattern is anchored)
        form_pattern = issuance_form["properties"][number_field]["pattern"]
        assert form_pattern == "^" + certificate["number_pattern"] + "$"
        assert certificate["fields"], item["code"]
        labels = [label for label, _field in certificate["fields"]]
        assert len(set(labels)) == len(labels), item["code"]
        for pair in certificate["fields"]:
            assert len(pair) == 2 and pair[0].strip(), pair
            assert pair[1] in fields, f"{item['code']}: no form sets {pair[1]}"
        # Everything printed is always there: required by the start form.
        application = form_schema("restaurant/application.json")
        assert {f for _label, f in certificate["fields"]} <= set(application["required"])
