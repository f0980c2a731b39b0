"""Receipt codes at rest: only keyed hashes in the database, and the codes printed before
migration 0007 (8 digits, stored as plain SHA-256) keep working once it has wrapped them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import select, text, update

from engine.bundles.source import from_upload
from engine.errors import Forbidden
from engine.persistence.db import make_engine
from engine.persistence.schema import alembic_config
from engine.persistence.tables import cases as case_rows
from engine.services import Services, accounts, cases, progress, publishing
from tests.conftest import FORMS
from tests.fixtures import bpmn

SECRET = "receipt-code-test-secret"


@pytest.fixture
def svc(db_url: str) -> Iterator[Services]:
    engine = make_engine(db_url)
    services = Services(engine, FORMS, secret_key=SECRET)
    publishing.deploy(services, from_upload("p.bpmn", bpmn.linear()), "test")
    yield services
    engine.dispose()


def _start(svc: Services) -> dict[str, object]:
    token = accounts.create_user(svc, f"desk{svc.clock().timestamp()}", "clerk", ["front_desk"])[1]
    return cases.start_case(svc, accounts.authenticate(svc, token), "p", {"applicant_name": "李四"})


def _hashes(svc: Services) -> dict[int, str]:
    with svc.engine.connect() as conn:
        return {
            r.id: r.access_hash
            for r in conn.execute(select(case_rows.c.id, case_rows.c.access_hash))
        }


def _migrate(db_url: str, revision: str, down: bool = False) -> None:
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            config.attributes["secret_key"] = SECRET
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def test_only_a_keyed_hash_of_a_new_code_is_stored(svc: Services) -> None:
    case = _start(svc)
    code = str(case["access_code"])
    stored = _hashes(svc)[int(str(case["id"]))]
    assert stored.startswith("hmac:")
    plain = hashlib.sha256(f"{case['id']}:{code}".encode()).hexdigest()
    assert code not in stored and code.replace("-", "") not in stored and plain not in stored
    assert progress.public_progress(svc, int(str(case["id"])), code.lower())["status"]
    elsewhere = Services(svc.engine, FORMS, secret_key="another-secret")
    with pytest.raises(Forbidden):  # without the server's secret the hash is worthless
        progress.public_progress(elsewhere, int(str(case["id"])), code)


def test_migration_0007_wraps_older_hashes_and_their_codes_keep_working(
    db_url: str, svc: Services
) -> None:
    old_case, new_case = _start(svc), _start(svc)
    old_id, new_id = int(str(old_case["id"])), int(str(new_case["id"]))
    new_hash = _hashes(svc)[new_id]
    svc.engine.dispose()
    try:
        _migrate(db_url, "0006", down=True)
        engine = make_engine(db_url)
        with engine.begin() as conn:  # a case as stored before 0007: unkeyed SHA-256
            plain = hashlib.sha256(f"{old_id}:12345678".encode()).hexdigest()
            conn.execute(
                update(case_rows).where(case_rows.c.id == old_id).values(access_hash=plain)
            )
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        engine.dispose()
    finally:
        _migrate(db_url, "head")
    stored = _hashes(svc)
    assert stored[old_id].startswith("hmac(sha256):") and plain not in stored[old_id]
    assert stored[new_id] == new_hash  # a keyed hash is left as it was
    assert all(h.startswith(("hmac:", "hmac(sha256):")) for h in stored.values())
    for typed in ("12345678", "1234 5678", "1234-5678"):
        assert progress.public_progress(svc, old_id, typed, "192.0.2.1")["id"] == old_id
    assert progress.public_progress(svc, new_id, str(new_case["access_code"]))["id"] == new_id
    with pytest.raises(Forbidden):
        progress.public_progress(svc, old_id, "12345679", "192.0.2.1")
    with pytest.raises(Forbidden):  # the 8 digits of one case are nothing for another
        progress.public_progress(svc, new_id, "12345678", "192.0.2.1")
