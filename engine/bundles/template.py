"""The blank bundle a designer starts from in the editor: 一窗受理 → 并联审批 → 统一发证.

`blank_template(key, name)` gives the files of a complete, valid bundle (bundle.json, the BPMN
with its diagram, a form for the start event and for each task) that the editor opens and the
designer changes; it passes every upload check as it is (tests/unit/test_bundle_template.py).
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import quoteattr

from engine.errors import Invalid

from .metadata import KEY_PATTERN, METADATA_FILE

MAX_NAME = 200

# (element id, name, group, form file, lane label) of the tasks, in flow order
_INTAKE = ("intake", "一窗受理", "front_desk", "intake.json")
_REVIEWS = (
    ("review_a", "部门甲审查", "market_regulation", "review_a.json"),
    ("review_b", "部门乙审查", "food_safety", "review_b.json"),
)
_ISSUE = ("issuance", "统一发证", "issuance", "issuance.json")


def check_key_and_name(key: str, name: str) -> None:
    """The key rule the deploy applies (bundle.json's schema) and a name; 422 in Chinese."""
    errors = []
    if not re.fullmatch(KEY_PATTERN, key or ""):
        errors.append(
            {
                "message": "事项编码只能由字母、数字和 _ . - 组成, 以字母或数字开头, "
                "最多 64 个字符",
                "element": "key",
                "file": METADATA_FILE,
                "line": None,
            }
        )
    if not (name or "").strip() or len(name) > MAX_NAME:
        errors.append(
            {
                "message": f"事项名称不能为空, 最多 {MAX_NAME} 个字符",
                "element": "name",
                "file": METADATA_FILE,
                "line": None,
            }
        )
    if errors:
        raise Invalid("事项编码或名称不符合要求", errors)


def process_id(key: str) -> str:
    """An XML id (NCName) for the main process of `key`."""
    return "process_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


def _text(label: str, max_length: int = 200, **more: Any) -> dict[str, Any]:
    return {"type": "string", "title": label, "minLength": 1, "maxLength": max_length, **more}


def _form(title: str, description: str, fields: dict[str, Any], required: list[str]) -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "object",
        "properties": fields,
        "required": required,
        "additionalProperties": False,
    }
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def _forms(key: str) -> dict[str, str]:
    base = f"forms/{key}/"
    application = _form(
        "申请表",
        "申请人填写的基本信息。",
        {
            "applicant_name": _text("申请人姓名(名称)", 100),
            "applicant_id_number": _text("身份证号码或统一社会信用代码", 18, minLength=18),
            "contact_phone": _text("联系电话", 20, pattern="^[0-9+-]{7,20}$"),
            "address": _text("地址"),
            "request": _text("申请事项说明", 1000),
        },
        ["applicant_name", "applicant_id_number", "contact_phone"],
    )
    intake = _form(
        "一窗受理",
        "综合窗口核对申请材料, 填写受理意见。",
        {
            "materials_checked": {"type": "boolean", "title": "材料已核对齐全"},
            "intake_opinion": _text("受理意见", 500),
        },
        ["materials_checked", "intake_opinion"],
    )
    forms = {
        f"{base}application.json": application,
        f"{base}{_INTAKE[3]}": intake,
    }
    for element, label, _, file in _REVIEWS:
        forms[base + file] = _form(
            label,
            "审查部门填写审查意见。",
            {f"{element}_opinion": _text("审查意见", 1000)},
            [f"{element}_opinion"],
        )
    forms[base + _ISSUE[3]] = _form(
        "统一发证",
        "发证窗口统一送达办理结果。",
        {"issue_note": _text("送达说明", 500)},
        ["issue_note"],
    )
    return forms


def _bundle_json(key: str, name: str) -> str:
    meta = {
        "key": key,
        "name": name,
        "process": process_id(key),
        "description": f"{name}: 一窗受理, 两个部门并联审批, 统一发证。",
        "items": [
            {
                "code": "item_a",
                "name": "事项甲",
                "department": "部门甲",
                "statutory_workdays": 20,
                "promised_workdays": 10,
            },
            {
                "code": "item_b",
                "name": "事项乙",
                "department": "部门乙",
                "statutory_workdays": 20,
                "promised_workdays": 10,
            },
        ],
        "time_limits": {"starts_at": _INTAKE[0], "warning_workdays": 2},
        "materials": [
            {"code": "application_form", "name": "申请表", "required": True, "deferrable": False},
            {
                "code": "identity_proof",
                "name": "申请人身份证明",
                "required": True,
                "deferrable": False,
            },
        ],
        "applicant": {
            "name_field": "applicant_name",
            "id_field": "applicant_id_number",
            "phone_field": "contact_phone",
        },
    }
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"


