"""Users: creating them, recognising them by their API token, signing in to the pages with a
password (throttled), and the session version that ends earlier sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.domain import passwords
from engine.domain.throttle import SIGN_IN_ACCOUNT, SIGN_IN_ADDRESS, TooManyAttempts
from engine.domain.users import (
    STAND_IN_HASH,
    Role,
    User,
    check_password,
    hash_password,
    hash_token,
    new_token,
)
from engine.errors import Invalid, NotFound, Unauthorized

from . import throttle

if TYPE_CHECKING:
    from .context import Services


def create_user(svc: Services, name: str, role: str, groups: list[str]) -> tuple[User, str]:
    """Create a user; returns it with its token, which is shown this once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid(
            "用户名无效", [{"message": "用户名不能为空, 且不超过 100 个字符", "field": "name"}]
        )
    try:
        parsed_role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise Invalid(
            "角色无效", [{"message": f"角色必须是 {roles} 之一", "field": "role"}]
        ) from None
    token = new_token()
    with svc.uow(write=True) as uow:
        user = uow.users.add(
            name,
            parsed_role,
            [g.strip() for g in groups if g.strip()],
            hash_token(token),
            svc.clock(),
        )
        uow.commit()
    return user, token


def authenticate(svc: Services, token: str | None) -> User:
    if not token:
        raise Unauthorized("需要登录: 请在 Authorization 头中提供 Bearer 令牌")
    with svc.uow() as uow:
        user = uow.users.by_token_hash(hash_token(token))
    if user is None:
        raise Unauthorized("令牌无效")
    return user


def reissue_token(svc: Services, name: str) -> str:
    """Give an existing user a new token; the old one stops working."""
    token = new_token()
    with svc.uow(write=True) as uow:
        if not uow.users.set_token(name, hash_token(token)):
            raise NotFound(f"用户 {name} 不存在")
        uow.commit()
    return token


def set_groups(svc: Services, name: str, groups: list[str]) -> None:
    with svc.uow(write=True) as uow:
        if not uow.users.set_groups(name, [g.strip() for g in groups if g.strip()]):
            raise NotFound(f"用户 {name} 不存在")
        uow.commit()


def list_users(svc: Services) -> list[User]:
    with svc.uow() as uow:
        return uow.users.all()


def set_password(svc: Services, name: str, password: str) -> None:
    """Give a user a password for signing in to the web pages; the obvious ones are refused
    (engine.domain.passwords), the demo password among them. Every session the user had
    signed in ends."""
    found = passwords.problems(password, name)
    if found:
        raise Invalid(
            "密码不符合要求: " + "; ".join(found),
            [{"message": problem, "field": "password"} for problem in found],
        )
    _store_password(svc, name, password)


def set_demo_password(svc: Services, name: str) -> None:
    """Give a demo user the demo password (`lianban demo-users` only: a demo database)."""
    _store_password(svc, name, passwords.DEMO_PASSWORD)


def _store_password(svc: Services, name: str, password: str) -> None:
    with svc.uow(write=True) as uow:
        if not uow.users.set_password(name, hash_password(password)):
            raise NotFound(f"用户 {name} 不存在")
        uow.commit()


WRONG = "用户名或密码不正确"


def sign_in(svc: Services, name: str, password: str, address: str = "") -> User:
    """The user whose name and password these are; one message for every failure.

    Throttled per account name and per address (engine.services.throttle): too many failures
    answer TooManyAttempts, known or unknown name alike. An unknown name, or a user without a
    password, costs the same scrypt work as a wrong password (checked against a stand-in
    hash), so the time taken does not tell which names exist."""
    attempt = throttle.keys((SIGN_IN_ACCOUNT, name), (SIGN_IN_ADDRESS, address))
    throttle.begin(svc, attempt, "登录")
    with svc.uow() as uow:
        user, stored = uow.users.credentials(name)
    matched = check_password(stored or STAND_IN_HASH, password)
    if user is None or stored is None or not matched:
        blocked = throttle.failed(svc, attempt)
        if blocked is not None:
            refused = throttle.too_many(svc, "登录", blocked, svc.clock())
            raise TooManyAttempts(f"{WRONG}。{refused.message}", refused.retry_after)
        raise Unauthorized(WRONG)
    throttle.succeeded(svc, attempt, reset=frozenset({SIGN_IN_ACCOUNT}))
    return user


def unblock(svc: Services, name: str) -> bool:
    """Clear the sign-in throttle of an account name (an administrator helping someone locked
    out); whether it had a counter."""
    with svc.uow(write=True) as uow:
        had = uow.throttles.get(SIGN_IN_ACCOUNT, name) is not None
        uow.throttles.clear(SIGN_IN_ACCOUNT, name)
        uow.commit()
    return had


def session_of(svc: Services, user_id: int) -> tuple[User, int] | None:
    """A signed-in user and their session version (what a valid session must carry)."""
    with svc.uow() as uow:
        return uow.users.session(user_id)


def end_sessions(svc: Services, user_id: int) -> None:
    """Sign the user out everywhere: every session signed in until now stops being valid."""
    with svc.uow(write=True) as uow:
        uow.users.end_sessions(user_id)
        uow.commit()


def user_by_id(svc: Services, user_id: int) -> User | None:
    with svc.uow() as uow:
        return uow.users.by_id(user_id)
