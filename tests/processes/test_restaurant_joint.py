"""The shipped variant `processes/restaurant_joint` (我要开餐馆 (消防卫生会签)), on SQLite and
PostgreSQL through the services: 或签 of the two food inspectors named in the diagram, 会签 of the
消防 and 卫生 departments (both approve; one rejection ends it early at 不予许可告知), 退回 from the
会签 to 一窗受理; every case verifies by the audit's replay."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from engine.bundles.source import from_path
from engine.errors import Forbidden
from engine.services import Services, accounts, case_record, cases, publishing, queries, send_back
from engine.services.audit import replay
from tests.conftest import PROCESSES
from tests.fixtures.restaurant import (
    ACCEPT,
    APPLICATION,
    CLERK_OF,
    DENIAL,
    FOOD_OK,
    FOOD_OK_INSPECT,
    INSPECTION_OK,
    ISSUANCE,
    LICENCE_OK,
)

KEY = "restaurant_joint"
APPROVE = {"joint_decision": "approve", "joint_opinion": "符合要求"}
REJECT = {"joint_decision": "reject", "joint_opinion": "消防通道被占用, 不符合要求"}
# the group of each department signing the 会签 (the diagram's `signers`)
DEPARTMENT_OF = {"fire_officer": "fire_safety", "health_officer": "health"}


@pytest.fixture
def people(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    """The test clerks plus the variant's demo clerks: a second food inspector, 消防 and 卫生."""
    made = dict(users)
    extra = [("food_reviewer_b", "food_safety"), *DEPARTMENT_OF.items()]
    for name, group in extra:
        user, token = accounts.create_user(services, name, "clerk", [group])
        made[name] = SimpleNamespace(user=user, token=token)
    return made


@pytest.fixture
def variant(services: Services, people: dict[str, Any]) -> dict[str, Any]:
    return publishing.deploy(services, from_path(PROCESSES / KEY), "test")


def open_tasks(view: dict[str, Any], element: str) -> list[dict[str, Any]]:
    return [t for t in view["tasks"] if t["element"] == element]


def work(
    services: Services, people: dict[str, Any], view: dict[str, Any], element: str, form: Any
) -> dict[str, Any]:
    found = open_tasks(view, element)
    assert len(found) == 1, f"{element}: {[t['element'] for t in view['tasks']]}"
    return cases.complete(services, people[CLERK_OF[element]].user, found[0]["id"], form)


def instance(view: dict[str, Any], element: str, who: str) -> dict[str, Any]:
    """The 会签/或签 instance of `element` that `who` signs (by assignee or by group)."""
    for task in open_tasks(view, element):
        if task["assignee"] == who or DEPARTMENT_OF.get(who) in task["groups"]:
            return task
    raise AssertionError(f"no {element} task for {who}: {view['tasks']}")


def sign(
    services: Services,
    people: dict[str, Any],
    view: dict[str, Any],
    element: str,
    who: str,
    form: Any,
) -> dict[str, Any]:
    return cases.complete(services, people[who].user, instance(view, element, who)["id"], form)


def verified(services: Services, people: dict[str, Any], case_id: int) -> None:
    verdict = replay(services, people["auditor"].user, case_id)
    assert verdict["verified"] is True, verdict


def started(services: Services, people: dict[str, Any]) -> dict[str, Any]:
    view = cases.start_case(services, people["front_desk"].user, KEY, APPLICATION)
    return work(services, people, view, "intake", ACCEPT)


def reviewed(services: Services, people: dict[str, Any], food: Any = FOOD_OK) -> dict[str, Any]:
    """Accepted, 营业执照 approved, 食品经营 decided by food_reviewer_b: the 会签 is open."""
    view = work(services, people, started(services, people), "review_licence", LICENCE_OK)
    view = sign(services, people, view, "review_food", "food_reviewer_b", food)
    assert sorted(t["groups"][0] for t in open_tasks(view, "fire_health_review")) == [
        "fire_safety",
        "health",
    ]
    return view


def test_the_variant_deploys_without_errors_and_warnings_once_its_groups_have_members(
    services: Services, variant: dict[str, Any]
) -> None:
    assert variant["key"] == KEY and variant["version"] == 1
    # the test clerks are members of every group but 督办's `supervisors`
    assert [w["file"] for w in variant["warnings"]] == ["bundle.json"]
    assert "supervisors" in variant["warnings"][0]["message"]
    with services.uow() as uow:
        tasks = uow.bundles.get(KEY, 1).human_tasks
    assert tasks["review_food"].properties["signers"] == "food_reviewer, food_reviewer_b"
    assert tasks["fire_health_review"].form == "restaurant_joint/joint_review.json"
    assert tasks["fire_health_review"].properties["send_back"] == "intake"


