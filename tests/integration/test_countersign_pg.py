"""加签 racing on PostgreSQL (issue 18 · 5): under the case row lock, of two 加签 on one task at
the same moment exactly one holds and the other is a clear 409; a signature racing a 减签
likewise leaves one outcome."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from engine.errors import Conflict, Forbidden, ServiceError
from engine.services import Services, accounts, audit, cases, countersign
from tests.conftest import PG_URL, _truncate
from tests.fixtures.concurrency import simultaneously
from tests.fixtures.restaurant import ACCEPT, APPLICATION, LICENCE_OK

pytestmark = pytest.mark.postgres
ROUNDS = 5


@pytest.fixture
def db_url(pg_engine: Engine) -> str:
    """These races are about row locks: PostgreSQL only."""
    _truncate(pg_engine)
    return PG_URL


@pytest.fixture
def people(services: Services, users: dict[str, Any], restaurant: Any) -> dict[str, Any]:
    made = {name: users[name].user for name in ("market_reviewer", "front_desk", "auditor")}
    for name in ("signer_b", "signer_c"):
        made[name] = accounts.create_user(services, name, "clerk", ["food_safety"])[0]
    return made


def _review_task(services: Services, people: dict[str, Any]) -> tuple[int, str]:
    view = cases.start_case(services, people["front_desk"], "restaurant", APPLICATION)
    intake = next(t for t in view["tasks"] if t["element"] == "intake")
    view = cases.complete(services, people["front_desk"], intake["id"], ACCEPT)
    review = next(t for t in view["tasks"] if t["element"] == "review_licence")
    cases.claim(services, people["market_reviewer"], review["id"])
    return view["id"], review["id"]


def _added(services: Services, case_id: int) -> list[Any]:
    with services.uow() as uow:
        return [e for e in uow.cases.events(case_id) if e.type == "signer_added"]


def test_two_signers_added_at_once_one_holds(services: Services, people: dict[str, Any]) -> None:
    me = people["market_reviewer"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, people)
        results = simultaneously(
            lambda t=task_id: countersign.add_signer(services, me, t, "before", "signer_b", "甲"),
            lambda t=task_id: countersign.add_signer(
                services, me, t, "after", "signer_c", "乙", LICENCE_OK
            ),
        )
        done = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(done) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], Conflict) and refused[0].status == 409
        assert f"任务正在等待 {done[0]['assignee']} 加签" in refused[0].message
        added = _added(services, case_id)
        assert [e.data["to"] for e in added] == [done[0]["assignee"]]
        with services.uow() as uow:
            task = uow.tasks.get(task_id)
        assert task is not None and (task.owner, task.assignee) == (me.name, done[0]["assignee"])


def test_a_signature_racing_a_removal_one_holds(services: Services, people: dict[str, Any]) -> None:
    me, signer = people["market_reviewer"], people["signer_b"]
    for _ in range(ROUNDS):
        case_id, task_id = _review_task(services, people)
        countersign.add_signer(services, me, task_id, "after", "signer_b", "复核", LICENCE_OK)
        results = simultaneously(
            lambda t=task_id: countersign.sign(services, signer, t, "approve", ""),
            lambda t=task_id: countersign.remove_signer(services, me, t, "不用了"),
        )
        done = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(done) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], (Conflict, Forbidden))
        with services.uow() as uow:
            types = [str(e.type) for e in uow.cases.events(case_id)]
        assert ("added_signature" in types) != ("signer_removed" in types)
        verdict = audit.replay(services, people["auditor"], case_id)
        assert verdict["verified"] is True, verdict
