"""Migration 0013 (users.display_name, users.department) goes down and up again on both
databases without losing anyone's groups (a SQLite table rebuild would cascade into them)."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect

from engine.persistence.db import make_engine
from engine.persistence.schema import alembic_config
from engine.services import Services, accounts


def test_0013_down_and_up_keeps_the_users_and_their_groups(services: Services, db_url: str) -> None:
    accounts.create_user(
        services, "zhangmin", "clerk", ["front_desk", "inspection"], display_name="张敏"
    )
    engine = make_engine(db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0012")
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "display_name" not in columns and "department" not in columns
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    found: Any = next(u for u in accounts.list_users(services) if u.name == "zhangmin")
    assert found.groups == {"front_desk", "inspection"}
    assert (found.display_name, found.department) == (None, None)
    assert found.signature == "zhangmin"