def test_huoqian_the_second_inspector_decides_and_the_first_ones_task_is_cancelled(
    services: Services, people: dict[str, Any], variant: Any
) -> None:
    view = started(services, people)
    food = {t["assignee"]: t for t in open_tasks(view, "review_food")}
    assert set(food) == {"food_reviewer", "food_reviewer_b"}
    assert view["data"]["food_inspectors"] == ["food_reviewer", "food_reviewer_b"]
    # only the named inspector may complete their instance
    with pytest.raises(Forbidden):
        cases.complete(
            services, people["food_reviewer"].user, food["food_reviewer_b"]["id"], FOOD_OK
        )
    view = sign(services, people, view, "review_food", "food_reviewer_b", FOOD_OK_INSPECT)
    assert open_tasks(view, "review_food") == []
    first = queries.get_task(services, people["auditor"].user, food["food_reviewer"]["id"])
    assert first["status"] == "cancelled"
    assert view["data"]["review_food_result"] == "approved"
    assert view["data"]["food_approved"] is True and view["data"]["needs_inspection"] is True
    # the 会签 opens only when the licence review has joined
    assert open_tasks(view, "fire_health_review") == []
    view = work(services, people, view, "review_licence", LICENCE_OK)
    view = sign(services, people, view, "fire_health_review", "fire_officer", APPROVE)
    view = sign(services, people, view, "fire_health_review", "health_officer", APPROVE)
    assert view["data"]["fire_health_review_result"] == "approved"
    view = work(services, people, view, "site_inspection", INSPECTION_OK)
    view = work(services, people, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed"
    verified(services, people, view["id"])


def test_huiqian_both_departments_approve_and_the_case_goes_on_to_issuance(
    services: Services, people: dict[str, Any], variant: Any
) -> None:
    view = reviewed(services, people)
    view = sign(services, people, view, "fire_health_review", "health_officer", APPROVE)
    # one signature of two: the step is still open for 消防
    assert [t["groups"] for t in open_tasks(view, "fire_health_review")] == [["fire_safety"]]
    view = sign(services, people, view, "fire_health_review", "fire_officer", APPROVE)
    assert [t["element"] for t in view["tasks"]] == ["joint_issuance"]
    assert view["data"]["fire_health_review_result"] == "approved"
    signed = [s["signer"] for s in view["data"]["fire_health_review_signatures"]]
    assert sorted(signed) == ["fire_safety", "health"]
    view = work(services, people, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed"
    verified(services, people, view["id"])
    # the record lists both departments' decisions
    record = case_record.labelled_data(services, people["auditor"].user, view["id"])
    joint = [s for s in record["steps"] if s["element"] == "fire_health_review"]
    assert sorted((s["actor"], s["decision"]["text"]) for s in joint) == [
        ("fire_officer", "同意"),
        ("health_officer", "同意"),
    ]


def test_huiqian_one_rejection_ends_it_early_at_the_denial_notice(
    services: Services, people: dict[str, Any], variant: Any
) -> None:
    view = reviewed(services, people)
    health = instance(view, "fire_health_review", "health_officer")
    view = sign(services, people, view, "fire_health_review", "fire_officer", REJECT)
    assert [t["element"] for t in view["tasks"]] == ["denial_notice"]
    assert view["data"]["fire_health_review_result"] == "rejected"
    cancelled = queries.get_task(services, people["auditor"].user, health["id"])
    assert cancelled["status"] == "cancelled"
    events = queries.events(services, people["auditor"].user, view["id"])
    assert any(e["data"].get("signs_ended") for e in events if e["type"] == "task_completed")
    view = work(services, people, view, "denial_notice", DENIAL)
    assert view["status"] == "completed"
    verified(services, people, view["id"])


def test_send_back_from_the_huiqian_to_the_window_and_the_case_goes_on(
    services: Services, people: dict[str, Any], variant: Any
) -> None:
    view = reviewed(services, people)
    view = sign(services, people, view, "fire_health_review", "health_officer", APPROVE)
    fire = people["fire_officer"].user
    task = instance(view, "fire_health_review", "fire_officer")
    offered = send_back.targets(services, fire, task["id"])
    assert [t["element"] for t in offered["targets"]] == ["intake"]
    view = send_back.send_back(services, fire, task["id"], "intake", "经营场所地址与租赁合同不一致")
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    assert "fire_health_review_result" not in view["data"]
    verified(services, people, view["id"])

    # the window accepts again; both reviews and the 会签 are done anew
    view = work(services, people, view, "intake", ACCEPT)
    assert sorted(t["element"] for t in view["tasks"]) == [
        "review_food",
        "review_food",
        "review_licence",
    ]
    view = sign(services, people, view, "review_food", "food_reviewer", FOOD_OK)
    view = work(services, people, view, "review_licence", LICENCE_OK)
    view = sign(services, people, view, "fire_health_review", "fire_officer", APPROVE)
    view = sign(services, people, view, "fire_health_review", "health_officer", APPROVE)
    view = work(services, people, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed"
    events = queries.events(services, people["auditor"].user, view["id"])
    assert [e["actor"] for e in events if e["type"] == "task_sent_back"] == ["fire_officer"]
    verified(services, people, view["id"])


def test_send_back_from_the_huoqian_to_the_window(
    services: Services, people: dict[str, Any], variant: Any
) -> None:
    view = started(services, people)
    task = instance(view, "review_food", "food_reviewer")
    view = send_back.send_back(
        services, people["food_reviewer"].user, task["id"], "intake", "营业执照复印件不清晰"
    )
    assert [t["element"] for t in view["tasks"]] == ["intake"]
    view = work(services, people, view, "intake", ACCEPT)
    assert sorted(t["assignee"] or "" for t in open_tasks(view, "review_food")) == [
        "food_reviewer",
        "food_reviewer_b",
    ]
    verified(services, people, view["id"])
