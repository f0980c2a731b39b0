"""A step's writes are queued and sent together (engine/persistence/writes.py): on PostgreSQL in
one pipeline. Reads still see them, a changed case is still caught, a failing write still fails
the whole transaction with the usual error, and nothing of a failed transaction is kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.model import HumanTask
from engine.errors import Conflict
from engine.persistence.tables import case_events, cases, human_tasks
from engine.persistence.writes import ReadOnlyWrite, StaleWrite
from engine.services import Services
from tests.fixtures.concurrency import simultaneously
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, LICENCE_OK
from tests.integration.test_cases import task_of

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(case_id: int, task_id: str) -> HumanTask:
    return HumanTask(
        id=task_id,
        case_id=case_id,
        element="x",
        name="x",
        groups=("g",),
        form=None,
        created_at=NOW,
    )


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@contextmanager
def pipelines(services: Services) -> Iterator[list[int]]:
    """How many pipelines the block opened (PostgreSQL), by wrapping psycopg's."""
    import psycopg

    opened: list[int] = []
    original = psycopg.Connection.pipeline

    def counting(self: Any) -> Any:
        opened.append(1)
        return original(self)

    psycopg.Connection.pipeline = counting  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        psycopg.Connection.pipeline = original  # type: ignore[method-assign]


def test_a_read_sees_the_queued_writes_of_its_transaction(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = services.start_case(users["front_desk"].user, "restaurant", APPLICATION)["id"]
    with services.uow(write=True) as uow:
        uow.tasks.add_many([_task(case_id, "t-1"), _task(case_id, "t-2")])
        assert uow.writes._pending  # queued, not sent
        assert {t.id for t in uow.tasks.open_for_case(case_id)} >= {"t-1", "t-2"}
        assert not uow.writes._pending  # the read sent them first
    # not committed: gone
    with services.uow() as uow:
        assert not {t.id for t in uow.tasks.open_for_case(case_id)} & {"t-1", "t-2"}


def test_a_case_changed_since_it_was_read_is_not_overwritten(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = services.start_case(users["front_desk"].user, "restaurant", APPLICATION)["id"]
    events = _count(services, case_events)
    with services.uow(write=True) as uow:
        case = uow.cases.get(case_id)
        assert case is not None
        # the row changes after it was read (as another writer would change it, had the step
        # not locked it)
        uow.conn.execute(update(cases).where(cases.c.id == case_id).values(revision=99))
        case.data = {**case.data, "overwritten": True}
        uow.cases.save(case)
        uow.tasks.add_many([_task(case_id, "t-3")])
        with pytest.raises(StaleWrite) as raised:
            uow.commit()
        assert isinstance(raised.value, Conflict)
    with services.uow() as uow:  # nothing of that transaction was kept
        stored = uow.cases.get(case_id)
        assert stored is not None and "overwritten" not in stored.data
        assert stored.revision == 1
        assert uow.tasks.get("t-3") is None
    assert _count(services, case_events) == events


def test_a_failing_queued_write_fails_the_transaction_with_the_usual_error(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = services.start_case(users["front_desk"].user, "restaurant", APPLICATION)["id"]
    tasks = _count(services, human_tasks)
    with services.uow(write=True) as uow:
        uow.tasks.add_many([_task(case_id, "t-4")])
        uow.tasks.add_many([_task(case_id, "t-4")])  # the same id again
        with pytest.raises(IntegrityError):
            uow.commit()
    assert _count(services, human_tasks) == tasks
    # the connection is usable again afterwards
    with services.uow(write=True) as uow:
        uow.tasks.add_many([_task(case_id, "t-4")])
        uow.commit()
    assert _count(services, human_tasks) == tasks + 1


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_a_step_sends_its_writes_in_one_pipeline(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    desk, food = users["front_desk"].user, users["food_reviewer"].user
    case = services.start_case(desk, "restaurant", APPLICATION)
    case = services.complete(desk, task_of(case, "intake")["id"], ACCEPT)
    with pipelines(services) as opened:
        # the task closed, its group rows, the case and its event: one pipeline
        case = services.complete(food, task_of(case, "review_food")["id"], FOOD_OK)
    assert len(opened) == 1
    assert [t["element"] for t in case["tasks"]] == ["review_licence"]


def test_parallel_steps_of_one_case_still_queue_on_its_lock(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """The two parallel reviews completed at the same moment: both succeed, one after the
    other, and the case moves on exactly once."""
    desk = users["front_desk"].user
    case = services.start_case(desk, "restaurant", APPLICATION)
    case = services.complete(desk, task_of(case, "intake")["id"], ACCEPT)
    food, market = users["food_reviewer"].user, users["market_reviewer"].user
    results = simultaneously(
        lambda: services.complete(food, task_of(case, "review_food")["id"], FOOD_OK),
        lambda: services.complete(market, task_of(case, "review_licence")["id"], LICENCE_OK),
    )
    assert all(isinstance(r, dict) for r in results), results
    final = services.get_case(users["auditor"].user, case["id"])
    assert [t["element"] for t in final["tasks"]] == ["joint_issuance"]
    from engine.services.audit import replay

    assert replay(services, None, case["id"])["verified"]


def test_a_read_only_unit_of_work_refuses_to_write_or_lock(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = services.start_case(users["front_desk"].user, "restaurant", APPLICATION)["id"]
    tasks = _count(services, human_tasks)
    with services.uow() as uow:
        with pytest.raises(ReadOnlyWrite):
            uow.tasks.add_many([_task(case_id, "t-5")])  # queued writes
        with pytest.raises(ReadOnlyWrite):
            uow.conn.execute(update(cases).where(cases.c.id == case_id).values(revision=7))
        with pytest.raises(ReadOnlyWrite):  # a lock needs a transaction to hold it
            uow.cases.get(case_id, lock=True)
        assert uow.tasks.open_for_case(case_id)  # reading is fine
    assert _count(services, human_tasks) == tasks
    with services.uow() as uow:
        stored = uow.cases.get(case_id)
        assert stored is not None and stored.revision == 1


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_reading_opens_no_transaction(services: Services) -> None:
    from psycopg.pq import TransactionStatus

    with services.uow() as uow:
        uow.users.by_name("nobody")
        driver = uow.conn.connection.driver_connection
        assert driver is not None and driver.info.transaction_status == TransactionStatus.IDLE
    with services.uow(write=True) as uow:
        uow.users.by_name("nobody")
        driver = uow.conn.connection.driver_connection
        assert driver is not None and driver.info.transaction_status == TransactionStatus.INTRANS
    # and a connection handed back by a reader is a normal transactional one again
    with services.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None and driver.autocommit is False
