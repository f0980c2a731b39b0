"""Who may work a task, as other modelers write it (issue 22): candidate users, assignee
expressions on the case data, BPMN's potentialOwner / humanPerformer, and the flowable: and
activiti: spellings of Camunda's attributes. Each diagram is uploaded through the API and run to
the end by the users it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .harness import Interop

FILES = Path(__file__).parent / "files" / "assignment"


def read(name: str) -> str:
    return (FILES / name).read_text()


def tasks_of(interop: Interop, headers: dict[str, str], **args: str) -> list[dict[str, Any]]:
    """The open tasks in the worklist of the user whose headers are given."""
    answer = interop.client.get("/api/v1/tasks", headers=headers, query_string=args)
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json()["tasks"])


def human_tasks(interop: Interop, upload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The version's human tasks as its detail shows them, by element."""
    url = f"/api/v1/bundles/{upload['key']}/versions/{upload['version']}"
    answer = interop.client.get(url, headers=interop.designer)
    assert answer.status_code == 200, answer.get_json()
    return {t["element"]: t for t in answer.get_json()["human_tasks"]}


def test_camunda_modeler_candidate_users_and_assignee_expressions(interop: Interop) -> None:
    upload = interop.accepted("camunda_modeler5_leave.bpmn", read("camunda_modeler5_leave.bpmn"))
    assert human_tasks(interop, upload)["Activity_review"]["candidate_users"] == [
        "li_review",
        "zhao_review",
    ]
    case = interop.start("leave_request")
    # camunda:initiator="starter" + camunda:assignee="${starter}": the clerk who started it
    fill = case["tasks"][0]
    assert (fill["element"], fill["assignee"]) == ("Activity_fill", "interop_window")
    assert interop.complete(fill, {"days": 3}).status_code == 200

    # camunda:candidateUsers: in both candidates' worklists, nobody else's; either may claim
    review = interop.case(case["id"])["tasks"][0]
    assert review["candidate_users"] == ["li_review", "zhao_review"]
    assert review["groups"] == [] and review["assignee"] is None
    li, zhao = interop.clerk(user="li_review"), interop.clerk(user="zhao_review")
    outsider = interop.clerk(group="leaders")
    with interop.services.uow() as uow:  # told in the message centre, as group members are
        for name in ("li_review", "zhao_review"):
            assert [m.title for m in uow.messages.for_user(name, 5)] == ["新任务: 人事审核"]
    assert [t["id"] for t in tasks_of(interop, li)] == [review["id"]]
    assert [t["id"] for t in tasks_of(interop, zhao, claimed="unclaimed")] == [review["id"]]
    assert tasks_of(interop, outsider) == []
    refused = interop.client.post(f"/api/v1/tasks/{review['id']}/claim", headers=outsider)
    assert refused.status_code == 403, refused.get_json()
    assert "li_review" in refused.get_json()["error"]
    assert (
        interop.client.post(f"/api/v1/tasks/{review['id']}/claim", headers=zhao).status_code == 200
    )
    taken = interop.client.post(
        f"/api/v1/tasks/{review['id']}/complete", headers=li, json={"data": {}}
    )
    assert taken.status_code == 403, taken.get_json()  # claimed by zhao_review
    # shown to the other candidate as claimed (as to a group's members), offered no more
    assert tasks_of(interop, li)[0]["assignee"] == "zhao_review"
    assert tasks_of(interop, li, claimed="unclaimed") == []
    assert [t["id"] for t in tasks_of(interop, zhao, claimed="mine")] == [review["id"]]
    done = interop.complete(
        {**review, "assignee": "zhao_review"}, {"approver": "wang_chief"}, headers=zhao
    )
    assert done.status_code == 200, done.get_json()

    # camunda:assignee="${approver}": the user named by the case data when the task opened
    approve = interop.case(case["id"])["tasks"][0]
    assert (approve["assignee"], approve["groups"]) == ("wang_chief", ["leaders"])
    assert interop.run_to_end(interop.case(case["id"])) == ["Activity_approve"]