# Diagram layout: (x, y, width, height) of each shape
_SHAPES = {
    "start": (152, 232, 36, 36),
    "intake": (250, 210, 100, 80),
    "split": (415, 225, 50, 50),
    "review_a": (530, 110, 100, 80),
    "review_b": (530, 310, 100, 80),
    "join": (695, 225, 50, 50),
    "issuance": (810, 210, 100, 80),
    "end": (982, 232, 36, 36),
}
_FLOWS = (
    ("flow_start", "start", "intake"),
    ("flow_intake", "intake", "split"),
    ("flow_split_a", "split", "review_a"),
    ("flow_split_b", "split", "review_b"),
    ("flow_a_join", "review_a", "join"),
    ("flow_b_join", "review_b", "join"),
    ("flow_join", "join", "issuance"),
    ("flow_end", "issuance", "end"),
)


def _waypoints(source: str, target: str) -> list[tuple[int, int]]:
    sx, sy, sw, sh = _SHAPES[source]
    tx, ty, tw, th = _SHAPES[target]
    start = (sx + sw, sy + sh // 2)
    end = (tx, ty + th // 2)
    if start[1] == end[1]:
        return [start, end]
    if source == "split":  # leave the gateway at its top or bottom corner
        corner = (sx + sw // 2, sy if end[1] < start[1] else sy + sh)
        return [corner, (corner[0], end[1]), end]
    # into the join from above or below
    corner = (tx + tw // 2, ty if start[1] < end[1] else ty + th)
    return [start, (corner[0], start[1]), corner]


def _bpmn(key: str, name: str) -> str:
    pid = process_id(key)
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow, source, target in _FLOWS:
        outgoing.setdefault(source, []).append(flow)
        incoming.setdefault(target, []).append(flow)

    def refs(element: str) -> str:
        lines = [f"      <bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(element, [])]
        lines += [f"      <bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(element, [])]
        return "\n".join(lines)

    def task(element: str, label: str, group: str, form: str) -> str:
        return (
            f'    <bpmn:userTask id="{element}" name="{label}" '
            f'camunda:candidateGroups="{group}" camunda:formKey="{key}/{form}">\n'
            f"{refs(element)}\n    </bpmn:userTask>"
        )

    nodes = [
        f'    <bpmn:startEvent id="start" name="申请提交" camunda:formKey="{key}/application.json">'
        f"\n{refs('start')}\n    </bpmn:startEvent>",
        task(*_INTAKE),
        f'    <bpmn:parallelGateway id="split" name="并联审批">\n{refs("split")}\n'
        "    </bpmn:parallelGateway>",
        *(task(*review) for review in _REVIEWS),
        f'    <bpmn:parallelGateway id="join" name="审批完成">\n{refs("join")}\n'
        "    </bpmn:parallelGateway>",
        task(*_ISSUE),
        f'    <bpmn:endEvent id="end" name="办结">\n{refs("end")}\n    </bpmn:endEvent>',
    ]
    flows = [
        f'    <bpmn:sequenceFlow id="{f}" sourceRef="{s}" targetRef="{t}" />' for f, s, t in _FLOWS
    ]
    shapes = []
    for element, (x, y, w, h) in _SHAPES.items():
        shapes.append(
            f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}">\n'
            f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />\n'
            "      </bpmndi:BPMNShape>"
        )
    edges = []
    for flow, source, target in _FLOWS:
        points = "\n".join(
            f'        <di:waypoint x="{x}" y="{y}" />' for x, y in _waypoints(source, target)
        )
        edges.append(
            f'      <bpmndi:BPMNEdge id="{flow}_di" bpmnElement="{flow}">\n{points}\n'
            "      </bpmndi:BPMNEdge>"
        )
    body = "\n".join(nodes + flows)
    di = "\n".join(shapes + edges)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" \
xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" \
xmlns:camunda="http://camunda.org/schema/1.0/bpmn" \
id="{pid}_definitions" targetNamespace="urn:lianban:processes:{key}" exporter="lianban" \
exporterVersion="0.1.0">
  <bpmn:process id="{pid}" name={quoteattr(name)} isExecutable="true">
{body}
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{pid}_diagram">
    <bpmndi:BPMNPlane id="{pid}_plane" bpmnElement="{pid}">
{di}
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def bpmn_path(key: str) -> str:
    return f"{key}.bpmn"


def blank_template(key: str, name: str) -> dict[str, str]:
    """The blank bundle's files, path -> text: bundle.json, `<key>.bpmn`, `forms/<key>/*.json`.
    The key and name are checked first (Invalid, 422)."""
    check_key_and_name(key, name)
    name = name.strip()
    return {METADATA_FILE: _bundle_json(key, name), bpmn_path(key): _bpmn(key, name), **_forms(key)}
