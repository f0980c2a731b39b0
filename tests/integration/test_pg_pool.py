"""PostgreSQL connections dropped by the server while pooled (a restart, an idle timeout).

A connection idle in the pool for longer than PING_AFTER_IDLE_S is pinged when taken out and
replaced if dead; one in continuous use is not pinged, and if it was dropped its transaction
fails with a transient error, which a step retries on a fresh connection."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, text

from engine.persistence import db
from engine.persistence.db import TransientError, make_engine
from engine.persistence.unit_of_work import UnitOfWork
from engine.services import Services, cases
from tests.conftest import PG_URL
from tests.fixtures.restaurant import ACCEPT, APPLICATION
from tests.integration.test_cases import task_of

pytestmark = pytest.mark.postgres


def _backend_pid(engine: Engine) -> int:
    with UnitOfWork(engine) as uow:
        return int(uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


@pytest.fixture
def engine(pg_engine: Engine) -> Any:
    engine = make_engine(PG_URL, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_unnoticed(engine: Engine) -> None:
    pid = _backend_pid(engine)
    _terminate(pid)
    time.sleep(db.PING_AFTER_IDLE_S + 0.2)
    assert _backend_pid(engine) != pid  # pinged, found dead, replaced: the read just works


def test_a_busy_connection_dropped_fails_once_as_transient_then_is_replaced(
    engine: Engine,
) -> None:
    pid = _backend_pid(engine)
    _terminate(pid)
    with pytest.raises(TransientError):  # used again at once: not pinged
        _backend_pid(engine)
    assert _backend_pid(engine) != pid


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_step_on_a_dropped_connection_is_retried_and_succeeds(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    for pid in {_backend_pid(services.engine) for _ in range(3)}:
        _terminate(pid)
    case = cases.complete(services, desk, task_of(case, "intake")["id"], ACCEPT)
    assert sorted(t["element"] for t in case["tasks"]) == ["review_food", "review_licence"]
