"""Who may claim, unclaim and complete a human task, decided without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskStatus
from engine.domain.users import Role, User, hash_token, new_token
from engine.errors import Conflict, Forbidden

DESK = User(1, "desk", Role.CLERK, frozenset({"front_desk"}))
DESK2 = User(2, "desk2", Role.CLERK, frozenset({"front_desk"}))
FOOD = User(3, "food", Role.CLERK, frozenset({"food_safety"}))
AUDITOR = User(4, "audit", Role.AUDITOR, frozenset({"front_desk"}))
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def task(**kw: object) -> HumanTask:
    return HumanTask(
        id="t1",
        case_id=1,
        element="intake",
        name="一窗受理",
        groups=("front_desk",),
        form=None,
        **kw,
    )  # type: ignore[arg-type]


def test_claim_rules() -> None:
    t = task()
    with pytest.raises(Forbidden):
        t.claim(FOOD)
    with pytest.raises(Forbidden):
        t.claim(AUDITOR)  # in the group, but not a clerk
    assert t.claim(DESK) is True
    assert t.claim(DESK) is False  # already theirs: no change, no event
    with pytest.raises(Conflict):
        t.claim(DESK2)
    with pytest.raises(Conflict):
        t.unclaim(DESK2)
    assert t.unclaim(DESK) is True and t.assignee is None
    assert t.unclaim(DESK) is False


def test_complete_rules() -> None:
    t = task()
    t.check_can_complete(DESK2)  # unclaimed: anyone of the group
    t.claim(DESK)
    with pytest.raises(Forbidden):
        t.check_can_complete(DESK2)
    t.check_can_complete(DESK)
    t.end(TaskStatus.COMPLETED, "desk", NOW)
    with pytest.raises(Conflict):
        t.check_can_complete(DESK)


def test_an_assignee_outside_the_groups_may_still_work_the_task() -> None:
    t = task(assignee="food")
    t.check_can_complete(FOOD)


def test_events_are_numbered_in_order() -> None:
    case = Case(1, "restaurant", 1, 1, CaseStatus.RUNNING, {}, "", 0, 0, "desk", NOW, NOW)
    first = case.record(EventType.CASE_STARTED, "desk", NOW)
    second = case.record(EventType.TASK_CLAIMED, "desk", NOW, task())
    assert (first.seq, second.seq, second.task_id, second.element) == (1, 2, "t1", "intake")
    assert case.new_events == [first, second]
    case.status = CaseStatus.COMPLETED
    with pytest.raises(Conflict):
        case.require_running()


def test_tokens_are_random_and_stored_hashed() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert hash_token(a) != a and len(hash_token(a)) == 64 and hash_token(a) == hash_token(a)