def test_flowable_modeler_attributes(interop: Interop) -> None:
    interop.accepted("flowable_modeler_expense.bpmn", read("flowable_modeler_expense.bpmn"))
    case = interop.start("expenseClaim", {"amount": 120})
    assert case["tasks"][0]["assignee"] == "interop_window"  # flowable:initiator
    answers = {"checkClaim": {"manager": "fozzie"}}
    assert interop.run_to_end(case, answers) == ["draftClaim", "checkClaim", "approveClaim"]
    events = interop.client.get(f"/api/v1/cases/{case['id']}/events", headers=interop.admin)
    by = {
        e["element"]: e["actor"]
        for e in events.get_json()["events"]
        if e["type"] == "task_completed"
    }
    # flowable:candidateUsers="kermit,gonzo": the first candidate worked it; the manager the last
    assert by == {"draftClaim": "interop_window", "checkClaim": "kermit", "approveClaim": "fozzie"}


def test_activiti_designer_attributes(interop: Interop) -> None:
    upload = interop.accepted(
        "activiti_designer_purchase.bpmn", read("activiti_designer_purchase.bpmn")
    )
    tasks = human_tasks(interop, upload)
    assert tasks["usertask1"]["groups"] == ["accountancy"]
    assert tasks["usertask2"]["candidate_users"] == ["kermit", "fozzie"]
    case = interop.start("purchaseOrder")
    done = interop.run_to_end(case)
    assert done == ["usertask1", "usertask2", "usertask3", "usertask4"]
    events = interop.client.get(f"/api/v1/cases/{case['id']}/events", headers=interop.admin)
    by = {
        e["element"]: e["actor"]
        for e in events.get_json()["events"]
        if e["type"] == "task_completed"
    }
    assert by["usertask3"] == "gonzo"  # activiti:assignee, a literal user
    assert by["usertask4"] == "interop_window"  # activiti:assignee="${applicant}", the initiator


def test_bpmn_potential_owner_and_human_performer(interop: Interop) -> None:
    name = "activiti_test_resource_assignments.bpmn"
    tasks = human_tasks(interop, interop.accepted(name, read(name)))
    assert (tasks["handleRequest"]["groups"], tasks["handleRequest"]["candidate_users"]) == (
        ["management"],
        [],
    )  # a bare name in potentialOwner is a group
    assert (tasks["checkRequest"]["groups"], tasks["checkRequest"]["candidate_users"]) == (
        [],
        ["fozzie", "gonzo"],
    )  # user(x), user(y)
    case = interop.start("resourceAssignments")
    opened: dict[str, Any] = {}

    def note(task: dict[str, Any]) -> dict[str, Any]:
        opened[task["element"]] = task["assignee"]
        return {}

    answers = {e: note for e in ("handleRequest", "checkRequest", "signRequest", "adjustRequest")}
    done = interop.run_to_end(case, answers)
    assert done == ["handleRequest", "checkRequest", "signRequest", "adjustRequest"]
    # humanPerformer: a user from the moment the task opens; `${employeeName}` the initiator
    assert opened["signRequest"] == "kermit"
    assert opened["adjustRequest"] == "interop_window"


def test_miwg_potential_owner_by_resource_reference(interop: Interop) -> None:
    name = "miwg_potential_owner_resource.bpmn"
    tasks = human_tasks(interop, interop.accepted(name, read(name)))
    assert tasks["approveInvoice"]["groups"] == ["invoice_approvers"]  # the resource's name
    case = interop.start("invoiceApproval")
    assert interop.run_to_end(case) == ["approveInvoice"]


