"""Reading who may work a task (engine/bpmn/assignment.py) and the assignee an expression gives
when the task opens; the API-level behaviour is in tests/interop/test_assignment.py."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn.assignment import opening_assignee
from engine.bpmn.errors import StepFailed
from engine.bpmn.manifest import read_human_tasks

DOCUMENT = """<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:flowable="http://flowable.org/bpmn"
  xmlns:activiti="http://activiti.org/bpmn" targetNamespace="t">
  <process id="p" isExecutable="true">
    <userTask id="mixed">
      <potentialOwner><resourceAssignmentExpression>
        <formalExpression>user(kermit), group(sales), management, user(kermit)</formalExpression>
      </resourceAssignmentExpression></potentialOwner>
    </userTask>
    <userTask id="performer">
      <humanPerformer><resourceAssignmentExpression>
        <formalExpression>user(gonzo)</formalExpression>
      </resourceAssignmentExpression></humanPerformer>
    </userTask>
    <userTask id="spellings" camunda:assignee=" " flowable:assignee="fozzie"
      activiti:assignee="piggy" activiti:candidateUsers="a, b ,a," />
  </process>
</definitions>"""


def test_the_forms_read() -> None:
    tasks = {t.element: t for t in read_human_tasks(etree.fromstring(DOCUMENT))}
    assert tasks["mixed"].groups == ("sales", "management")
    assert tasks["mixed"].candidate_users == ("kermit",)
    assert tasks["performer"].assignee == "gonzo" and tasks["performer"].groups == ()
    # a blank camunda: attribute gives way to flowable:, which wins over activiti:
    assert tasks["spellings"].assignee == "fozzie"
    assert tasks["spellings"].candidate_users == ("a", "b")


def test_what_an_assignee_expression_gives() -> None:
    assert opening_assignee("t", "wang", {}) == "wang"
    assert opening_assignee("t", "${reviewer}", {"reviewer": " li "}) == "li"
    assert opening_assignee("t", "${clerk_no}", {"clerk_no": 7}) == "7"
    assert opening_assignee("t", "${reviewer}", {}) is None
    assert opening_assignee("t", "${reviewer}", {"reviewer": None}) is None
    assert opening_assignee("t", "${reviewer}", {"reviewer": ""}) is None
    assert opening_assignee("t", "${starter}", {}, "window_1", "starter") == "window_1"
    # a case data field of the initiator's name wins
    assert opening_assignee("t", "${starter}", {"starter": "x"}, "window_1", "starter") == "x"
    for bad in (True, ["a"], {"a": 1}, "x" * 101):
        with pytest.raises(StepFailed) as err:
            opening_assignee("t", "${reviewer}", {"reviewer": bad})
        assert err.value.element == "t"
