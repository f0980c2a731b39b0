"""Creating users and recognising them by their API token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.domain.users import (
    Role,
    User,
    check_password,
    hash_password,
    hash_token,
    new_token,
)
from engine.errors import Invalid, NotFound, Unauthorized

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


MIN_PASSWORD_LENGTH = 8


def set_password(svc: Services, name: str, password: str) -> None:
    """Give a user a password for signing in to the web pages."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"密码太短: 至少 {MIN_PASSWORD_LENGTH} 个字符",
            [{"message": f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", "field": "password"}],
        )
    with svc.uow(write=True) as uow:
        if not uow.users.set_password(name, hash_password(password)):
            raise NotFound(f"用户 {name} 不存在")
        uow.commit()


def sign_in(svc: Services, name: str, password: str) -> User:
    """The user whose name and password these are; one message for every failure."""
    with svc.uow() as uow:
        stored = uow.users.password_hash(name)
        user = uow.users.by_name(name) if stored else None
    if user is None or not check_password(stored, password):
        raise Unauthorized("用户名或密码不正确")
    return user


def user_by_id(svc: Services, user_id: int) -> User | None:
    with svc.uow() as uow:
        return uow.users.by_id(user_id)
