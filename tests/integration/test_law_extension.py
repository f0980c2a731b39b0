"""延期 (Administrative Licensing Law Art. 42) on a fake clock, on both databases: a reviewer
asks, the office head's group approves or refuses in a task of its own, the deadlines move by
working days across 中秋 and 国庆, the old deadline's checks do nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import (
    Services,
    accounts,
    audit,
    cases,
    extension,
    messages,
    queries,
    suspension,
)
from engine.services.worker import run_due
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock

PROCESS = bpmn.document(
    """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="accept" />
  <bpmn:userTask id="accept" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review" />
  <bpmn:userTask id="review" name="审查" camunda:candidateGroups="market_regulation" />
  <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="expert" />
  <bpmn:userTask id="expert" name="专家评审" camunda:candidateGroups="food_safety">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="clock" value="pause" />
    </camunda:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f4" sourceRef="expert" targetRef="e" /><bpmn:endEvent id="e" />""",
    process_id="extended",
    name="可延期事项",
)


def bundle(extension_policy: dict[str, Any] | None = None) -> bytes:
    limits: dict[str, Any] = {"starts_at": "accept", "warning_workdays": 2}
    if extension_policy is not None:
        limits["extension"] = extension_policy
    metadata = {
        "key": "extended",
        "name": "可延期事项",
        "issuer": "某市市场监督管理局",
        "items": [{"code": "a", "name": "甲证", "statutory_workdays": 20, "promised_workdays": 5}],
        "time_limits": limits,
    }
    return bpmn.zipped({"extended.bpmn": PROCESS, "bundle.json": json.dumps(metadata)})


APPLICANT = {"applicant_name": "张三", "contact_email": "zhang@example.cn"}


