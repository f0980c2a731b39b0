"""A step's writes are queued and sent together (engine/persistence/writes.py): on PostgreSQL in
one pipeline. Reads still see them, a changed case is still caught, a failing write still fails
the whole transaction with the usual error, and nothing of a failed transaction is kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.model import HumanTask
from engine.errors import Conflict
from engine.persistence.tables import case_events, human_task_groups, human_tasks
from engine.persistence.tables import cases as case_rows
from engine.persistence.writes import ReadOnlyWrite, StaleWrite, _Compiled
from engine.services import Services, cases, queries
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
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
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
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
    events = _count(services, case_events)
    with services.uow(write=True) as uow:
        case = uow.cases.get(case_id)
        assert case is not None
        # the row changes after it was read (as another writer would change it, had the step
        # not locked it)
        uow.conn.execute(update(case_rows).where(case_rows.c.id == case_id).values(revision=99))
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
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
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
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case = cases.complete(services, desk, task_of(case, "intake")["id"], ACCEPT)
    with pipelines(services) as opened:
        # the task closed, its group rows, the case and its event: one pipeline
        case = cases.complete(services, food, task_of(case, "review_food")["id"], FOOD_OK)
    assert len(opened) == 1
    assert [t["element"] for t in case["tasks"]] == ["review_licence"]


def test_parallel_steps_of_one_case_still_queue_on_its_lock(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """The two parallel reviews completed at the same moment: both succeed, one after the
    other, and the case moves on exactly once."""
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case = cases.complete(services, desk, task_of(case, "intake")["id"], ACCEPT)
    food, market = users["food_reviewer"].user, users["market_reviewer"].user
    results = simultaneously(
        lambda: cases.complete(services, food, task_of(case, "review_food")["id"], FOOD_OK),
        lambda: cases.complete(services, market, task_of(case, "review_licence")["id"], LICENCE_OK),
    )
    assert all(isinstance(r, dict) for r in results), results
    final = queries.get_case(services, users["auditor"].user, case["id"])
    assert [t["element"] for t in final["tasks"]] == ["joint_issuance"]
    from engine.services.audit import replay

    assert replay(services, None, case["id"])["verified"]


def test_a_read_only_unit_of_work_refuses_to_write_or_lock(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
    tasks = _count(services, human_tasks)
    with services.uow() as uow:
        with pytest.raises(ReadOnlyWrite):
            uow.tasks.add_many([_task(case_id, "t-5")])  # queued writes
        with pytest.raises(ReadOnlyWrite):
            uow.conn.execute(update(case_rows).where(case_rows.c.id == case_id).values(revision=7))
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


def test_written_through_the_driver_every_value_reads_back_as_it_was(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """Queued writes go to the driver's cursor with SQLAlchemy's conversions (dates in UTC, JSON,
    days), one row or many: what is read back is what was written."""
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
    beijing = timezone(timedelta(hours=8))
    written = [
        HumanTask(
            id=f"t-{n}",
            case_id=case_id,
            element="review_food",
            name="食品经营许可审查",
            groups=("食药科", "窗口"),
            form="restaurant/review.json",
            created_at=datetime(2026, 3, 2, 17, n, tzinfo=beijing),
            assignee="王芳" if n == 1 else None,
            deadline=date(2026, 3, 16),
        )
        for n in range(1, 4)
    ]
    with services.uow(write=True) as uow:
        case = uow.cases.get(case_id, lock=True)  # (a read: it would send what is queued)
        assert case is not None
        uow.tasks.add_many(written[:2])  # one statement for two rows
        uow.tasks.add_many(written[2:])  # and for one
        case.data = {
            **case.data,
            "备注": '含 "引号" 与换行\n',
            "面积": 12.5,
            "层": [1, {"甲": None}],
        }
        case.updated_at = datetime(2026, 3, 2, 18, 0, tzinfo=beijing)
        uow.cases.save(case)
        assert len(uow.writes._pending) == 5  # tasks, groups, tasks, groups, case (no event)
        uow.commit()
    with services.uow() as uow:
        for task in written:
            stored = uow.tasks.get(task.id)
            assert stored == replace(task, created_at=task.created_at.astimezone(UTC))
            assert stored.created_at.tzinfo == UTC
        groups = uow.conn.execute(
            select(human_task_groups.c.task_id, human_task_groups.c.group_name)
            .where(human_task_groups.c.task_id.in_([t.id for t in written]))
            .order_by(human_task_groups.c.task_id, human_task_groups.c.group_name)
        ).all()
        assert len(groups) == 6
        stored_case = uow.cases.get(case_id)
        assert stored_case is not None
        assert stored_case.data == case.data and stored_case.revision == case.revision
        assert stored_case.updated_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_statement_events_still_see_the_queued_writes(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """Tracing and statement logs hook SQLAlchemy's cursor events: the writes sent straight to
    the driver go through them too, with their SQL and the driver's parameters."""
    case_id = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)["id"]
    seen: list[tuple[str, Any, bool]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        seen.append((sql, params, many))

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        with services.uow(write=True) as uow:
            uow.tasks.add_many([_task(case_id, "t-8"), _task(case_id, "t-9")])
            uow.commit()
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    inserts = [s for s in seen if s[0].startswith("INSERT INTO human_tasks ")]
    assert len(inserts) == 1 and inserts[0][2] is True and len(inserts[0][1]) == 2


def test_a_statement_the_shortcut_cannot_run_is_refused_loudly(services: Services) -> None:
    """A queued statement needing what only SQLAlchemy's own execution does (here a column
    default computed in Python) is refused, not written without it."""
    table = Table(
        "with_default",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("note", String(10), default=lambda: "computed"),
    )
    with pytest.raises(TypeError, match="not a statement for queued writes"):
        _Compiled(insert(table).inline(), services.engine.dialect, ["id"], False)