def test_an_assignee_expression_with_no_value(interop: Interop) -> None:
    # with candidate groups: the task waits, unassigned, for the group
    name = "flowable_engine_test_assignee_or_group.bpmn"
    interop.accepted(name, read(name))
    case = interop.start("assigneeOrGroup")
    task = case["tasks"][0]
    assert (task["assignee"], task["groups"]) == (None, ["sales"])
    assert interop.run_to_end(case) == ["theTask"]
    named = interop.start("assigneeOrGroup", {"reviewer": "piggy"})
    assert named["tasks"][0]["assignee"] == "piggy"
    assert interop.run_to_end(named) == ["theTask"]

    # nobody else may work it: the step is refused, naming the task and the field
    name = "flowable_engine_test_assignee_expression.bpmn"
    interop.accepted(name, read(name))
    answer = interop.client.post(
        "/api/v1/cases", headers=interop.starter, json={"bundle": "assigneeExpression", "data": {}}
    )
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert "theTask" in body["error"] and "assigneeName" in body["error"], body
    assert body["errors"][0]["element"] == "theTask"
    # an assignee that is not a user name is refused the same way
    answer = interop.client.post(
        "/api/v1/cases",
        headers=interop.starter,
        json={"bundle": "assigneeExpression", "data": {"assigneeName": ["a", "b"]}},
    )
    assert answer.status_code == 422, answer.get_json()
    assert "用户名" in answer.get_json()["error"]
    case = interop.start("assigneeExpression", {"assigneeName": "kermit"})
    assert case["tasks"][0]["assignee"] == "kermit"
    assert interop.run_to_end(case) == ["theTask"]


def test_a_task_nobody_may_work_is_refused_saying_what_to_add(interop: Interop) -> None:
    messages = interop.refused("bpmnio_unassigned_task.bpmn", read("bpmnio_unassigned_task.bpmn"))
    assert messages == [
        "人工任务 '审核' 没有办理组或办理人: 请设置 candidateGroups (办理组)、candidateUsers (候选人)、"
        "assignee (办理人) 或 potentialOwner, 或把它放进泳道"
    ]


def test_an_assignee_expression_outside_the_language_is_refused(interop: Interop) -> None:
    bad = read("flowable_engine_test_assignee_expression.bpmn").replace(
        "${assigneeName}", "${userService.findManager(execution)}"
    )
    messages = interop.refused("bad_assignee.bpmn", bad)
    assert len(messages) == 1 and "办理人 `${userService.findManager(execution)}`" in messages[0]
    mixed = read("flowable_engine_test_assignee_expression.bpmn").replace(
        "${assigneeName}", "kermit_${loopCounter}"
    )
    messages = interop.refused("mixed_assignee.bpmn", mixed)
    assert len(messages) == 1 and "不能把表达式嵌在文字中" in messages[0]


def test_candidate_users_written_as_expressions_are_refused_groups_only_whole(
    interop: Interop,
) -> None:
    leave = read("camunda_modeler5_leave.bpmn")
    users = leave.replace(
        'camunda:candidateUsers="li_review, zhao_review"', 'camunda:candidateUsers="${users}"'
    )
    assert interop.refused("users.bpmn", users) == [
        "候选人 `${users}` 引用了变量: 候选人 (candidateUsers) 只能是用户名"
    ]
    # a group may be one whole expression on the case data (tests/integration/
    # test_group_expressions.py), not an expression inside a name
    groups = leave.replace('camunda:candidateGroups="leaders"', 'camunda:candidateGroups="${dept}"')
    interop.accepted("groups.bpmn", groups)
    mixed = leave.replace('camunda:candidateGroups="leaders"', 'camunda:candidateGroups="d_${x}"')
    assert interop.refused("mixed_groups.bpmn", mixed) == [
        "办理组 `d_${x}` 只能是组名, 或整个写成一个表达式 (如 ${town_group}), "
        "不能把表达式嵌在文字中"
    ]


