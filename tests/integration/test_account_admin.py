"""Administering accounts (the 用户与分组 page's use cases): only admins, every change recorded in
the append-only `account_changes` in its own transaction, bad input refused with nothing saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from engine.domain.throttle import SIGN_IN_ACCOUNT, TooManyAttempts
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from engine.persistence.tables import account_changes
from engine.services import Services, accounts

PASSWORD = "grüner tee 42"


def _changes(services: Services) -> list[dict[str, object]]:
    with services.engine.connect() as conn:
        rows = conn.execute(select(account_changes).order_by(account_changes.c.id)).all()
    return [dict(r._mapping) for r in rows]


@pytest.fixture
def admin(services: Services) -> User:
    user, _ = accounts.create_user(services, "root", "admin", [])
    return user


def test_each_change_is_recorded_with_who_and_what(services: Services, admin: User) -> None:
    user, token = accounts.create_user(
        services, " 冯九 ", "clerk", ["front_desk", " ", "front_desk", "inspection"], by=admin
    )
    assert user.name == "冯九" and user.groups == {"front_desk", "inspection"}
    changed = accounts.edit_user(
        services, "冯九", role="designer", groups=["drug_review"], by=admin
    )
    assert changed.role is Role.DESIGNER and changed.groups == {"drug_review"}
    accounts.set_password(services, "冯九", PASSWORD, by=admin)
    new = accounts.reissue_token(services, "冯九", by=admin)
    assert accounts.authenticate(services, new).name == "冯九"
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, token)
    assert accounts.unblock(services, "冯九", by=admin) is False

    recorded = _changes(services)
    assert [(c["actor"], c["action"], c["subject"]) for c in recorded] == [
        ("命令行", "create", "root"),  # the fixture's, made with the `lianban` command's call
        ("root", "create", "冯九"),
        ("root", "edit", "冯九"),
        ("root", "password", "冯九"),
        ("root", "token", "冯九"),
        ("root", "unblock", "冯九"),
    ]
    assert recorded[1]["after"] == {"role": "clerk", "groups": ["front_desk", "inspection"]}
    assert recorded[2]["before"] == {"role": "clerk", "groups": ["front_desk", "inspection"]}
    assert recorded[2]["after"] == {"role": "designer", "groups": ["drug_review"]}
    # no secret is recorded
    text = repr(recorded)
    assert PASSWORD not in text and token not in text and new not in text
    # an edit that changes nothing records nothing
    accounts.edit_user(services, "冯九", role="designer", groups=["drug_review"], by=admin)
    assert len(_changes(services)) == len(recorded)


def test_only_an_admin_may_change_or_list_accounts(services: Services, admin: User) -> None:
    designer, _ = accounts.create_user(services, "设计员", "designer", [])
    before = _changes(services)
    with pytest.raises(Forbidden):
        accounts.create_user(services, "x", "clerk", [], by=designer)
    with pytest.raises(Forbidden):
        accounts.edit_user(services, "设计员", role="admin", by=designer)
    with pytest.raises(Forbidden):
        accounts.set_password(services, "root", PASSWORD, by=designer)
    with pytest.raises(Forbidden):
        accounts.reissue_token(services, "root", by=designer)
    with pytest.raises(Forbidden):
        accounts.unblock(services, "root", by=designer)
    with pytest.raises(Forbidden):
        accounts.overview(services, designer)
    with pytest.raises(Forbidden):
        accounts.account(services, designer, admin.id)
    assert _changes(services) == before
    assert accounts.user_by_id(services, designer.id) == designer


def test_bad_input_is_refused_and_nothing_is_saved(services: Services, admin: User) -> None:
    accounts.create_user(services, "褚十", "clerk", ["front_desk"], by=admin)
    before = _changes(services)
    with pytest.raises(Invalid, match="角色无效"):
        accounts.edit_user(services, "褚十", role="boss", groups=["issuance"], by=admin)
    with pytest.raises(Invalid) as refused:
        accounts.edit_user(services, "褚十", role="designer", groups=["a,b", "x" * 101], by=admin)
    assert len(refused.value.errors) == 2
    assert "不能含英文逗号" in refused.value.errors[0]["message"]
    with pytest.raises(Invalid) as weak:
        accounts.set_password(services, "褚十", "12345678", by=admin)
    assert "连续的字母、数字" in weak.value.errors[0]["message"]
    with pytest.raises(Conflict, match="已存在"):
        accounts.create_user(services, "褚十", "designer", ["issuance"], by=admin)
    with pytest.raises(Invalid, match="分组名称无效"):
        accounts.create_user(services, "卫十一", "clerk", ["a,b"], by=admin)
    with pytest.raises(NotFound):
        accounts.edit_user(services, "nobody", role="clerk", by=admin)
    with pytest.raises(Conflict, match="唯一的管理员"):
        accounts.edit_user(services, "root", role="clerk", groups=["x"], by=admin)

    assert _changes(services) == before
    found = {u.name: u for u in accounts.list_users(services)}
    assert set(found) == {"root", "褚十"}
    assert found["褚十"].role is Role.CLERK and found["褚十"].groups == {"front_desk"}
    assert found["root"].role is Role.ADMIN and found["root"].groups == frozenset()
    # with a second administrator the first may step down
    accounts.edit_user(services, "褚十", role="admin", by=admin)
    accounts.edit_user(services, "root", role="auditor", by=admin)


def test_the_overview_lists_accounts_groups_and_blocked_sign_ins(
    services: Services, admin: User, restaurant: object
) -> None:
    accounts.create_user(services, "蒋一", "clerk", ["front_desk", "inspection"], by=admin)
    accounts.create_user(services, "沈二", "clerk", ["front_desk"], by=admin)
    accounts.set_password(services, "沈二", PASSWORD)
    for _ in range(5):
        with pytest.raises((Unauthorized, TooManyAttempts)):
            accounts.sign_in(services, "沈二", "wrong password")

    found = accounts.overview(services, admin)
    by_name = {a["user"].name: a for a in found["accounts"]}
    assert list(by_name) == sorted(by_name)
    assert by_name["沈二"]["has_password"] and not by_name["蒋一"]["has_password"]
    assert by_name["沈二"]["blocked_until"] > services.clock().astimezone(services.tz)
    assert by_name["蒋一"]["blocked_until"] is None
    groups = {g["name"]: g for g in found["groups"]}
    assert groups["front_desk"]["count"] == 2
    assert groups["front_desk"]["members"] == ["沈二", "蒋一"]
    assert any("受理" in t or "窗口" in t for t in groups["front_desk"]["tasks"])
    # the restaurant's groups nobody belongs to are listed, with no members
    assert groups["issuance"]["count"] == 0 and groups["issuance"]["tasks"]
    assert found["changes"][0]["action"] == "password"  # the latest first

    assert accounts.unblock(services, "沈二", by=admin) is True
    again = accounts.account(services, admin, by_name["沈二"]["user"].id)
    assert again["blocked_until"] is None and again["failures"] == 0
    assert [c["action"] for c in again["changes"]] == ["unblock", "password", "create"]
    assert again["changes"][0]["before"]["blocked_until"]  # it was blocked
    assert "inspection" in again["known_groups"]
    with pytest.raises(NotFound):
        accounts.account(services, admin, 999_999)


def test_a_lapsed_block_is_not_shown_as_blocked(services: Services, admin: User) -> None:
    from engine.persistence.tables import throttles

    accounts.create_user(services, "韩三", "clerk", [])
    accounts.set_password(services, "韩三", PASSWORD)
    for _ in range(5):
        with pytest.raises((Unauthorized, TooManyAttempts)):
            accounts.sign_in(services, "韩三", "wrong password")
    past = services.clock() - timedelta(minutes=1)
    with services.engine.begin() as conn:
        conn.execute(
            update(throttles)
            .where(throttles.c.scope == SIGN_IN_ACCOUNT, throttles.c.subject == "韩三")
            .values(blocked_until=past)
        )
    shown = {a["user"].name: a for a in accounts.overview(services, admin)["accounts"]}
    assert shown["韩三"]["blocked_until"] is None


def test_account_changes_are_append_only(services: Services, admin: User) -> None:
    for statement in (
        update(account_changes).values(actor="someone else"),
        delete(account_changes),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with services.engine.begin() as conn:
                conn.execute(statement)
    assert [c["actor"] for c in _changes(services)] == ["命令行"]
