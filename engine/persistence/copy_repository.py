"""抄送 (issue 18 · 6): the readers a case was copied to, and what they have read.

One row per reader and copy (engine/persistence/tables.py `case_copies`). The 抄送我的 list reads
a user's rows unread first, newest first, with the case's status and result and its bundle's name
in the same statement; the unread count is one COUNT over the index (user_name, read_at, id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, insert, or_, select, update

from .tables import (
    bundle_versions,
    case_copies,
    cases,
    human_task_groups,
    human_tasks,
    staff_messages,
)

_LIST_COLUMNS = (
    case_copies.c.id,
    case_copies.c.case_id,
    case_copies.c.seq,
    case_copies.c.via,
    case_copies.c.copied_by,
    case_copies.c.copied_at,
    case_copies.c.note,
    case_copies.c.read_at,
    cases.c.status,
    cases.c.outcome,
    cases.c.ended_at,
    bundle_versions.c.name.label("bundle_name"),
    bundle_versions.c.version.label("bundle_version"),
)


class CopyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Rows with case_id, seq, user_name, via, copied_by, copied_at, note."""
        if rows:
            self.conn.execute(insert(case_copies), rows)

    def for_user(self, user_name: str, limit: int, unread_only: bool = False) -> list[Any]:
        """The user's copies, unread first, then newest first."""
        query = (
            select(*_LIST_COLUMNS)
            .select_from(
                case_copies.join(cases, cases.c.id == case_copies.c.case_id).join(
                    bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id
                )
            )
            .where(case_copies.c.user_name == user_name)
        )
        if unread_only:
            query = query.where(case_copies.c.read_at.is_(None))
        unread_first = case((case_copies.c.read_at.is_(None), 0), else_=1)
        query = query.order_by(unread_first, case_copies.c.id.desc()).limit(limit)
        return list(self.conn.execute(query).all())

    def get(self, copy_id: int) -> Any:
        return self.conn.execute(select(case_copies).where(case_copies.c.id == copy_id)).first()

    def for_case(self, case_id: int) -> list[Any]:
        """Every copy of the case, oldest first (who was copied, by whom, read or not)."""
        return list(
            self.conn.execute(
                select(case_copies)
                .where(case_copies.c.case_id == case_id)
                .order_by(case_copies.c.id)
            ).all()
        )

    def unread(self, user_name: str) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(case_copies)
                .where(case_copies.c.user_name == user_name, case_copies.c.read_at.is_(None))
            ).scalar_one()
        )

    def unread_of_case(self, case_id: int, user_name: str) -> int:
        """How many copies of this case the user has not read yet."""
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(case_copies)
                .where(
                    case_copies.c.case_id == case_id,
                    case_copies.c.user_name == user_name,
                    case_copies.c.read_at.is_(None),
                )
            ).scalar_one()
        )

    def is_reader(self, case_id: int, user_name: str) -> bool:
        """Whether the case was ever copied to the user."""
        return bool(
            self.conn.execute(
                select(
                    exists().where(
                        case_copies.c.case_id == case_id, case_copies.c.user_name == user_name
                    )
                )
            ).scalar()
        )

    def mark_read(self, case_id: int, user_name: str, at: datetime) -> int:
        """Mark the user's unread copies of the case read; how many changed."""
        result = self.conn.execute(
            update(case_copies)
            .where(
                and_(
                    case_copies.c.case_id == case_id,
                    case_copies.c.user_name == user_name,
                    case_copies.c.read_at.is_(None),
                )
            )
            .values(read_at=at)
        )
        return int(result.rowcount)

    def mark_messages_read(self, case_id: int, user_name: str, at: datetime) -> int:
        """The user's 抄送 messages about the case, read with it."""
        result = self.conn.execute(
            update(staff_messages)
            .where(
                staff_messages.c.user_name == user_name,
                staff_messages.c.case_id == case_id,
                staff_messages.c.kind == "copy",
                staff_messages.c.read_at.is_(None),
            )
            .values(read_at=at)
        )
        return int(result.rowcount)

    def involved(self, case_id: int, user_name: str, groups: frozenset[str]) -> bool:
        """Whether the user holds one of the case's open tasks (assigned to them, or open in one
        of their groups) or has worked one of its tasks (claimed or completed it)."""
        in_groups = (
            exists().where(
                human_task_groups.c.task_id == human_tasks.c.id,
                human_task_groups.c.group_name.in_(sorted(groups)),
                human_task_groups.c.open == 1,
            )
            if groups
            else None
        )
        conditions = [human_tasks.c.assignee == user_name, human_tasks.c.ended_by == user_name]
        if in_groups is not None:
            conditions.append(in_groups)
        return bool(
            self.conn.execute(
                select(exists().where(human_tasks.c.case_id == case_id, or_(*conditions)))
            ).scalar()
        )
