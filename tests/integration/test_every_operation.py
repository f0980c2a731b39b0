"""One restaurant case through every task operation of issue 18 (转办, 撤回, 委派, 退回, 抄送 and its
reading, 评论, 挂起/恢复, 前加签), on SQLite and PostgreSQL: the audit's re-execution verifies the
whole case, and re-executing it up to each of its events gives the state that event recorded.
会签 with 并行加签/减签 and its replay: tests/integration/test_add_signer.py."""

from __future__ import annotations

from typing import Any

from engine.services import (
    Services,
    cases,
    comments,
    copies,
    countersign,
    queries,
    send_back,
    suspension,
    task_handover,
)
from engine.services.audit import replay, state_at
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, ISSUANCE, LICENCE_OK


def _open(view: dict[str, Any], element: str) -> dict[str, Any]:
    return next(t for t in view["tasks"] if t["element"] == element)


def test_a_case_through_every_operation_verifies_step_by_step(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    u = {name: users[name].user for name in users}
    view = cases.start_case(services, u["front_desk"], "restaurant", APPLICATION)
    intake = _open(view, "intake")["id"]
    cases.claim(services, u["front_desk"], intake)
    task_handover.transfer(services, u["front_desk"], intake, "other_clerk", "午休换班")  # 转办
    view = cases.complete(services, u["other_clerk"], intake, ACCEPT)
    view = send_back.recall(services, u["other_clerk"], intake, "受理意见需补充")  # 撤回
    view = cases.complete(services, u["other_clerk"], _open(view, "intake")["id"], ACCEPT)

    food = _open(view, "review_food")["id"]
    cases.claim(services, u["food_reviewer"], food)
    task_handover.delegate(
        services, u["food_reviewer"], food, "inspector", "请踏勘中心看看"
    )  # 委派
    task_handover.answer_delegation(services, u["inspector"], food, "场所布局合理")
    view = send_back.send_back(services, u["food_reviewer"], food, "intake", "地址需核对")  # 退回
    again = _open(view, "intake")
    assert again["assignee"] == "other_clerk"
    view = cases.complete(services, u["other_clerk"], again["id"], ACCEPT)

    copies.copy_case(services, u["other_clerk"], view["id"], ["group:inspection"], "请阅知")  # 抄送
    assert copies.record_reading(services, u["inspector"], view["id"])
    comments.comment(services, u["market_reviewer"], view["id"], "名称已核准", [])  # 评论
    suspension.suspend(services, u["food_reviewer"], view["id"], "送检样品", "testing")  # 挂起
    suspension.resume(services, u["food_reviewer"], view["id"], "检测报告已出")
    view = queries.get_case(services, u["auditor"], view["id"])
    licence = _open(view, "review_licence")["id"]
    countersign.add_signer(services, u["market_reviewer"], licence, "before", "issuer", "请先核名")
    countersign.sign(services, u["issuer"], licence, "approve", "名称可用")  # 前加签
    view = cases.complete(services, u["market_reviewer"], licence, LICENCE_OK)
    view = cases.complete(services, u["food_reviewer"], _open(view, "review_food")["id"], FOOD_OK)
    view = cases.complete(services, u["issuer"], _open(view, "joint_issuance")["id"], ISSUANCE)
    assert view["status"] == "completed"

    events = queries.events(services, u["auditor"], view["id"])
    kinds = {e["type"] for e in events}
    assert {
        "task_transferred",
        "task_recalled",
        "task_delegated",
        "delegation_answered",
        "task_sent_back",
        "case_copied",
        "copy_read",
        "case_commented",
        "case_suspended",
        "case_unsuspended",
        "signer_added",
        "added_signature",
    } <= kinds
    verdict = replay(services, u["auditor"], view["id"])
    assert verdict["verified"] and verdict["steps"] == len(events), verdict
    for event in events:
        step = state_at(services, u["auditor"], view["id"], event["seq"])
        assert step["matches_record"], (event["seq"], event["type"])
        if event["type"] == "case_suspended":
            assert step["status"] == "suspended"
