"""DMN as Camunda Modeler 5 writes it (DMN 1.3), uploaded with the BPMN whose business rule task
runs it, and run to the end through the API (engine/bpmn/dmn_model.py, engine/bpmn/dmn_feel.py):
a DRD whose top decision requires another, FEEL unary tests, every hit policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .harness import Interop

FILES = Path(__file__).parent / "files" / "dmn"
LICENSE = (FILES / "camunda_modeler5_license.bpmn").read_text()
LICENSE_FEE = (FILES / "camunda_modeler5_license_fee.dmn").read_text()
REVIEW = (FILES / "camunda_modeler5_review.bpmn").read_text()
REVIEW_RULES = (FILES / "camunda_modeler5_review.dmn").read_text()


def license_bundle(dmn: str = LICENSE_FEE) -> dict[str, str]:
    return {"food_license.bpmn": LICENSE, "license_fee.dmn": dmn}


def _incident_reason(interop: Interop, case_id: int) -> tuple[str, str]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    raised = [e for e in answer.get_json()["events"] if e["type"] == "incident_raised"]
    assert len(raised) == 1, raised
    return raised[0]["element"], raised[0]["data"]["reason"]


@pytest.mark.parametrize(
    ("application", "fee", "path"),
    [
        # 餐饮 ≥ 500 m²: 高 (800) + base 200 + night 100 - first quarter 50
        (
            {"category": "餐饮", "area": 600, "night_business": True, "applied_on": "2026-02-10"},
            1050,
            ["Activity_apply", "Activity_inspect", "Activity_issue"],
        ),
        # exactly 1000: the condition is ≥
        (
            {"category": "餐饮", "area": 500, "night_business": False, "applied_on": "2026-04-01"},
            1000,
            ["Activity_apply", "Activity_inspect", "Activity_issue"],
        ),
        # [100..500[ : 中
        (
            {"category": "餐饮", "area": 100, "night_business": False, "applied_on": "2026-05-01"},
            500,
            ["Activity_apply", "Activity_issue"],
        ),
        # "食品销售","药品零售" with ]200..1000] : 中
        (
            {
                "category": "药品零售",
                "area": 1000,
                "night_business": True,
                "applied_on": "2026-05-01",
            },
            600,
            ["Activity_apply", "Activity_issue"],
        ),
        # not("餐饮") with <= 200 : 低, first quarter
        (
            {"category": "服装", "area": 200, "night_business": False, "applied_on": "2026-03-31"},
            150,
            ["Activity_apply", "Activity_issue"],
        ),
        # 食品销售 over 1000 m²: no rule of the risk grade matches, the grade is null
        (
            {
                "category": "食品销售",
                "area": 1200,
                "night_business": False,
                "applied_on": "2026-06-01",
            },
            200,
            ["Activity_apply", "Activity_issue"],
        ),
    ],
)
def test_a_drd_runs_the_required_decision_first_and_feeds_its_output_in(
    interop: Interop, application: dict[str, Any], fee: int, path: list[str]
) -> None:
    interop.accepted("license.zip", license_bundle())
    case = interop.start("food_license")
    assert interop.run_to_end(case, {"Activity_apply": application}) == path
    data = interop.case(case["id"])["data"]
    assert data["license_fee"] == fee
    # as in Camunda 7, only the decision the task names writes its outputs
    assert "risk_grade" not in data


def test_a_cycle_of_required_decisions_is_refused_at_upload(interop: Interop) -> None:
    looped = LICENSE_FEE.replace(
        '<informationRequirement id="InformationRequirement_1app2rg">\n'
        '      <requiredInput href="#InputData_application" />',
        '<informationRequirement id="InformationRequirement_1app2rg">\n'
        '      <requiredDecision href="#license_fee" />',
    )
    assert looped != LICENSE_FEE
    messages = interop.refused("license.zip", license_bundle(looped))
    assert any(
        "构成循环: license_fee → risk_grade → license_fee" in m
        or "构成循环: risk_grade → license_fee → risk_grade" in m
        for m in messages
    ), messages
    missing = LICENSE_FEE.replace('href="#risk_grade"', 'href="#grade"')
    messages = interop.refused("license.zip", license_bundle(missing))
    assert any('href="#grade"' in m and "不在本文件中" in m for m in messages), messages


def test_two_unique_rules_matching_stop_the_step_naming_the_decision_and_the_task(
    interop: Interop,
) -> None:
    overlapping = LICENSE_FEE.replace("<text>&lt; 100</text>", "<text>&lt;= 100</text>")
    interop.accepted("license.zip", license_bundle(overlapping))
    case = interop.start("food_license")
    answer = {"category": "餐饮", "area": 100, "night_business": False, "applied_on": "2026-05-01"}
    refused = interop.complete(case["tasks"][0], answer)
    assert refused.status_code in (409, 422), refused.get_json()
    element, reason = _incident_reason(interop, case["id"])
    assert element == "Activity_fee"
    assert "计算规费" in reason and "决策 'risk_grade' (风险等级)" in reason, reason
    assert "UNIQUE" in reason and "DecisionRule_0r2mid0、DecisionRule_1r3sml0" in reason, reason


@pytest.mark.parametrize(
    ("application", "departments", "level", "fast", "path"),
    [
        (
            {"category": "餐饮", "area": 600, "alcohol": True, "complaints": 3},
            ["市场监管", "消防", "城管"],
            "重点",
            False,
            ["Activity_apply", "Activity_inspect", "Activity_issue"],
        ),
        (
            {"category": "餐饮", "area": 80, "alcohol": False, "complaints": 0},
            ["市场监管"],
            "一般",
            True,
            ["Activity_apply", "Activity_issue"],
        ),
        (
            {"category": "零售", "area": 300, "alcohol": True, "complaints": 1},
            ["市场监管", "消防"],
            "一般",
            False,
            ["Activity_apply", "Activity_issue"],
        ),
        (
            {"category": "零售", "area": 50, "alcohol": False, "complaints": 5},
            ["市场监管"],
            "重点",
            True,
            ["Activity_apply", "Activity_inspect", "Activity_issue"],
        ),
    ],
)
def test_rule_order_priority_and_any_decide_as_dmn_defines(
    interop: Interop,
    application: dict[str, Any],
    departments: list[str],
    level: str,
    fast: bool,
    path: list[str],
) -> None:
    interop.accepted("review.zip", {"review.bpmn": REVIEW, "review.dmn": REVIEW_RULES})
    case = interop.start("shop_review")
    assert interop.run_to_end(case, {"Activity_apply": application}) == path
    data = interop.case(case["id"])["data"]
    assert data["departments"] == departments
    assert data["inspection_level"] == level
    assert data["fast_track"] is fast


def test_any_with_disagreeing_rules_stops_the_step(interop: Interop) -> None:
    interop.accepted("review.zip", {"review.bpmn": REVIEW, "review.dmn": REVIEW_RULES})
    case = interop.start("shop_review")
    answer = {"category": "餐饮", "area": 80, "alcohol": True, "complaints": 0}
    refused = interop.complete(case["tasks"][0], answer)
    assert refused.status_code in (409, 422), refused.get_json()
    element, reason = _incident_reason(interop, case["id"])
    assert element == "Activity_fast"
    assert "决策 'fast_track' (快速通道)" in reason and "ANY" in reason, reason


def test_camunda_result_variable_single_entry_feeds_the_gateway(interop: Interop) -> None:
    """Camunda Modeler's "Result variable" and "Map decision result": the result goes to that
    variable alone, mapped as Camunda 7 maps it."""
    mapped = LICENSE.replace(
        'camunda:decisionRef="license_fee"',
        'camunda:resultVariable="fee" camunda:decisionRef="license_fee" '
        'camunda:mapDecisionResult="singleEntry"',
    ).replace("${license_fee &gt;= 1000}", "${fee &gt;= 1000}")
    interop.accepted("license.zip", {"food_license.bpmn": mapped, "license_fee.dmn": LICENSE_FEE})
    case = interop.start("food_license")
    answer = {"category": "餐饮", "area": 600, "night_business": False, "applied_on": "2026-05-01"}
    path = interop.run_to_end(case, {"Activity_apply": answer})
    assert path == ["Activity_apply", "Activity_inspect", "Activity_issue"]
    data = interop.case(case["id"])["data"]
    assert data["fee"] == 1000 and "license_fee" not in data


@pytest.mark.parametrize(
    ("mapping", "departments"),
    [
        ("collectEntries", ["市场监管", "消防"]),
        ("resultList", [{"departments": "市场监管"}, {"departments": "消防"}]),
        (None, [{"departments": "市场监管"}, {"departments": "消防"}]),  # Camunda's default
    ],
)
def test_camunda_result_mappings_of_a_rule_order_table(
    interop: Interop, mapping: str | None, departments: list[Any]
) -> None:
    attributes = 'camunda:resultVariable="dept" camunda:decisionRef="departments"'
    if mapping:
        attributes += f' camunda:mapDecisionResult="{mapping}"'
    review = REVIEW.replace('camunda:decisionRef="departments"', attributes)
    interop.accepted("review.zip", {"review.bpmn": review, "review.dmn": REVIEW_RULES})
    case = interop.start("shop_review")
    answer = {"category": "零售", "area": 300, "alcohol": True, "complaints": 1}
    interop.run_to_end(case, {"Activity_apply": answer})
    data = interop.case(case["id"])["data"]
    assert data["dept"] == departments and "departments" not in data


def test_a_single_entry_of_several_results_stops_the_step(interop: Interop) -> None:
    review = REVIEW.replace(
        'camunda:decisionRef="departments"',
        'camunda:resultVariable="dept" camunda:decisionRef="departments" '
        'camunda:mapDecisionResult="singleEntry"',
    )
    interop.accepted("review.zip", {"review.bpmn": review, "review.dmn": REVIEW_RULES})
    case = interop.start("shop_review")
    answer = {"category": "零售", "area": 300, "alcohol": True, "complaints": 1}
    refused = interop.complete(case["tasks"][0], answer)
    assert refused.status_code in (409, 422), refused.get_json()
    element, reason = _incident_reason(interop, case["id"])
    assert element == "Activity_departments"
    assert "命中了 2 条规则" in reason and "singleEntry" in reason, reason


def test_a_result_variable_must_be_a_field_name_and_the_mapping_camundas(
    interop: Interop,
) -> None:
    review = REVIEW.replace(
        'camunda:decisionRef="departments"',
        'camunda:resultVariable="dept.list" camunda:decisionRef="departments" '
        'camunda:mapDecisionResult="singleValue"',
    )
    messages = interop.refused("review.zip", {"review.bpmn": review, "review.dmn": REVIEW_RULES})
    assert any("camunda:resultVariable 'dept.list' 必须是数据字段名" in m for m in messages)
    assert any("camunda:mapDecisionResult 'singleValue' 无效" in m for m in messages)
