"""A materials list decided by a DMN table (docs/bundles.md, materials asked of some cases only):
a `COLLECT` decision runs before 一窗受理 and lists the materials the application needs; each
material's `applies_if` reads that list. Through the API on both databases: the window's
checklist holds what the table chose, the rest shown apart as 本件不需要, and 补正 cannot ask for
those."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures import bpmn
from tests.interop.harness import Interop

DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="materials_rules"
    name="所需材料" namespace="http://lianban.example/materials">
  <decision id="materials_needed" name="所需材料">
    <decisionTable id="table" hitPolicy="COLLECT">
      <input id="in_business" label="经营类别">
        <inputExpression id="e_business" typeRef="string"><text>business</text></inputExpression>
      </input>
      <input id="in_tobacco" label="销售卷烟">
        <inputExpression id="e_tobacco" typeRef="boolean"><text>sells_tobacco</text></inputExpression>
      </input>
      <output id="out" name="required_materials" label="所需材料" typeRef="string" />
      <rule id="r_food">
        <inputEntry id="r_food_1"><text>"bulk_food"</text></inputEntry>
        <inputEntry id="r_food_2"><text>-</text></inputEntry>
        <outputEntry id="r_food_o"><text>"food_safety_rules"</text></outputEntry>
      </rule>
      <rule id="r_cold">
        <inputEntry id="r_cold_1"><text>"bulk_food"</text></inputEntry>
        <inputEntry id="r_cold_2"><text>-</text></inputEntry>
        <outputEntry id="r_cold_o"><text>"cold_storage_list"</text></outputEntry>
      </rule>
      <rule id="r_tobacco">
        <inputEntry id="r_tobacco_1"><text>-</text></inputEntry>
        <inputEntry id="r_tobacco_2"><text>true</text></inputEntry>
        <outputEntry id="r_tobacco_o"><text>"tobacco_application"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

PROCESS = bpmn.document(
    """
  <bpmn:startEvent id="s" camunda:formKey="start.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" />
  <bpmn:businessRuleTask id="decide" name="判定所需材料" camunda:decisionRef="materials_needed" />
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="intake" />
  <bpmn:userTask id="intake" name="一窗受理" camunda:candidateGroups="front_desk"
      camunda:formKey="intake.json" />
  <bpmn:sequenceFlow id="f3" sourceRef="intake" targetRef="e" />
  <bpmn:endEvent id="e" />""",
    process_id="shop_materials",
    name="开店(材料按表判定)",
)

START = {
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string"},
        "business": {"type": "string", "enum": ["prepackaged", "bulk_food"]},
        "sells_tobacco": {"type": "boolean"},
    },
    "required": ["applicant_name", "business", "sells_tobacco"],
}
INTAKE = {
    "type": "object",
    "properties": {
        "intake_decision": {"type": "string", "enum": ["accept", "correct"]},
        "missing_materials": {"type": "array", "items": {"type": "string"}},
    },
}


def _listed(code: str) -> str:
    return f'"{code}" in get("required_materials", [])'


METADATA: dict[str, Any] = {
    "key": "shop_materials",
    "name": "开店(材料按表判定)",
    "intake": {"element": "intake"},
    "materials": [
        {"code": "application_form", "name": "申请表"},
        {
            "code": "food_safety_rules",
            "name": "食品安全管理制度",
            "applies_if": _listed("food_safety_rules"),
            "applies_when": "销售散装食品的",
        },
        {
            "code": "cold_storage_list",
            "name": "冷藏冷冻设备清单",
            "applies_if": _listed("cold_storage_list"),
            "applies_when": "销售散装食品的",
        },
        {
            "code": "tobacco_application",
            "name": "烟草专卖零售许可证申请表",
            "applies_if": _listed("tobacco_application"),
            "applies_when": "销售卷烟的",
        },
    ],
}


def upload(interop: Interop) -> None:
    interop.clerk(group="front_desk")
    interop.accepted(
        "shop_materials.zip",
        {
            "shop_materials.bpmn": PROCESS,
            "materials.dmn": DECISION,
            "start.json": json.dumps(START),
            "intake.json": json.dumps(INTAKE),
            "bundle.json": json.dumps(METADATA, ensure_ascii=False),
        },
    )


def checklist(interop: Interop, case_id: int) -> tuple[list[str], list[str]]:
    answer = interop.client.get(
        f"/api/v1/cases/{case_id}/materials", headers=interop.clerk(group="front_desk")
    )
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    return [m["code"] for m in found["materials"]], [m["code"] for m in found["not_needed"]]


def test_the_decision_table_chooses_the_materials_each_application_is_asked_for(
    interop: Interop,
) -> None:
    upload(interop)
    cases = {
        (business, tobacco): interop.start(
            "shop_materials",
            {"applicant_name": "张三", "business": business, "sells_tobacco": tobacco},
        )
        for business in ("prepackaged", "bulk_food")
        for tobacco in (False, True)
    }
    assert cases[("bulk_food", True)]["data"]["required_materials"] == [
        "food_safety_rules",
        "cold_storage_list",
        "tobacco_application",
    ]
    expected = {
        ("prepackaged", False): ["application_form"],
        ("prepackaged", True): ["application_form", "tobacco_application"],
        ("bulk_food", False): ["application_form", "food_safety_rules", "cold_storage_list"],
        ("bulk_food", True): [
            "application_form",
            "food_safety_rules",
            "cold_storage_list",
            "tobacco_application",
        ],
    }
    for key, view in cases.items():
        asked, apart = checklist(interop, view["id"])
        assert asked == expected[key], key
        every = [m["code"] for m in METADATA["materials"]]
        assert apart == [c for c in every if c not in asked], key


def test_correction_cannot_ask_for_what_the_table_left_out(interop: Interop) -> None:
    upload(interop)
    view = interop.start(
        "shop_materials",
        {"applicant_name": "李四", "business": "prepackaged", "sells_tobacco": False},
    )
    [task] = view["tasks"]
    refused = interop.complete(
        task, {"intake_decision": "correct", "missing_materials": ["tobacco_application"]}
    )
    assert refused.status_code == 422, refused.get_json()
    assert "烟草专卖零售许可证申请表" in json.dumps(refused.get_json(), ensure_ascii=False)
    assert interop.case(view["id"])["tasks"][0]["id"] == task["id"]  # nothing moved
