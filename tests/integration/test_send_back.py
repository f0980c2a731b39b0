"""退回 and 撤回 through the services, on SQLite and PostgreSQL: the case rewinds to an earlier
task of its path, the re-opened tasks get new ids, and the audit re-executes every rewind."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Conflict, Forbidden, Invalid
from engine.services import Services, cases, queries, send_back
from engine.services.audit import replay, state_at
from tests.fixtures.concurrency import simultaneously
from tests.fixtures.restaurant import (
    ACCEPT,
    APPLICATION,
    CLERK_OF,
    FOOD_OK,
    FOOD_OK_INSPECT,
    ISSUANCE,
    LICENCE_OK,
)


def open_task(view: dict[str, Any], element: str) -> dict[str, Any]:
    found = [t for t in view["tasks"] if t["element"] == element]
    assert found, f"{element} is not open: {[t['element'] for t in view['tasks']]}"
    return found[0]


def work(
    services: Services, users: dict[str, Any], view: dict[str, Any], element: str, form: Any
) -> dict[str, Any]:
    task = open_task(view, element)
    return cases.complete(services, users[CLERK_OF[element]].user, task["id"], form)


def verified(services: Services, users: dict[str, Any], case_id: int) -> bool:
    verdict = replay(services, users["auditor"].user, case_id)
    assert verdict["verified"], verdict
    return True


def started(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    return cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)


def test_send_back_from_a_review_to_the_window_reopens_both_reviews(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = work(services, users, started(services, users), "intake", ACCEPT)
    intake_id = next(
        e
        for e in queries.events(services, users["auditor"].user, view["id"])
        if e["type"] == "task_completed"
    )["task"]
    view = work(services, users, view, "review_licence", LICENCE_OK)
    food = open_task(view, "review_food")
    food_clerk = users["food_reviewer"].user
    offered = send_back.targets(services, food_clerk, food["id"])
    assert [t["element"] for t in offered["targets"]] == ["intake"]
    assert offered["targets"][0]["blocked"] is None

    view = send_back.send_back(services, food_clerk, food["id"], "intake", "营业执照复印件不清晰")
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    intake = open_task(view, "intake")
    assert intake["id"] != intake_id  # a new round, the earlier one keeps its row
    assert intake["assignee"] == "front_desk"  # back to whoever did it
    # the data is as it was before 一窗受理 decided: the reviews decide again afterwards
    assert "intake_decision" not in view["data"] and "licence_approved" not in view["data"]
    assert queries.get_task(services, food_clerk, food["id"])["status"] == "cancelled"
    events = queries.events(services, users["auditor"].user, view["id"])
    back = [e for e in events if e["type"] == "task_sent_back"]
    assert len(back) == 1 and back[0]["actor"] == "food_reviewer"
    assert back[0]["data"]["reason"] == "营业执照复印件不清晰"
    assert back[0]["data"]["renamed"][intake_id] == intake["id"]
    assert verified(services, users, view["id"])

    # the re-opened task says why it came back and shows the earlier decision
    with services.uow() as uow:
        why = send_back.reopened(uow.cases.events(view["id"]), intake["id"])
    assert why is not None and why["event"].data["reason"] == "营业执照复印件不清晰"
    assert why["earlier"].data["form"] == ACCEPT

    # the case goes on and ends; every step, the rewind included, re-executes
    view = work(services, users, view, "intake", ACCEPT)
    assert {t["element"] for t in view["tasks"]} == {"review_licence", "review_food"}
    view = work(services, users, view, "review_licence", LICENCE_OK)
    view = work(services, users, view, "review_food", FOOD_OK)
    view = work(services, users, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed"
    assert verified(services, users, view["id"])
    seq = back[0]["seq"]
    at = state_at(services, users["auditor"].user, view["id"], seq)
    assert at["matches_record"] and [t["element"] for t in at["tasks"]] == ["intake"]


@pytest.mark.parametrize("licence_first", [True, False])
def test_send_back_after_the_join_keeps_what_was_decided_before_the_target(
    services: Services, users: dict[str, Any], restaurant: Any, licence_first: bool
) -> None:
    """Both sides of the join: the other branch's decision is kept when it came before the
    target's, re-opened when it came after."""
    view = work(services, users, started(services, users), "intake", ACCEPT)
    order = [("review_licence", LICENCE_OK), ("review_food", FOOD_OK_INSPECT)]
    for element, form in order if licence_first else reversed(order):
        view = work(services, users, view, element, form)
    inspection = open_task(view, "site_inspection")
    inspector = users["inspector"].user
    assert [
        t["element"] for t in send_back.targets(services, inspector, inspection["id"])["targets"]
    ] == (
        ["intake", "review_licence", "review_food"]
        if licence_first
        else ["intake", "review_food", "review_licence"]
    )
    view = send_back.send_back(
        services, inspector, inspection["id"], "review_food", "需补充核查意见"
    )
    reopened = sorted(t["element"] for t in view["tasks"])
    if licence_first:  # decided before the food review: kept
        assert reopened == ["review_food"]
        assert view["data"]["licence_approved"] is True
    else:  # decided after it: open again
        assert reopened == ["review_food", "review_licence"]
        assert "licence_approved" not in view["data"]
    assert verified(services, users, view["id"])
    view = work(services, users, view, "review_food", FOOD_OK)
    if not licence_first:
        assert [t["element"] for t in view["tasks"]] == ["review_licence"]
        view = work(services, users, view, "review_licence", LICENCE_OK)
    assert [t["element"] for t in view["tasks"]] == ["joint_issuance"]
    view = work(services, users, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed" and verified(services, users, view["id"])


def test_send_back_refusals(services: Services, users: dict[str, Any], restaurant: Any) -> None:
    view = work(services, users, started(services, users), "intake", ACCEPT)
    food = open_task(view, "review_food")
    food_clerk = users["food_reviewer"].user
    with pytest.raises(Invalid, match="原因"):
        send_back.send_back(services, food_clerk, food["id"], "intake", " ")
    with pytest.raises(Invalid, match="只能退回到"):  # not on the path before this task
        send_back.send_back(services, food_clerk, food["id"], "site_inspection", "x")
    with pytest.raises(Invalid, match="只能退回到"):  # a sibling branch is not earlier
        view = work(services, users, view, "review_licence", LICENCE_OK)
        send_back.send_back(services, food_clerk, food["id"], "review_licence", "x")
    with pytest.raises(Forbidden):  # not the task's holder
        send_back.send_back(services, users["inspector"].user, food["id"], "intake", "x")
    assert verified(services, users, view["id"])


def test_recall_reopens_my_task_while_the_next_is_untouched(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = started(services, users)
    intake = open_task(view, "intake")
    desk = users["front_desk"].user
    view = cases.complete(services, desk, intake["id"], ACCEPT)
    reviews = {t["id"] for t in view["tasks"]}
    assert send_back.recallable(services, desk, view["id"]) == [
        {"task_id": intake["id"], "element": "intake", "seq": 2}
    ]
    with pytest.raises(Forbidden, match="只有办理人"):
        send_back.recall(services, users["market_reviewer"].user, intake["id"], "x")
    view = send_back.recall(services, desk, intake["id"], "受理意见写错了")
    again = open_task(view, "intake")
    assert again["id"] != intake["id"] and again["assignee"] == "front_desk"
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    for review in reviews:
        assert queries.get_task(services, desk, review)["status"] == "cancelled"
    assert "intake_decision" not in view["data"]
    assert verified(services, users, view["id"])
    # once the next task is claimed, it is too late
    view = cases.complete(services, desk, again["id"], ACCEPT)
    cases.claim(services, users["market_reviewer"].user, open_task(view, "review_licence")["id"])
    with pytest.raises(Conflict, match="已被 market_reviewer 认领"):
        send_back.recall(services, desk, again["id"], "x")
    assert send_back.recallable(services, desk, view["id"]) == []
    assert verified(services, users, view["id"])


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_recall_racing_the_next_claim_lets_exactly_one_win(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    desk, reviewer = users["front_desk"].user, users["market_reviewer"].user
    for _ in range(5):
        view = started(services, users)
        intake = open_task(view, "intake")["id"]
        view = cases.complete(services, desk, intake, ACCEPT)
        review = open_task(view, "review_licence")["id"]
        recalled, claimed = simultaneously(
            lambda intake=intake: send_back.recall(services, desk, intake, "撤回"),
            lambda review=review: cases.claim(services, reviewer, review),
        )
        wins = [not isinstance(r, Exception) for r in (recalled, claimed)]
        assert wins.count(True) == 1, (recalled, claimed)
        assert isinstance(recalled if not wins[0] else claimed, Conflict)
        assert verified(services, users, view["id"])


def _restaurant_with(tmp_path: Any, value: str) -> Any:
    import shutil

    from engine.bundles.source import from_path
    from tests.conftest import PROCESSES

    copy = tmp_path / "restaurant"
    shutil.copytree(PROCESSES / "restaurant", copy)
    diagram = copy / "restaurant.bpmn"
    text = diagram.read_text(encoding="utf-8")
    marker = '<camunda:property name="send_back" value="intake" />'
    assert text.count(marker) == 2
    diagram.write_text(
        text.replace(marker, f'<camunda:property name="send_back" value="{value}" />', 1)
    )
    return from_path(copy)


def test_the_designer_forbids_or_limits_send_back(
    services: Services, users: dict[str, Any], restaurant: Any, tmp_path: Any
) -> None:
    from engine.services import publishing

    with pytest.raises(Invalid) as refused:
        publishing.deploy(services, _restaurant_with(tmp_path / "a", "intake, nowhere"), "test")
    assert "send_back" in str(refused.value.errors) and "nowhere" in str(refused.value.errors)
    publishing.deploy(services, _restaurant_with(tmp_path / "b", "false"), "test")
    view = work(services, users, started(services, users), "intake", ACCEPT)
    licence = open_task(view, "review_licence")  # the first of the two: send_back="false"
    clerk = users["market_reviewer"].user
    assert send_back.targets(services, clerk, licence["id"]) == {
        "task_id": licence["id"],
        "allowed": False,
        "targets": [],
    }
    with pytest.raises(Forbidden, match="不允许"):
        send_back.send_back(services, clerk, licence["id"], "intake", "x")
    food = open_task(view, "review_food")  # still limited to 一窗受理
    assert [
        t["element"]
        for t in send_back.targets(services, users["food_reviewer"].user, food["id"])["targets"]
    ] == ["intake"]


def _timed_review() -> bytes:
    from tests.fixtures import bpmn

    return bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
  <bpmn:userTask id="a" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b" />
  <bpmn:userTask id="b" name="审查" camunda:candidateGroups="market_regulation" />
  <bpmn:boundaryEvent id="late" attachedToRef="b">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P10D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f4" sourceRef="late" targetRef="escalated" /><bpmn:endEvent id="escalated" />
  <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="e" /><bpmn:endEvent id="e" />""")


def test_sending_back_past_a_waiting_timer_leaves_no_stale_timer(
    services: Services, users: dict[str, Any]
) -> None:
    """SpiffWorkflow's reset past a waiting timer breaks the next step (docs/engine-guards.md,
    bug 3): the rewind re-executes the record instead, so the case goes on, the old timer's job
    finds nothing, and the timer of the new round fires on time."""
    from engine.bundles.source import from_upload
    from engine.services import publishing
    from engine.services.worker import run_due
    from tests.fixtures.clock import FakeClock

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("timed.bpmn", _timed_review()), "test")
    desk, reviewer = users["front_desk"].user, users["market_reviewer"].user
    view = cases.start_case(svc, desk, "p", {})
    view = cases.complete(svc, desk, open_task(view, "a")["id"], {})
    review = open_task(view, "b")  # its 10-day timer waits
    clock.advance(days=3)
    view = send_back.send_back(svc, reviewer, review["id"], "a", "材料不全")
    assert [t["element"] for t in view["tasks"]] == ["a"]
    clock.advance(days=1)
    view = cases.complete(svc, desk, open_task(view, "a")["id"], {})  # the next step works
    assert [t["element"] for t in view["tasks"]] == ["b"]
    clock.advance(days=7)  # the first round's timer would be due now: its job finds nothing
    assert run_due(svc) == 1
    assert queries.get_case(svc, users["auditor"].user, view["id"])["status"] == "running"
    clock.advance(days=4)  # the second round's timer, 10 days after it opened
    assert run_due(svc) == 1
    final = queries.get_case(svc, users["auditor"].user, view["id"])
    assert final["status"] == "completed" and final["outcome"]["element"] == "escalated"
    events = [e["type"] for e in queries.events(svc, users["auditor"].user, view["id"])]
    assert events.count("timer_fired") == 1 and "task_sent_back" in events
    assert replay(svc, None, view["id"])["verified"]
    # a fired timer is a step a rewind cannot undo: 一窗受理 is no longer offered


def test_only_the_tasks_opened_again_say_they_came_back(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = work(services, users, started(services, users), "intake", ACCEPT)
    food = open_task(view, "review_food")
    view = send_back.send_back(services, users["food_reviewer"].user, food["id"], "intake", "缺件")
    intake = open_task(view, "intake")
    view = work(services, users, view, "intake", ACCEPT)  # the reviews open the usual way
    with services.uow() as uow:
        events = uow.cases.events(view["id"])
    assert send_back.reopened(events, intake["id"]) is not None
    for task in view["tasks"]:
        assert send_back.reopened(events, task["id"]) is None


def test_nothing_goes_back_while_the_case_is_suspended(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from engine.services import suspension

    desk = users["front_desk"].user
    view = started(services, users)
    intake = open_task(view, "intake")["id"]
    view = cases.complete(services, desk, intake, ACCEPT)
    food = open_task(view, "review_food")["id"]
    suspension.suspend(services, users["food_reviewer"].user, view["id"], "样品送检", "testing")
    with pytest.raises(Conflict, match="样品送检"):
        send_back.send_back(services, users["food_reviewer"].user, food, "intake", "x")
    with pytest.raises(Conflict, match="样品送检"):
        send_back.recall(services, desk, intake, "x")
    suspension.resume(services, users["food_reviewer"].user, view["id"], "检测完成")
    view = send_back.recall(services, desk, intake, "受理意见需补充")
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    assert verified(services, users, view["id"])


def test_a_signer_takes_back_a_signature_of_a_running_huiqian(
    services: Services, users: dict[str, Any]
) -> None:
    """撤回 on one instance of a 会签: that signature is undone and signed again; the other
    department's instance stays open, untouched."""
    from engine.services import accounts
    from tests.fixtures import multi_sign as bundles

    fire, _ = accounts.create_user(services, "fire", "clerk", ["fire_dept"])
    health, _ = accounts.create_user(services, "health", "clerk", ["health_dept"])
    bundles.deploy(services, "joint")
    view = cases.start_case(
        services,
        users["front_desk"].user,
        "joint",
        {"shop_name": "好味餐厅", "departments": ["fire_dept", "health_dept"]},
    )
    by_group = {t["groups"][0]: t["id"] for t in view["tasks"]}
    view = cases.complete(services, fire, by_group["fire_dept"], {"decision": "reject"})
    assert sorted(t["groups"][0] for t in view["tasks"]) == ["health_dept"]
    view = send_back.recall(services, fire, by_group["fire_dept"], "选错了结论")
    reopened = {t["groups"][0]: t for t in view["tasks"]}
    assert set(reopened) == {"fire_dept", "health_dept"}
    assert reopened["health_dept"]["id"] == by_group["health_dept"]  # kept
    assert reopened["fire_dept"]["id"] != by_group["fire_dept"]  # opened again
    assert reopened["fire_dept"]["assignee"] == "fire"
    view = cases.complete(services, fire, reopened["fire_dept"]["id"], {"decision": "approve"})
    view = cases.complete(services, health, by_group["health_dept"], {"decision": "approve"})
    assert view["data"]["sign_result"] == "approved"
    assert [t["element"] for t in view["tasks"]] == ["issue"]
    assert verified(services, users, view["id"])


def test_a_review_sends_the_case_to_the_applicant_for_correction_where_allowed(
    services: Services, users: dict[str, Any], restaurant: Any, tmp_path: Any
) -> None:
    """退回申请人补正 (the bundle lists its 补正 task in the review's `send_back`): 一窗受理's
    acceptance is undone and 补正 decided in its place with the materials the reviewer lists;
    the case waits for the applicant's 补正, then goes on; the audit repeats it all."""
    from engine.services import publishing

    publishing.deploy(services, _restaurant_with(tmp_path, "intake, correction"), "test")
    view = work(services, users, started(services, users), "intake", ACCEPT)
    reviewer = users["market_reviewer"].user
    licence = open_task(view, "review_licence")
    offered = send_back.targets(services, reviewer, licence["id"])["targets"]
    assert [(t["element"], t["correction"]) for t in offered] == [
        ("intake", False),
        ("correction", True),
    ]
    with pytest.raises(Invalid, match="列明需补正的材料"):
        send_back.send_back(services, reviewer, licence["id"], "correction", "缺件")
    with pytest.raises(Invalid):  # not a material of the bundle
        send_back.send_back(services, reviewer, licence["id"], "correction", "缺件", ["passport"])
    view = send_back.send_back(
        services, reviewer, licence["id"], "correction", "名称申报告知书缺页", ["name_declaration"]
    )
    assert [t["element"] for t in view["tasks"]] == ["correction"]
    assert view["data"]["intake_decision"] == "correct"
    assert view["data"]["missing_materials"] == ["name_declaration"]
    events = queries.events(services, users["auditor"].user, view["id"])
    back = [e for e in events if e["type"] == "task_sent_back"][-1]
    assert back["data"]["correction"]["form"] == {
        "intake_decision": "correct",
        "missing_materials": ["name_declaration"],
    }
    assert verified(services, users, view["id"])
    view = work(services, users, view, "correction", {"supplied_materials": ["name_declaration"]})
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    view = work(services, users, view, "intake", ACCEPT)
    assert {t["element"] for t in view["tasks"]} == {"review_licence", "review_food"}
    assert verified(services, users, view["id"])