def local(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Beijing time as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def _setup(services: Services, users: dict[str, Any], start: datetime, **policy: Any) -> Any:
    clock = FakeClock(start)
    svc = Services(services.engine, clock=clock)
    from engine.services import publishing

    publishing.deploy(svc, from_upload("extended.zip", bundle(policy or None)), "test")
    head, _ = accounts.create_user(svc, "head", "clerk", ["office_heads"])
    return svc, clock, head


def _accepted(svc: Services, users: dict[str, Any]) -> dict[str, Any]:
    desk = users["front_desk"].user
    case = cases.start_case(svc, desk, "extended", APPLICANT)
    return cases.complete(svc, desk, case["tasks"][0]["id"], {})


def _approval(case: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in case["tasks"] if t["kind"] == "extension")


def _check_events(svc: Services, users: dict[str, Any], case_id: int) -> list[dict[str, Any]]:
    from tests.e2e.test_openapi import component, problems

    events = queries.events(svc, users["auditor"].user, case_id)
    for event in events:
        assert problems(event, component("Event")) == [], event
    return events


def test_an_extension_granted_on_the_last_day_moves_both_deadlines_across_the_holidays(
    services: Services, users: dict[str, Any]
) -> None:
    # 受理 Tuesday 09-22: 5 working days over 中秋 (Fri 09-25) end Wednesday 09-30, the day
    # before 国庆; the statutory 20 end 10-27
    svc, clock, head = _setup(services, users, local(9, 22))
    reviewer = users["market_reviewer"].user
    case = _accepted(svc, users)
    assert (case["deadline"], case["statutory_deadline"]) == ("2026-09-30", "2026-10-27")

    clock.now = local(9, 30, 10)  # the deadline day itself
    case = extension.request(svc, reviewer, case["id"], 3, "需要现场核查经营场所")
    approval = _approval(case)
    assert approval["name"] == f"延期审批: 办件 {case['id']} 申请延期 3 个工作日"
    assert approval["groups"] == ["office_heads"] and approval["form"] is None
    assert case["deadline"] == "2026-09-30"  # nothing moves before the approval
    listed = queries.worklist(svc, head)["tasks"]
    assert [t["id"] for t in listed] == [approval["id"]]
    told = messages.inbox(svc, head)
    assert any(m.task_id == approval["id"] for m in told)
    review = extension.review(svc, head, approval["id"])
    assert (review["deadline"], review["new_deadline"]) == ("2026-09-30", "2026-10-10")

    clock.now = local(9, 30, 16)
    case = cases.complete(svc, head, approval["id"], {"decision": "approve", "opinion": "同意"})
    # three more working days after 国庆: 10-08, 10-09 and the makeup Saturday 10-10
    assert (case["deadline"], case["statutory_deadline"]) == ("2026-10-10", "2026-10-30")
    assert case["time_limit"]["extended_workdays"] == 3
    assert case["time_limit"]["extensions"] == 1
    assert all(t["kind"] == "bpmn" for t in case["tasks"])

    clock.now = local(10, 8, 0, 1)  # the first check of the old deadline (overdue from 10-08)
    run_due(svc)
    case = queries.get_case(svc, users["auditor"].user, case["id"])
    assert case["timeliness"] == "warning" and case["remaining_workdays"] == 2
    clock.now = local(10, 12, 0, 1)  # Monday after the new deadline (Saturday 10-10)
    run_due(svc)
    case = queries.get_case(svc, users["auditor"].user, case["id"])
    assert case["timeliness"] == "overdue"

    events = _check_events(svc, users, case["id"])
    kinds = [e["type"] for e in events]
    assert kinds.count("case_overdue") == 1
    overdue = next(e for e in events if e["type"] == "case_overdue")
    assert overdue["data"]["deadline"] == "2026-10-10"
    asked = next(e for e in events if e["type"] == "extension_requested")
    assert asked["data"] == {
        "workdays": 3,
        "reason": "需要现场核查经营场所",
        "deadline": "2026-09-30",
        "statutory_deadline": "2026-10-27",
    }
    granted = next(e for e in events if e["type"] == "extension_granted")
    assert granted["actor"] == "head" and granted["data"] == {
        "workdays": 3,
        "reason": "需要现场核查经营场所",
        "opinion": "同意",
        "deadline": "2026-10-10",
        "statutory_deadline": "2026-10-30",
        "request_seq": asked["seq"],
    }
    completed = [e for e in events if e["type"] == "task_completed"]
    assert completed[-1]["data"]["kind"] == "extension"

    with svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    mail = [n for n in sent if n["recipient"] == "zhang@example.cn"]
    assert len(mail) == 1 and "2026-10-10" in mail[0]["body"] and "第四十二条" in mail[0]["body"]
    assert any("延期已批准" in m.title for m in messages.inbox(svc, reviewer))

    notice = extension.notice(svc, users["auditor"].user, case["id"])
    assert notice["previous_deadline"] == "2026-09-30" and notice["deadline"] == "2026-10-10"
    assert notice["issuer"] == "某市市场监督管理局" and notice["applicant"] == "张三"
    assert audit.replay(svc, None, case["id"])["verified"] is True


def test_requests_that_are_refused(services: Services, users: dict[str, Any]) -> None:
    svc, clock, head = _setup(services, users, local(9, 22))
    reviewer = users["market_reviewer"].user
    desk = users["front_desk"].user
    started = cases.start_case(svc, desk, "extended", APPLICANT)
    with pytest.raises(Conflict, match="尚未受理"):
        extension.request(svc, desk, started["id"], 3, "理由")
    case = cases.complete(svc, desk, started["tasks"][0]["id"], {})

    with pytest.raises(Invalid) as err:
        extension.request(svc, reviewer, case["id"], 11, "理由")
    assert err.value.errors[0]["field"] == "workdays"
    for bad in (0, "three", True, 2.5):
        with pytest.raises(Invalid):
            extension.request(svc, reviewer, case["id"], bad, "理由")
    with pytest.raises(Invalid) as err:
        extension.request(svc, reviewer, case["id"], 3, "  ")
    assert err.value.errors[0]["field"] == "reason"
    with pytest.raises(Invalid):
        extension.request(svc, reviewer, case["id"], 3, "长" * 2001)
    with pytest.raises(Forbidden):  # the window does not hold the case any more
        extension.request(svc, desk, case["id"], 3, "理由")

    case = extension.request(svc, reviewer, case["id"], 10, "需要补充调查")
    with pytest.raises(Conflict, match="等待审批"):
        extension.request(svc, reviewer, case["id"], 2, "再申请")
    approval = _approval(case)
    with pytest.raises(Invalid) as err:
        cases.complete(svc, head, approval["id"], {"decision": "maybe"})
    assert err.value.errors[0]["field"] == "decision"
    with pytest.raises(Invalid):  # a refusal says why
        cases.complete(svc, head, approval["id"], {"decision": "reject"})
    with pytest.raises(Forbidden):  # only the approver group decides
        cases.complete(svc, reviewer, approval["id"], {"decision": "approve"})
    case = cases.complete(svc, head, approval["id"], {"decision": "approve", "opinion": ""})
    assert case["time_limit"]["extended_workdays"] == 10
    with pytest.raises(Conflict, match="行政许可法第四十二条只允许延期一次"):
        extension.request(svc, reviewer, case["id"], 2, "再申请")

    suspension.suspend(svc, reviewer, case["id"], "等待法院裁定", "other")
    with pytest.raises(Conflict, match="已挂起"):
        extension.request(svc, reviewer, case["id"], 2, "再申请")
    _check_events(svc, users, case["id"])


def test_a_refusal_leaves_the_deadline_and_tells_the_requester(
    services: Services, users: dict[str, Any]
) -> None:
    svc, clock, head = _setup(services, users, local(9, 22))
    reviewer = users["market_reviewer"].user
    case = _accepted(svc, users)
    case = extension.request(svc, reviewer, case["id"], 5, "材料复杂")
    case = cases.complete(
        svc, head, _approval(case)["id"], {"decision": "reject", "opinion": "时间充足, 不予延期"}
    )
    assert (case["deadline"], case["statutory_deadline"]) == ("2026-09-30", "2026-10-27")
    assert case["time_limit"]["extensions"] == 0
    assert any(
        "延期未批准" in m.title and "时间充足" in m.body for m in messages.inbox(svc, reviewer)
    )
    events = _check_events(svc, users, case["id"])
    refused = next(e for e in events if e["type"] == "extension_refused")
    assert refused["data"]["opinion"] == "时间充足, 不予延期"
    # refused, the one extension the law allows is still there
    case = extension.request(svc, reviewer, case["id"], 5, "材料复杂, 再次说明")
    assert _approval(case)["kind"] == "extension"
    with svc.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    assert not [n for n in sent if n["recipient"] == "zhang@example.cn"]
    assert audit.replay(svc, None, case["id"])["verified"] is True


def test_a_further_extension_where_the_bundle_names_a_law(
    services: Services, users: dict[str, Any]
) -> None:
    law = "《某省行政审批条例》第二十条"
    svc, clock, head = _setup(
        services,
        users,
        local(9, 22),
        further_law=law,
        max_workdays=5,
        approver_group="office_heads",
    )
    reviewer = users["market_reviewer"].user
    case = _accepted(svc, users)
    with pytest.raises(Invalid, match="1 到 5"):
        extension.request(svc, reviewer, case["id"], 6, "理由")
    for days in (2, 3):
        case = extension.request(svc, reviewer, case["id"], days, "需要专家论证")
        case = cases.complete(svc, head, _approval(case)["id"], {"decision": "approve"})
    assert case["time_limit"]["extensions"] == 2
    assert case["time_limit"]["extended_workdays"] == 5
    assert case["deadline"] == "2026-10-13"  # 09-22 + 5 + 5 working days
    events = _check_events(svc, users, case["id"])
    asked = [e for e in events if e["type"] == "extension_requested"]
    assert "law" not in asked[0]["data"] and asked[1]["data"]["law"] == law


def test_an_extension_granted_while_the_clock_is_paused(
    services: Services, users: dict[str, Any]
) -> None:
    # 受理 Monday 09-28: deadline 10-10 (5 working days); the expert review stops the clock
    svc, clock, head = _setup(services, users, local(9, 28))
    case = _accepted(svc, users)
    assert case["deadline"] == "2026-10-10"
    clock.now = local(9, 29)
    case = cases.complete(svc, users["market_reviewer"].user, case["tasks"][0]["id"], {})
    assert case["clock"] == "paused"
    food = users["food_reviewer"].user
    clock.now = local(9, 30)
    case = extension.request(svc, food, case["id"], 2, "专家意见分歧, 需要复核")
    case = cases.complete(svc, head, _approval(case)["id"], {"decision": "approve"})
    assert (case["clock"], case["deadline"]) == ("paused", "2026-10-13")  # 5 + 2
    clock.now = local(10, 9)  # resumed after 09-30, 10-08 and 10-09
    expert = next(t for t in case["tasks"] if t["element"] == "expert")
    case = cases.complete(svc, food, expert["id"], {})
    assert case["time_limit"]["paused_workdays"] == 3
    assert case["time_limit"]["deadline"] == "2026-10-16"  # 5 + 3 + 2 after 09-28
    _check_events(svc, users, case["id"])
    assert audit.replay(svc, None, case["id"])["verified"] is True


def test_a_request_left_pending_when_the_case_ends(
    services: Services, users: dict[str, Any]
) -> None:
    svc, clock, head = _setup(services, users, local(9, 22))
    case = _accepted(svc, users)
    case = extension.request(svc, users["market_reviewer"].user, case["id"], 2, "等待补充意见")
    review = next(t for t in case["tasks"] if t["kind"] == "bpmn")
    case = cases.complete(svc, users["market_reviewer"].user, review["id"], {})
    expert = next(t for t in case["tasks"] if t["kind"] == "bpmn")
    case = cases.complete(svc, users["food_reviewer"].user, expert["id"], {})
    assert case["status"] == "completed" and case["clock"] == "stopped"
    approval = _approval(case)
    with pytest.raises(Conflict, match="请选择不批准"):
        cases.complete(svc, head, approval["id"], {"decision": "approve"})
    case = cases.complete(svc, head, approval["id"], {"decision": "reject", "opinion": "已办结"})
    assert case["tasks"] == [] and case["deadline"] == "2026-09-30"
    _check_events(svc, users, case["id"])
    assert audit.replay(svc, None, case["id"])["verified"] is True
