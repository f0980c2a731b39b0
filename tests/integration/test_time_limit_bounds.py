"""A task's `time_limit` read from case data is bounded: a value beyond any real limit gives no
deadline, never a date past the calendar's end (a 500 inside the step); digits other than ASCII
are refused at upload (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.services import Services, cases, publishing
from tests.fixtures import bpmn

FORM = {"type": "object", "properties": {"days": {"type": "integer"}}}


def with_limit(value: str) -> bytes:
    props = f'<camunda:property name="time_limit" value="{value}" />'
    body = f"""
  <bpmn:startEvent id="s" camunda:formKey="start.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk">
    <bpmn:extensionElements><camunda:properties>{props}</camunda:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    return bpmn.zipped({"p.bpmn": bpmn.document(body), "start.json": FORM})


@pytest.mark.parametrize(("days", "deadline"), [(10**12, False), (3651, False), (5, True)])
def test_a_limit_from_the_data_is_bounded(
    services: Services, users: dict[str, Any], days: int, deadline: bool
) -> None:
    publishing.deploy(services, from_upload("p.zip", with_limit("days")), "test")
    case = cases.start_case(services, users["front_desk"].user, "p", {"days": days})
    [task] = case["tasks"]
    assert (task["deadline"] is not None) is deadline


@pytest.mark.parametrize("value", ["²", "3651", "-1"])
def test_limits_that_are_not_working_days_are_refused_at_upload(
    services: Services, value: str
) -> None:
    with pytest.raises(Invalid) as caught:
        publishing.deploy(services, from_upload("p.zip", with_limit(value)), "test")
    assert any("time_limit" in e["message"] for e in caught.value.errors)
