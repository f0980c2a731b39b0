"""The worklist's statements: one per shape (how many groups, which filters, paged or not,
which case fields), built once with bound parameters and reused, as the step's statements are
(repository.py): building and hashing a compound statement anew cost more than running it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, select, tuple_, union

from engine.domain.model import TaskStatus

from .tables import UtcDateTime, cases, human_task_groups, human_task_users, human_tasks


def case_columns(fields: tuple[str, ...]) -> list[Any]:
    """What a worklist row shows of its case: version, clock, received time, status and the
    named data fields, each read alone from the JSON (not the whole case data)."""
    return [
        cases.c.bundle_version_id.label("c_version_id"),
        cases.c.clock.label("c_clock"),
        cases.c.created_at.label("c_created_at"),
        cases.c.status.label("c_status"),
        *[cases.c.data[name].as_string().label(f"f{i}") for i, name in enumerate(fields)],
    ]


@dataclass(frozen=True)
class WorklistShape:
    """What decides the worklist statement's form; the values are its parameters."""

    groups: int  # branches, one per group (parameters group_0, group_1, ...)
    own: bool  # a branch for the tasks assigned to the user (user_name)
    candidate: bool  # a branch for the open tasks the user is a candidate user of (user_name)
    anchored: bool  # keyset paging after (anchor_at, anchor_id)
    element: bool
    unclaimed: bool
    case: bool
    versions: bool  # the bundle's version ids (version_ids, expanding)
    fields: tuple[str, ...] | None  # the case data fields the rows show


@lru_cache(maxsize=256)
def worklist_statement(shape: WorklistShape) -> Any:
    """The worklist statement of one shape, built once (see `worklist_with_cases`): one branch
    per group (an index range scan of human_task_groups in keyset order) and one for the user's
    own tasks (human_tasks by assignee), each cut at `limit`; their union, cut again, is the
    page. No branch reads more than the rows it returns plus those the filters drop."""
    t, g, c = human_tasks, human_task_groups, cases
    limit = bindparam("limit", type_=Integer)

    def narrowed(query: Any) -> Any:
        if shape.element:
            query = query.where(t.c.element == bindparam("element"))
        if shape.unclaimed:
            query = query.where(t.c.assignee.is_(None))
        if shape.case:
            query = query.where(t.c.case_id == bindparam("case_id"))
        if shape.versions:
            query = query.join(c, c.c.id == t.c.case_id).where(
                c.c.bundle_version_id.in_(bindparam("version_ids", expanding=True))
            )
        return query

    def after_anchor(at_col: Any, id_col: Any) -> Any:
        return tuple_(at_col, id_col) > tuple_(
            bindparam("anchor_at", type_=UtcDateTime()), bindparam("anchor_id", type_=t.c.id.type)
        )

    branches = []
    joins_task = shape.element or shape.unclaimed or shape.case or shape.versions
    for i in range(shape.groups):
        query = select(g.c.task_id.label("id")).where(
            g.c.group_name == bindparam(f"group_{i}"), g.c.open == 1
        )
        if joins_task:
            query = narrowed(query.join(t, t.c.id == g.c.task_id))
        if shape.anchored:
            query = query.where(after_anchor(g.c.created_at, g.c.task_id))
        branches.append(query.order_by(g.c.created_at, g.c.task_id).limit(limit))
    if shape.candidate:
        u = human_task_users
        query = select(u.c.task_id.label("id")).where(
            u.c.user_name == bindparam("user_name"), u.c.open == 1
        )
        if joins_task:
            query = narrowed(query.join(t, t.c.id == u.c.task_id))
        if shape.anchored:
            query = query.where(after_anchor(u.c.created_at, u.c.task_id))
        branches.append(query.order_by(u.c.created_at, u.c.task_id).limit(limit))
    if shape.own:
        query = narrowed(
            select(t.c.id).where(
                t.c.assignee == bindparam("user_name"), t.c.status == TaskStatus.OPEN.value
            )
        )
        if shape.anchored:
            query = query.where(after_anchor(t.c.created_at, t.c.id))
        branches.append(query.order_by(t.c.created_at, t.c.id).limit(limit))
    if not branches:
        return None
    # each branch wrapped in its own SELECT: SQLite allows no ORDER BY/LIMIT in a compound's parts
    parts = [select(b.subquery().c.id) for b in branches]
    ids = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
    page = select(t).join(ids, ids.c.id == t.c.id)
    if shape.fields is not None:
        page = page.join(c, c.c.id == t.c.case_id).add_columns(*case_columns(shape.fields))
    return page.order_by(t.c.created_at, t.c.id).limit(limit)