def test_a_pool_without_lanes_stands_in_for_a_lane(interop: Interop) -> None:
    name = "camunda_modeler5_pool.bpmn"
    tasks = human_tasks(interop, interop.accepted(name, read(name)))
    assert tasks["Activity_check"]["groups"] == ["综合窗口"]  # the participant's name
    case = interop.start("window_check")
    assert case["tasks"][0]["groups"] == ["综合窗口"]
    assert interop.run_to_end(case) == ["Activity_check"]


def test_a_timer_opening_a_task_whose_assignee_finds_nobody_stops_the_case_as_an_incident(
    interop: Interop,
) -> None:
    # written as Camunda Modeler 5 exports it (no diagram part): a reminder after a day goes to
    # `${supervisor}`, a field this case does not hold, and the task names nobody else
    document = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_1"
  targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.17.0">
  <bpmn:process id="reminder" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Event_wait" />
    <bpmn:intermediateCatchEvent id="Event_wait" name="一天后">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">P1D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Event_wait" targetRef="Activity_follow" />
    <bpmn:userTask id="Activity_follow" name="跟进" camunda:assignee="${supervisor}">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Activity_follow" targetRef="Event_end" />
    <bpmn:endEvent id="Event_end"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""
    interop.accepted("reminder.bpmn", document)
    case = interop.start("reminder", {})
    assert case["status"] == "running" and case["tasks"] == []
    assert interop.fire_timers(days=2) >= 1
    stopped = interop.case(case["id"])
    assert stopped["status"] == "error" and stopped["tasks"] == []
    events = interop.client.get(f"/api/v1/cases/{case['id']}/events", headers=interop.admin)
    incident = [e for e in events.get_json()["events"] if e["type"] == "incident_raised"]
    assert len(incident) == 1 and incident[0]["element"] == "Activity_follow"
    assert "supervisor" in incident[0]["data"]["reason"]
    assert [e["type"] for e in events.get_json()["events"]] == ["case_started", "incident_raised"]


def test_an_empty_group_beside_candidate_users_is_not_said_to_leave_the_task_unworkable(
    interop: Interop,
) -> None:
    upload = interop.accepted(
        "t.bpmn",
        read("camunda_modeler5_leave.bpmn").replace(
            'camunda:candidateUsers="li_review, zhao_review"',
            'camunda:candidateUsers="li_review, zhao_review" camunda:candidateGroups="hr_office"',
        ),
    )
    [warning] = [w for w in upload["warnings"] if "hr_office" in w["message"]]
    assert "只能由它指定的办理人或候选人办理" in warning["message"]
    assert "无人可以办理" not in warning["message"]


def test_a_task_offered_to_candidate_users_is_transferred_between_them(interop: Interop) -> None:
    interop.accepted("camunda_modeler5_leave.bpmn", read("camunda_modeler5_leave.bpmn"))
    case = interop.start("leave_request")
    assert interop.complete(case["tasks"][0], {"days": 3}).status_code == 200
    review = interop.case(case["id"])["tasks"][0]
    li, zhao = interop.clerk(user="li_review"), interop.clerk(user="zhao_review")
    interop.clerk(group="leaders")  # a clerk who is no candidate
    assert interop.client.post(f"/api/v1/tasks/{review['id']}/claim", headers=li).status_code == 200
    refused = interop.client.post(
        f"/api/v1/tasks/{review['id']}/transfer",
        headers=li,
        json={"to": "member_of_leaders", "reason": "请假期间"},
    )
    assert refused.status_code == 422, refused.get_json()
    assert "候选人" in refused.get_json()["error"]
    moved = interop.client.post(
        f"/api/v1/tasks/{review['id']}/transfer",
        headers=li,
        json={"to": "zhao_review", "reason": "请假期间"},
    )
    assert moved.status_code == 200, moved.get_json()
    assert interop.case(case["id"])["tasks"][0]["assignee"] == "zhao_review"
    done = interop.client.post(
        f"/api/v1/tasks/{review['id']}/complete", headers=zhao, json={"data": {"approved": True}}
    )
    assert done.status_code == 200, done.get_json()
