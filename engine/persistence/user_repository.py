"""Users, their groups, their API token hashes and sign-in passwords."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.throttle import SIGN_IN_ACCOUNT
from engine.domain.users import Role, User, signature
from engine.errors import Conflict

from .inserts import insert_id
from .tables import account_changes, throttles, user_groups, users


def _user_query(condition: Any) -> Any:
    """A user with their groups, one row per group (or one row with no group): one statement."""
    return (
        select(
            users.c.id,
            users.c.name,
            users.c.role,
            users.c.display_name,
            users.c.department,
            user_groups.c.group_name,
        )
        .outerjoin(user_groups, user_groups.c.user_id == users.c.id)
        .where(condition)
    )


_USER_BY_TOKEN_HASH = _user_query(users.c.token_hash == bindparam("token_hash"))
_CREDENTIALS = _user_query(users.c.name == bindparam("name")).add_columns(users.c.password_hash)
_SESSION = _user_query(users.c.id == bindparam("user_id")).add_columns(users.c.session_version)


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, name: str, role: Role, groups: list[str], token_hash: str, at: datetime) -> User:
        try:
            user_id = insert_id(
                self.conn,
                insert(users).values(
                    name=name, role=str(role), token_hash=token_hash, created_at=at
                ),
            )
        except IntegrityError:
            raise Conflict(f"用户 {name} 已存在") from None
        if groups:
            self.conn.execute(
                insert(user_groups),
                [{"user_id": user_id, "group_name": g} for g in dict.fromkeys(groups)],
            )
        return User(int(user_id), name, role, frozenset(groups))

    def set_token(self, name: str, token_hash: str) -> bool:
        """Replace a user's token; the old one stops working at once."""
        result = self.conn.execute(
            update(users).where(users.c.name == name).values(token_hash=token_hash)
        )
        return result.rowcount == 1

    def set_password(self, name: str, password_hash: str) -> bool:
        """A new password; it also ends every session signed in with the old one."""
        result = self.conn.execute(
            update(users)
            .where(users.c.name == name)
            .values(password_hash=password_hash, session_version=users.c.session_version + 1)
        )
        return result.rowcount == 1

    def credentials(self, name: str) -> tuple[User | None, str | None]:
        """The user of this name and their password hash, in one statement (None, None for
        an unknown name)."""
        rows = list(self.conn.execute(_CREDENTIALS, {"name": name}).all())
        user = self._user(rows)
        return user, (None if user is None else rows[0].password_hash)

    def session(self, user_id: int) -> tuple[User, int] | None:
        """The user with their session version, in one statement."""
        rows = list(self.conn.execute(_SESSION, {"user_id": user_id}).all())
        user = self._user(rows)
        return None if user is None else (user, int(rows[0].session_version))

    def end_sessions(self, user_id: int) -> bool:
        """Raise the session version: every session signed in before stops being valid."""
        result = self.conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(session_version=users.c.session_version + 1)
        )
        return result.rowcount == 1

    def by_id(self, user_id: int) -> User | None:
        return self._one(users.c.id == user_id)

    def by_name(self, name: str) -> User | None:
        return self._one(users.c.name == name)

    def set_groups(self, name: str, groups: list[str]) -> bool:
        user_id = self.conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
        if user_id is None:
            return False
        self.conn.execute(delete(user_groups).where(user_groups.c.user_id == user_id))
        if groups:
            self.conn.execute(
                insert(user_groups),
                [{"user_id": user_id, "group_name": g} for g in dict.fromkeys(groups)],
            )
        return True

    def all(self) -> list[User]:
        rows = self.conn.execute(select(users).order_by(users.c.name)).all()
        memberships: dict[int, list[str]] = {}
        for user_id, group in self.conn.execute(
            select(user_groups.c.user_id, user_groups.c.group_name)
        ):
            memberships.setdefault(user_id, []).append(group)
        return [
            User(
                r.id,
                r.name,
                Role(r.role),
                frozenset(memberships.get(r.id, [])),
                r.display_name,
                r.department,
            )
            for r in rows
        ]

    def set_profile(self, name: str, display_name: str | None, department: str | None) -> bool:
        """The display name and department printed documents sign with (None: unset)."""
        result = self.conn.execute(
            update(users)
            .where(users.c.name == name)
            .values(display_name=display_name, department=department)
        )
        return result.rowcount == 1

    def signatures(self, names: Iterable[str]) -> dict[str, str]:
        """{login name: "display name (department)"} of the users among `names`."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(users.c.name, users.c.display_name, users.c.department).where(
                users.c.name.in_(wanted)
            )
        )
        return {r.name: signature(r.name, r.display_name, r.department) for r in rows}

    def set_role(self, name: str, role: Role) -> bool:
        result = self.conn.execute(update(users).where(users.c.name == name).values(role=str(role)))
        return result.rowcount == 1

    def count_role(self, role: Role) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(users).where(users.c.role == str(role))
            ).scalar_one()
        )

    def group_sizes(self) -> dict[str, int]:
        """{group name: how many users belong to it}; a group nobody belongs to is absent."""
        rows = self.conn.execute(
            select(user_groups.c.group_name, func.count()).group_by(user_groups.c.group_name)
        )
        return {str(name): int(count) for name, count in rows}

    def accounts(self) -> list[dict[str, Any]]:
        """Every user by name with what an administrator sees: created, whether a password is
        set, and until when sign-in is refused (the account's throttle counter, if any)."""
        query = (
            select(
                users.c.id,
                users.c.created_at,
                users.c.password_hash.is_not(None).label("has_password"),
                throttles.c.blocked_until,
                throttles.c.failures,
            )
            .outerjoin(
                throttles,
                and_(throttles.c.scope == SIGN_IN_ACCOUNT, throttles.c.subject == users.c.name),
            )
            .order_by(users.c.name)
        )
        found = {row.id: row for row in self.conn.execute(query)}
        return [
            {
                "user": user,
                "created_at": found[user.id].created_at,
                "has_password": bool(found[user.id].has_password),
                "blocked_until": found[user.id].blocked_until,
                "failures": int(found[user.id].failures or 0),
            }
            for user in self.all()
            if user.id in found
        ]

    def record_change(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        self.conn.execute(
            insert(account_changes).values(
                at=at, actor=actor, action=action, subject=subject, before=before, after=after
            )
        )

    def changes(self, subject: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The latest account changes first (of one user's account when `subject` is given)."""
        query = select(account_changes).order_by(account_changes.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(account_changes.c.subject == subject)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    def by_token_hash(self, token_hash: str) -> User | None:
        rows = self.conn.execute(_USER_BY_TOKEN_HASH, {"token_hash": token_hash}).all()
        return self._user(list(rows))

    def _one(self, condition: Any) -> User | None:
        return self._user(list(self.conn.execute(_user_query(condition)).all()))

    @staticmethod
    def _user(rows: list[Any]) -> User | None:
        """The user of `_user_query`'s rows (they all name the same user), or None."""
        if not rows:
            return None
        row = rows[0]
        groups = frozenset(r.group_name for r in rows if r.group_name is not None)
        return User(row.id, row.name, Role(row.role), groups, row.display_name, row.department)
