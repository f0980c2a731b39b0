"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, services, API client.

PostgreSQL comes from LIANBAN_TEST_PG_URL (default: the machine's server, database
lianban_test_<pid>, created for the run and dropped after it). When it cannot be reached the PostgreSQL tests fail with
the reason; they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from engine.persistence.db import make_engine, normalise_url
from engine.persistence.schema import upgrade
from engine.persistence.tables import metadata
from engine.services import Services, accounts, publishing

ROOT = Path(__file__).resolve().parents[1]
FORMS = ROOT / "forms"
PROCESSES = ROOT / "processes"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A database of this run's own (dropped at the end), so runs side by side do not collide.
PG_URL = os.environ.get(
    "LIANBAN_TEST_PG_URL", f"postgresql://postgres@127.0.0.1:5432/lianban_test_{os.getpid()}"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lianban")
    group.addoption(
        "--fuzz-examples",
        type=int,
        default=40,
        help="requests per API operation in tests/e2e/test_fuzz_api.py (make fuzz: 500)",
    )
    group.addoption(
        "--fuzz-seed",
        default=None,
        help="the API fuzz's random seed: a number, or 'random' for a new one (printed); "
        "by default the fuzz is derandomized and sends the same requests every run",
    )


def _pg_admin(url: str, statement: str) -> None:
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if statement == "create" and not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
            if statement == "drop" and exists:
                conn.exec_driver_sql(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    try:
        _pg_admin(PG_URL, "create")
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade(engine)
    except Exception as err:  # the reason goes into the failure, never a skip
        pytest.fail(f"PostgreSQL is required for these tests and is not usable at {PG_URL}: {err}")
    yield engine
    engine.dispose()
    if "LIANBAN_TEST_PG_URL" not in os.environ:
        _pg_admin(PG_URL, "drop")


def _truncate(engine: Engine) -> None:
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lianban.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        return url
    engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    return PG_URL


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    """Services on a fresh database with the working-day calendar seeded, as `init-db` does."""
    from engine.services import calendar

    engine = make_engine(db_url)
    svc = Services(engine, FORMS)
    calendar.seed(svc)
    yield svc
    engine.dispose()


@pytest.fixture
def app(services: Services) -> Any:
    from web import create_app

    return create_app({"SERVICES": services, "TESTING": True})


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


CLERKS = {
    "front_desk": ["front_desk"],
    "market_reviewer": ["market_regulation"],
    "food_reviewer": ["food_safety"],
    "inspector": ["inspection"],
    "issuer": ["issuance"],
    "other_clerk": ["front_desk"],
}


@pytest.fixture
def users(services: Services) -> dict[str, Any]:
    """Named users of every role; each value has .user and .token and .headers."""
    from types import SimpleNamespace

    made = {}
    specs = [(n, "clerk", g) for n, g in CLERKS.items()]
    specs += [("designer", "designer", []), ("auditor", "auditor", []), ("admin", "admin", [])]
    for name, role, groups in specs:
        user, token = accounts.create_user(services, name, role, groups)
        made[name] = SimpleNamespace(
            user=user, token=token, headers={"Authorization": f"Bearer {token}"}
        )
    return made


@pytest.fixture
def restaurant(services: Services) -> dict[str, Any]:
    """The shipped restaurant bundle, deployed."""
    from engine.bundles.source import from_path

    return publishing.deploy(services, from_path(PROCESSES / "restaurant"), "test")


@pytest.fixture
def interop(db_url: str) -> Iterator[Any]:
    """An API client on a fresh database whose clock the test moves, with a designer, an admin
    and clerks made on demand (tests/interop/harness.py): for diagrams from other modelers and
    the bundles of the catalogue."""
    from engine.services import calendar
    from tests.fixtures.clock import FakeClock
    from tests.interop.harness import Interop
    from web import create_app

    clock = FakeClock()
    engine = make_engine(db_url)
    svc = Services(engine, FORMS, clock=clock)
    calendar.seed(svc)
    app = create_app({"SERVICES": svc, "TESTING": True})
    yield Interop(app.test_client(), svc, clock)
    engine.dispose()
