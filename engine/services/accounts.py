"""Users: creating them, recognising them by their API token, signing in to the pages with a
password (throttled), and the session version that ends earlier sessions.

The changes an administrator makes (create, role and groups, password, token, unblock) take
`by`: the administrator on the 用户与分组 page (refused unless an admin), or None for the `lianban`
command, run by whoever holds the server. Each is recorded in `account_changes` in the same
transaction (`COMMAND_LINE` as the actor when `by` is None); passwords and tokens never are."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

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
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

from . import throttle

if TYPE_CHECKING:
    from engine.persistence.unit_of_work import UnitOfWork

    from .context import Services

# The actor recorded for a change made with the `lianban` command.
COMMAND_LINE = "命令行"
MAX_NAME = 100


def create_user(
    svc: Services,
    name: str,
    role: str,
    groups: list[str],
    *,
    by: User | None = None,
    display_name: str | None = None,
    department: str | None = None,
) -> tuple[User, str]:
    """Create a user; returns it with its token, which is shown this once and never stored.
    `display_name` and `department`: what documents the user signs print (optional)."""
    actor = _actor(by)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(
            "用户名无效", [{"message": "用户名不能为空, 且不超过 100 个字符", "field": "name"}]
        )
    parsed_role = _role(role)
    cleaned = _groups(groups)
    shown_name, place = _profile(display_name, department)
    token = new_token()
    with svc.uow(write=True) as uow:
        user = uow.users.add(name, parsed_role, cleaned, hash_token(token), svc.clock())
        if shown_name or place:
            uow.users.set_profile(name, shown_name, place)
            user = replace(user, display_name=shown_name, department=place)
        _record(svc, uow, actor, "create", name, None, _shown(user))
        uow.commit()
    return user, token


def _actor(by: User | None) -> str:
    """Who a change is recorded as; only an administrator may make one through the pages."""
    if by is None:
        return COMMAND_LINE
    if by.role is not Role.ADMIN:
        raise Forbidden("只有管理员可以管理用户与分组")
    return by.name


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise Invalid(
            "角色无效", [{"message": f"角色必须是 {roles} 之一", "field": "role"}]
        ) from None


def _groups(groups: list[str]) -> list[str]:
    """The group names given, trimmed, blanks and repeats dropped; a name with a comma (which
    `candidateGroups` would split) or over 100 characters is refused."""
    cleaned = list(dict.fromkeys(g.strip() for g in groups if g.strip()))
    bad = [g for g in cleaned if "," in g or len(g) > MAX_NAME]
    if bad:
        raise Invalid(
            "分组名称无效",
            [
                {
                    "message": f"分组名称 “{g[:40]}” 无效: 不能含英文逗号, 且不超过 100 个字符",
                    "field": "groups",
                }
                for g in bad
            ],
        )
    return cleaned


def _shown(user: User) -> dict[str, Any]:
    """What an account change records of a user: role and groups, and the display name and
    department once either is set."""
    shown: dict[str, Any] = {"role": str(user.role), "groups": sorted(user.groups)}
    if user.display_name or user.department:
        shown["display_name"] = user.display_name
        shown["department"] = user.department
    return shown


def _profile(display_name: str | None, department: str | None) -> tuple[str | None, str | None]:
    """The display name and department trimmed (blank: None), each at most 100 characters."""
    problems = []
    found: list[str | None] = []
    for value, field, label in (
        (display_name, "display_name", "姓名"),
        (department, "department", "部门"),
    ):
        value = (value or "").strip()
        if len(value) > MAX_NAME:
            problems.append({"message": f"{label}不超过 100 个字符", "field": field})
        found.append(value or None)
    if problems:
        raise Invalid("姓名或部门无效", problems)
    return found[0], found[1]


def _record(
    svc: Services,
    uow: UnitOfWork,
    actor: str,
    action: str,
    subject: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    uow.users.record_change(svc.clock(), actor, action, subject, before, after)


def authenticate(svc: Services, token: str | None) -> User:
    if not token:
        raise Unauthorized("需要登录: 请在 Authorization 头中提供 Bearer 令牌")
    with svc.uow() as uow:
        user = uow.users.by_token_hash(hash_token(token))
    if user is None:
        raise Unauthorized("令牌无效")
    return user


def reissue_token(svc: Services, name: str, *, by: User | None = None) -> str:
    """Give an existing user a new token; the old one stops working."""
    actor = _actor(by)
    token = new_token()
    with svc.uow(write=True) as uow:
        if not uow.users.set_token(name, hash_token(token)):
            raise NotFound(f"用户 {name} 不存在")
        _record(svc, uow, actor, "token", name)
        uow.commit()
    return token


def set_groups(svc: Services, name: str, groups: list[str], *, by: User | None = None) -> None:
    edit_user(svc, name, groups=groups, by=by)


def set_role(svc: Services, name: str, role: str, *, by: User | None = None) -> None:
    edit_user(svc, name, role=role, by=by)


def edit_user(
    svc: Services,
    name: str,
    *,
    role: str | None = None,
    groups: list[str] | None = None,
    by: User | None = None,
    display_name: str | None = None,
    department: str | None = None,
) -> User:
    """Change a user's role, groups, display name and department together (None: unchanged;
    an empty display name or department clears it), recorded as one change. The last
    administrator keeps the role: someone must be able to open this page."""
    actor = _actor(by)
    new_role = None if role is None else _role(role)
    new_groups = None if groups is None else _groups(groups)
    profile = None
    if display_name is not None or department is not None:
        profile = _profile(display_name, department)
    with svc.uow(write=True) as uow:
        user = uow.users.by_name(name)
        if user is None:
            raise NotFound(f"用户 {name} 不存在")
        if new_role is not None and new_role is not user.role:
            if user.role is Role.ADMIN and uow.users.count_role(Role.ADMIN) == 1:
                raise Conflict(
                    f"{name} 是唯一的管理员, 不能改为其他角色: 请先让另一位用户成为管理员"
                )
            uow.users.set_role(name, new_role)
        if new_groups is not None:
            uow.users.set_groups(name, new_groups)
        if profile is not None:
            uow.users.set_profile(
                name,
                user.display_name if display_name is None else profile[0],
                user.department if department is None else profile[1],
            )
        changed = uow.users.by_name(name)
        assert changed is not None  # found above, in this transaction
        if _shown(changed) != _shown(user):
            _record(svc, uow, actor, "edit", name, _shown(user), _shown(changed))
        uow.commit()
    return changed


def list_users(svc: Services) -> list[User]:
    with svc.uow() as uow:
        return uow.users.all()


def set_password(svc: Services, name: str, password: str, *, by: User | None = None) -> None:
    """Give a user a password for signing in to the web pages; the obvious ones are refused
    (engine.domain.passwords), the demo password among them. Every session the user had
    signed in ends."""
    actor = _actor(by)
    found = passwords.problems(password, name)
    if found:
        raise Invalid(
            "密码不符合要求: " + "; ".join(found),
            [{"message": problem, "field": "password"} for problem in found],
        )
    _store_password(svc, name, password, actor)


def set_demo_password(svc: Services, name: str) -> None:
    """Give a demo user the demo password (`lianban demo-users` only: a demo database)."""
    _store_password(svc, name, passwords.DEMO_PASSWORD, COMMAND_LINE)


def _store_password(svc: Services, name: str, password: str, actor: str) -> None:
    with svc.uow(write=True) as uow:
        if not uow.users.set_password(name, hash_password(password)):
            raise NotFound(f"用户 {name} 不存在")
        _record(svc, uow, actor, "password", name)
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


def unblock(svc: Services, name: str, *, by: User | None = None) -> bool:
    """Clear the sign-in throttle of an account name (an administrator helping someone locked
    out); whether it had a counter."""
    actor = _actor(by)
    with svc.uow(write=True) as uow:
        counter = uow.throttles.get(SIGN_IN_ACCOUNT, name)
        uow.throttles.clear(SIGN_IN_ACCOUNT, name)
        before = None
        if counter is not None:
            until = counter.blocked_until
            before = {
                "failures": counter.failures,
                "blocked_until": None if until is None else until.isoformat(),
            }
        _record(svc, uow, actor, "unblock", name, before, None)
        uow.commit()
    return counter is not None


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


def overview(svc: Services, by: User) -> dict[str, Any]:
    """The 用户与分组 page: every account, every group with its members, the latest changes."""
    _actor(by)
    with svc.uow() as uow:
        found = [_account(svc, row) for row in uow.users.accounts()]
        return {
            "accounts": found,
            "groups": _group_list(uow, [a["user"] for a in found]),
            "changes": [_change(svc, c) for c in uow.users.changes(limit=30)],
        }


def account(svc: Services, by: User, user_id: int) -> dict[str, Any]:
    """One account as its edit page shows it, with the changes made to it and the groups there
    are to pick from."""
    _actor(by)
    with svc.uow() as uow:
        rows = uow.users.accounts()
        found = next((r for r in rows if r["user"].id == user_id), None)
        if found is None:
            raise NotFound("用户不存在")
        name = found["user"].name
        return {
            **_account(svc, found),
            "changes": [_change(svc, c) for c in uow.users.changes(subject=name, limit=30)],
            "known_groups": [g["name"] for g in _group_list(uow, [r["user"] for r in rows])],
        }


def _account(svc: Services, row: dict[str, Any]) -> dict[str, Any]:
    """A listed account; `blocked_until` only while sign-in is refused now."""
    until = row["blocked_until"]
    blocked = until is not None and until > svc.clock()
    return {
        **row,
        "created_at": row["created_at"].astimezone(svc.tz),
        "blocked_until": until.astimezone(svc.tz) if blocked else None,
    }


def _change(svc: Services, change: dict[str, Any]) -> dict[str, Any]:
    return {**change, "at": change["at"].astimezone(svc.tz)}


def _group_list(uow: UnitOfWork, found: list[User]) -> list[dict[str, Any]]:
    """Every group a user belongs to or a bundle's task names (its latest version), by name:
    members, their count, and the tasks that wait for it (a group of tasks without members
    leaves those tasks unclaimable)."""
    sizes = uow.users.group_sizes()
    members: dict[str, list[str]] = {}
    for user in found:
        for group in user.groups:
            members.setdefault(group, []).append(user.name)
    tasks: dict[str, list[str]] = {}
    for version in uow.bundles.list_latest():
        for task in version.human_tasks.values():
            for group in task.groups:
                tasks.setdefault(group, []).append(f"{version.name} · {task.name}")
    return [
        {
            "name": name,
            "members": sorted(members.get(name, [])),
            "count": sizes.get(name, 0),
            "tasks": tasks.get(name, []),
        }
        for name in sorted(set(sizes) | set(tasks))
    ]
