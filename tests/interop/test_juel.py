"""JUEL conditions as Camunda Modeler 5 writes them, run through the API (engine/expressions/el.py):
a boolean compared with the text 'true', `!` on a boolean, `empty` on a note."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import Interop

FILES = Path(__file__).parent / "files" / "expressions"
VACATION = (FILES / "camunda_modeler5_vacation.bpmn").read_text()


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        ({"vacationApproved": True, "comment": ""}, ["Activity_approve"]),
        ({"vacationApproved": True}, ["Activity_approve"]),  # no comment at all: empty
        ({"vacationApproved": "true", "comment": None}, ["Activity_approve"]),
        (
            {"vacationApproved": True, "comment": "请交接好工作"},
            ["Activity_approve", "Activity_read_note"],
        ),
        ({"vacationApproved": False, "comment": "旺季"}, ["Activity_approve", "Activity_adjust"]),
        ({"vacationApproved": "false"}, ["Activity_approve", "Activity_adjust"]),
    ],
)
def test_camunda_vacation_request_runs_as_camunda_decides(
    interop: Interop, answer: dict[str, object], path: list[str]
) -> None:
    interop.accepted("vacation.bpmn", VACATION)
    case = interop.start("vacation_request", {"days": 3})
    assert interop.run_to_end(case, {"Activity_approve": answer}) == path


def _incident_reason(interop: Interop, case_id: int) -> tuple[str, str]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    raised = [e for e in answer.get_json()["events"] if e["type"] == "incident_raised"]
    assert len(raised) == 1, raised
    return raised[0]["element"], raised[0]["data"]["reason"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        # JUEL: 1 == 'true' compares as integers, and 'true' is no integer
        ({"vacationApproved": 1}, "无法比较, 文本 'true' 不能转换为整数(第 3 列)"),
        ({"comment": "x"}, "变量 'vacationApproved' 未定义(第 3 列)"),
    ],
)
def test_an_evaluation_error_names_the_gateway_and_says_what_is_wrong(
    interop: Interop, answer: dict[str, object], reason: str
) -> None:
    interop.accepted("vacation.bpmn", VACATION)
    case = interop.start("vacation_request")
    refused = interop.complete(case["tasks"][0], answer)
    assert refused.status_code in (409, 422), refused.get_json()  # the step stops (an incident)
    element, text = _incident_reason(interop, case["id"])
    assert element == "Gateway_approved"
    assert "批准? (Gateway_approved)" in text and reason in text, text
