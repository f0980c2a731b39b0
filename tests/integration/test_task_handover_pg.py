"""转办 and 委派 racing other steps on PostgreSQL (issue 18 · 2 and 3): each runs under the case
row lock, so of two steps at the same moment exactly one outcome holds and the other is refused
in words (or applies after it, on what the first left)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from engine.errors import Conflict, Forbidden, ServiceError
from engine.services import Services, accounts, cases, task_handover
from tests.conftest import PG_URL, _truncate
from tests.fixtures.concurrency import simultaneously
from tests.fixtures.restaurant import ACCEPT, APPLICATION

pytestmark = pytest.mark.postgres
ROUNDS = 5


@pytest.fixture
def db_url(pg_engine: Engine) -> str:
    """These races are about row locks: PostgreSQL only."""
    _truncate(pg_engine)
    return PG_URL


@pytest.fixture
def reviewers(services: Services, users: dict[str, Any], restaurant: Any) -> dict[str, Any]:
    made = {
        "market_reviewer": users["market_reviewer"].user,
        "front_desk": users["front_desk"].user,
    }
    for name in ("reviewer_b", "reviewer_c"):
        made[name] = accounts.create_user(services, name, "clerk", ["market_regulation"])[0]
    made["food_reviewer"] = users["food_reviewer"].user
    return made


def _review_task(services: Services, people: dict[str, Any]) -> tuple[int, str]:
    view = cases.start_case(services, people["front_desk"], "restaurant", APPLICATION)
    intake = next(t for t in view["tasks"] if t["element"] == "intake")
    view = cases.complete(services, people["front_desk"], intake["id"], ACCEPT)
    review = next(t for t in view["tasks"] if t["element"] == "review_licence")
    return view["id"], review["id"]


def _handovers(services: Services, case_id: int) -> list[Any]:
    with services.uow() as uow:
        return [e for e in uow.cases.events(case_id) if e.type.startswith(("task_", "delegation"))]


def _task(services: Services, task_id: str) -> Any:
    with services.uow() as uow:
        return uow.tasks.get(task_id)


def test_two_transfers_at_once_one_holds(services: Services, reviewers: dict[str, Any]) -> None:
    me = reviewers["market_reviewer"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, reviewers)
        cases.claim(services, me, task_id)
        results = simultaneously(
            lambda t=task_id: task_handover.transfer(services, me, t, "reviewer_b", "甲"),
            lambda t=task_id: task_handover.transfer(services, me, t, "reviewer_c", "乙"),
        )
        done = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(done) == 1 and len(refused) == 1, results
        # the later one found the task already given away: refused with who holds it now
        assert isinstance(refused[0], (Forbidden, Conflict))
        assert done[0]["assignee"] in refused[0].message
        assert _task(services, task_id).assignee == done[0]["assignee"]
        transferred = [e for e in _handovers(services, case_id) if e.type == "task_transferred"]
        assert [e.data["to"] for e in transferred] == [done[0]["assignee"]]


def test_a_transfer_racing_a_claim_one_holds(services: Services, reviewers: dict[str, Any]) -> None:
    me, other = reviewers["market_reviewer"], reviewers["reviewer_b"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, reviewers)
        results = simultaneously(
            lambda t=task_id: task_handover.transfer(services, me, t, "reviewer_c", "请丙办理"),
            lambda t=task_id: cases.claim(services, other, t),
        )
        moved, claimed = results
        task = _task(services, task_id)
        if isinstance(moved, dict):  # the transfer first: the claim finds it taken (409)
            assert isinstance(claimed, Conflict) and "reviewer_c" in claimed.message
            assert task.assignee == "reviewer_c"
        else:  # the claim first: the transfer is no longer mine to give (403)
            assert isinstance(claimed, dict) and claimed["assignee"] == "reviewer_b"
            assert isinstance(moved, Forbidden) and "reviewer_b" in moved.message
            assert task.assignee == "reviewer_b"
        kinds = [e.type for e in _handovers(services, case_id)]
        assert kinds.count("task_transferred") + kinds.count("task_claimed") == 1


def test_an_answer_racing_the_owner_completing_one_holds(
    services: Services, reviewers: dict[str, Any]
) -> None:
    """While delegated the owner cannot complete; at the same moment as the answer either the
    answer lands first and the completion applies after it, or the completion is refused."""
    me, them = reviewers["market_reviewer"], reviewers["food_reviewer"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, reviewers)
        task_handover.delegate(services, me, task_id, "food_reviewer", "请提意见")
        results = simultaneously(
            lambda t=task_id: task_handover.answer_delegation(services, them, t, "同意"),
            lambda t=task_id: cases.complete(services, me, t, {"licence_approved": True}),
        )
        answered, completed = results
        assert isinstance(answered, dict), answered
        task = _task(services, task_id)
        if isinstance(completed, dict):
            assert task.status == "completed" and task.ended_by == "market_reviewer"
        else:
            assert isinstance(completed, Conflict) and "food_reviewer" in completed.message
            assert task.status == "open" and task.assignee == "market_reviewer"
        assert task.owner is None


def test_two_claims_at_once_one_holds(services: Services, reviewers: dict[str, Any]) -> None:
    """The case row lock re-reads the tasks when it waited (case_repository `get_for_task`):
    before, the later claim saw the task as its snapshot had it, unclaimed, and took it over."""
    me, other = reviewers["market_reviewer"], reviewers["reviewer_b"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, reviewers)
        results = simultaneously(
            lambda t=task_id: cases.claim(services, me, t),
            lambda t=task_id: cases.claim(services, other, t),
        )
        done = [r for r in results if isinstance(r, dict)]
        assert len(done) == 1, results
        refused = next(r for r in results if not isinstance(r, dict))
        assert isinstance(refused, Conflict) and done[0]["assignee"] in refused.message
        assert _task(services, task_id).assignee == done[0]["assignee"]
        kinds = [e.type for e in _handovers(services, case_id)]
        assert kinds.count("task_claimed") == 1
