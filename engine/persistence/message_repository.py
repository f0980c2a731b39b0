"""The staff message centre (issue 17 · G): messages to staff, one row per recipient.

Messages caused by a step are queued with the step's other writes (writes.py) and sent with them:
a task's group members are found by the database itself (`INSERT ... SELECT` over the task's
`human_task_groups` rows and `user_groups`), one statement per step whatever the number of tasks
or members, and no round trip before the commit. The unread count is one COUNT over the index
(user_name, read_at)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from .tables import case_events, human_task_groups, staff_messages, user_groups, users
from .writes import DeferredWrites

_COLUMNS = ["user_name", "kind", "title", "body", "case_id", "task_id", "created_at"]
# The message's own values, bound once per statement; the recipient comes from the query.
_BOUND = [bindparam(name, type_=staff_messages.c[name].type) for name in _COLUMNS[1:]]

# A message to every member of the task's groups (each once), but the one who caused it.
_TO_TASK_GROUPS = (
    insert(staff_messages)
    .from_select(
        _COLUMNS,
        select(
            users.c.name,
            *_BOUND,
        )
        .distinct()
        .select_from(
            human_task_groups.join(
                user_groups, user_groups.c.group_name == human_task_groups.c.group_name
            ).join(users, users.c.id == user_groups.c.user_id)
        )
        .where(
            human_task_groups.c.task_id == bindparam("task_id"),
            users.c.name != bindparam("actor", type_=users.c.name.type),
        ),
    )
    .inline()
)
# A message to every member of one group, but the one who caused it.
_TO_GROUP = (
    insert(staff_messages)
    .from_select(
        _COLUMNS,
        select(
            users.c.name,
            *_BOUND,
        )
        .select_from(user_groups.join(users, users.c.id == user_groups.c.user_id))
        .where(
            user_groups.c.group_name == bindparam("group_name"),
            users.c.name != bindparam("actor", type_=users.c.name.type),
        ),
    )
    .inline()
)
_TO_USER = insert(staff_messages).inline()

_UNREAD = (
    select(func.count())
    .select_from(staff_messages)
    .where(staff_messages.c.user_name == bindparam("user_name"), staff_messages.c.read_at.is_(None))
)


class MessageRepository:
    def __init__(self, conn: Connection, writes: DeferredWrites) -> None:
        self.conn = conn
        self.writes = writes

    def to_task_groups(self, messages: list[dict[str, Any]], actor: str) -> None:
        """Queue messages to the members of each task's groups: each dict has kind, title,
        body, case_id, task_id (whose group rows are written in this transaction or before)
        and created_at."""
        if messages:
            self.writes.add(_TO_TASK_GROUPS, [{**m, "actor": actor} for m in messages])

    def to_group(self, group: str, message: dict[str, Any], actor: str) -> None:
        self.writes.add(_TO_GROUP, {**message, "group_name": group, "actor": actor})

    def to_users(self, names: list[str], message: dict[str, Any]) -> None:
        if names:
            self.writes.add(_TO_USER, [{**message, "user_name": n} for n in names])

    def unread(self, user_name: str) -> int:
        return int(self.conn.execute(_UNREAD, {"user_name": user_name}).scalar_one())

    def for_user(self, user_name: str, limit: int, unread_only: bool = False) -> list[Any]:
        query = select(staff_messages).where(staff_messages.c.user_name == user_name)
        if unread_only:
            query = query.where(staff_messages.c.read_at.is_(None))
        query = query.order_by(staff_messages.c.id.desc()).limit(limit)
        return list(self.conn.execute(query).all())

    def get(self, message_id: int) -> Any:
        return self.conn.execute(
            select(staff_messages).where(staff_messages.c.id == message_id)
        ).first()

    def mark_read(self, user_name: str, message_id: int | None, at: datetime) -> int:
        """Mark one message (or, without an id, all) of the user read; how many changed."""
        condition = and_(
            staff_messages.c.user_name == user_name, staff_messages.c.read_at.is_(None)
        )
        if message_id is not None:
            condition = and_(condition, staff_messages.c.id == message_id)
        result = self.conn.execute(update(staff_messages).where(condition).values(read_at=at))
        return int(result.rowcount)

    def last_urged(self, case_id: int, task_id: str) -> datetime | None:
        """When the task was last urged (催办): its latest `task_urged` event."""
        found = self.conn.execute(
            select(func.max(case_events.c.at)).where(
                case_events.c.case_id == case_id,
                case_events.c.type == "task_urged",
                case_events.c.task_id == task_id,
            )
        ).scalar()
        return found if isinstance(found, datetime) else None

    def urges(self, task_id: str, limit: int = 5) -> list[Any]:
        """The task's latest 催办 events (actor, at, data), newest first."""
        return list(
            self.conn.execute(
                select(case_events.c.actor, case_events.c.at, case_events.c.data)
                .where(case_events.c.task_id == task_id, case_events.c.type == "task_urged")
                .order_by(case_events.c.id.desc())
                .limit(limit)
            ).all()
        )
