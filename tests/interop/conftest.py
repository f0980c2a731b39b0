"""The `interop` fixture: an API client on a fresh database (SQLite and PostgreSQL) whose clock
the test moves, with a designer, an admin and clerks made on demand (harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.persistence.db import make_engine
from engine.services import Services, calendar
from tests.conftest import FORMS
from tests.fixtures.clock import FakeClock

from .harness import Interop


@pytest.fixture
def interop(db_url: str) -> Iterator[Interop]:
    from web import create_app

    clock = FakeClock()
    engine = make_engine(db_url)
    svc = Services(engine, FORMS, clock=clock)
    calendar.seed(svc)
    app = create_app({"SERVICES": svc, "TESTING": True})
    yield Interop(app.test_client(), svc, clock)
    engine.dispose()
