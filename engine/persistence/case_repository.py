"""Reading and writing cases, their events and their human tasks with SQLAlchemy Core, inside one
transaction. Bundles and users have their own modules (bundle_repository, user_repository)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    exists,
    insert,
    select,
    update,
)

from engine.domain.model import (
    Case,
    CaseEvent,
    CaseStatus,
    EventType,
    HumanTask,
    TaskKind,
    TaskStatus,
)
from engine.domain.timelimits import CaseClock
from engine.domain.users import User
from engine.errors import Invalid, NotFound

from .inserts import insert_id
from .tables import (
    bundle_versions,
    bundles,
    case_events,
    cases,
    certificates,
    human_task_groups,
    human_task_users,
    human_tasks,
)
from .worklist_statements import WorklistShape, case_columns, worklist_statement
from .writes import DeferredWrites, guarded_revision

# The statements of every engine step, built once: SQLAlchemy then reuses their cache keys and
# compiled forms instead of rebuilding and re-hashing each statement on every call.
_CASE_ROW = (
    select(
        cases,
        bundle_versions.c.version,
        bundles.c.key,
        # whether to read certificates for the case's answer (ix_certificates_case answers it)
        exists().where(certificates.c.case_id == cases.c.id).label("has_certificates"),
    )
    .join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id)
    .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
)
_CASE_BY_ID = _CASE_ROW.where(cases.c.id == bindparam("case_id"))
_CASE_BY_ID_LOCKED = _CASE_BY_ID.with_for_update(of=cases)
# the case of a task, locked, with all its open tasks: one statement (a row per open task, or
# one row of NULLs for them when none is open) instead of the task's case id, the case, its tasks
_OPEN = human_tasks.alias("open_task")
# On PostgreSQL a SELECT ... FOR UPDATE that waited for the lock returns the case row as the
# other transaction left it, but the joined task rows as its own snapshot saw them, from before
# (READ COMMITTED re-checks only the locked row). The case's revision read again in a subquery
# keeps the snapshot's value: when it differs, the tasks are read again (`get_for_task`).
_SEEN = cases.alias("seen_case")
_SEEN_REVISION = (
    select(_SEEN.c.revision)
    .where(_SEEN.c.id == cases.c.id)
    .scalar_subquery()
    .label("seen_revision")
)
_CASE_BY_TASK_LOCKED = (
    _CASE_ROW.add_columns(*(c.label(f"open_{c.name}") for c in _OPEN.c), _SEEN_REVISION)
    .join(human_tasks, human_tasks.c.case_id == cases.c.id)
    .outerjoin(_OPEN, and_(_OPEN.c.case_id == cases.c.id, _OPEN.c.status == "open"))
    .where(human_tasks.c.id == bindparam("task_id"))
    .order_by(_OPEN.c.created_at, _OPEN.c.id)
    .with_for_update(of=cases)
)
# the SET clause comes from the parameters' column names, and the revision's new value is
# guarded: a case changed since it was read fails the transaction (writes.py)
_CASE_UPDATE = (
    update(cases).where(cases.c.id == bindparam("b_id")).values(revision=guarded_revision(cases))
)
# queued inserts (writes.py) ask for nothing back: `inline` leaves out RETURNING of new ids
_EVENTS_INSERT = insert(case_events).inline()
_TASK_CASE_ID = select(human_tasks.c.case_id).where(human_tasks.c.id == bindparam("task_id"))
_TASK_BY_ID = select(human_tasks).where(human_tasks.c.id == bindparam("task_id"))
_TASKS_OPEN_FOR_CASE = (
    select(human_tasks)
    .where(human_tasks.c.case_id == bindparam("case_id"), human_tasks.c.status == "open")
    .order_by(human_tasks.c.created_at, human_tasks.c.id)
)
_TASK_INSERT = insert(human_tasks).inline()
_TASK_GROUPS_INSERT = insert(human_task_groups).inline()
_TASK_USERS_INSERT = insert(human_task_users).inline()
_TASK_UPDATE = update(human_tasks).where(human_tasks.c.id == bindparam("b_id"))
_TASK_GROUPS_CLOSE = (
    update(human_task_groups).where(human_task_groups.c.task_id == bindparam("b_id")).values(open=0)
)
_TASK_USERS_CLOSE = (
    update(human_task_users).where(human_task_users.c.task_id == bindparam("b_id")).values(open=0)
)


_TASK_CREATED_AT = select(human_tasks.c.created_at).where(human_tasks.c.id == bindparam("task_id"))


def _task(row: Mapping[Any, Any], prefix: str = "") -> HumanTask:
    """A task from a `human_tasks` row, whose columns may carry a prefix."""
    return HumanTask(
        id=row[prefix + "id"],
        case_id=row[prefix + "case_id"],
        element=row[prefix + "element"],
        name=row[prefix + "name"],
        groups=tuple(row[prefix + "groups"]),
        form=row[prefix + "form"],
        status=TaskStatus(row[prefix + "status"]),
        assignee=row[prefix + "assignee"],
        created_at=row[prefix + "created_at"],
        ended_at=row[prefix + "ended_at"],
        ended_by=row[prefix + "ended_by"],
        kind=TaskKind(row[prefix + "kind"]),
        deadline=row[prefix + "deadline"],
        owner=row[prefix + "owner"],
        owner_kind=row[prefix + "owner_kind"],
        candidate_users=tuple(row[prefix + "candidate_users"] or ()),
        due_at=row[prefix + "due_at"],
    )


class CaseRepository:
    def __init__(self, conn: Connection, writes: DeferredWrites) -> None:
        self.conn = conn
        self.writes = writes

    def get(self, case_id: int, lock: bool = False) -> Case | None:
        query = _CASE_BY_ID_LOCKED if lock else _CASE_BY_ID
        return self._case(self.conn.execute(query, {"case_id": case_id}).first())

    def existing(self, case_id: int, lock: bool = False) -> Case:
        """`get`, for a case the caller names: one that does not exist is a 404."""
        case = self.get(case_id, lock)
        if case is None:
            raise NotFound(f"办件 {case_id} 不存在")
        return case

    def get_for_task(self, task_id: str) -> tuple[Case, list[HumanTask]] | None:
        """The case of a task, its row locked for this transaction (as `get(..., lock=True)`),
        and its open tasks in `TaskRepository.open_for_case` order."""
        rows = self.conn.execute(_CASE_BY_TASK_LOCKED, {"task_id": task_id}).all()
        case = self._case(rows[0]) if rows else None
        if case is None:
            return None
        if rows[0].seen_revision != case.revision:  # the lock waited for a change: read afresh
            open_now = self.conn.execute(_TASKS_OPEN_FOR_CASE, {"case_id": case.id}).all()
            return case, [_task(r._mapping) for r in open_now]
        return case, [_task(r._mapping, "open_") for r in rows if r.open_id is not None]

    @staticmethod
    def _case(row: Any) -> Case | None:
        if row is None:
            return None
        return Case(
            id=row.id,
            bundle_key=row.key,
            bundle_version_id=row.bundle_version_id,
            version=row.version,
            status=CaseStatus(row.status),
            data=row.data,
            state=row.state,
            revision=row.revision,
            last_seq=row.last_seq,
            last_hash=row.last_hash,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            clock=CaseClock.from_dict(row.clock),
            outcome=row.outcome,
            access_hash=row.access_hash,
            has_certificates=bool(row.has_certificates),
        )

    def ids(self) -> list[int]:
        return [
            int(i) for i in self.conn.execute(select(cases.c.id).order_by(cases.c.id)).scalars()
        ]

    def clocks(self, ids: set[int]) -> dict[int, tuple[CaseClock, int]]:
        """Each case's clock and bundle version id (for worklists)."""
        if not ids:
            return {}
        rows = self.conn.execute(
            select(cases.c.id, cases.c.clock, cases.c.bundle_version_id).where(cases.c.id.in_(ids))
        ).all()
        return {r.id: (CaseClock.from_dict(r.clock), r.bundle_version_id) for r in rows}

    def add(self, case: Case) -> int:
        case.id = insert_id(
            self.conn,
            insert(cases).values(
                bundle_version_id=case.bundle_version_id,
                status=str(case.status),
                data=case.data,
                state=case.state,
                revision=case.revision,
                last_seq=case.last_seq,
                last_hash=case.last_hash,
                created_by=case.created_by,
                created_at=case.created_at,
                updated_at=case.updated_at,
                ended_at=case.ended_at,
                clock=case.clock.to_dict(),
                deadline=case.clock.deadline,
                outcome=case.outcome,
                access_hash=case.access_hash,
            ),
        )
        # Events need the case's id for their hashes: the caller records them, then saves.
        assert not case.new_events, "record a new case's events after adding it"
        return case.id

    def save(self, case: Case) -> None:
        """Queue the case's update and its new events (writes.py). The update is guarded: if
        the case changed since it was read, `StaleWrite` is raised when the writes are sent."""
        case.seal()
        self.writes.add(
            _CASE_UPDATE,
            {
                "b_id": case.id,
                "b_revision": case.revision,
                "new_revision": case.revision + 1,
                "status": str(case.status),
                "data": case.data,
                "state": case.state,
                "last_seq": case.last_seq,
                "last_hash": case.last_hash,
                "updated_at": case.updated_at,
                "ended_at": case.ended_at,
                "clock": case.clock.to_dict(),
                "deadline": case.clock.deadline,
                "outcome": case.outcome,
                "access_hash": case.access_hash,
            },
        )
        case.revision += 1
        if case.new_events:
            self.writes.add(
                _EVENTS_INSERT,
                [
                    {
                        "case_id": case.id,
                        "seq": e.seq,
                        "type": str(e.type),
                        "actor": e.actor,
                        "at": e.at,
                        "task_id": e.task_id,
                        "element": e.element,
                        "data": e.data,
                        "hash": e.hash,
                        "state_hash": e.state_hash,
                    }
                    for e in case.new_events
                ],
            )
            case.new_events.clear()

    def events(self, case_id: int) -> list[CaseEvent]:
        rows = self.conn.execute(
            select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.seq)
        ).all()
        return [_event(r) for r in rows]

    def event(self, case_id: int, seq: int) -> CaseEvent | None:
        """One event of a case (seq 1 is its `case_started`)."""
        row = self.conn.execute(
            select(case_events).where(case_events.c.case_id == case_id, case_events.c.seq == seq)
        ).first()
        return _event(row) if row is not None else None


def _event(r: Any) -> CaseEvent:
    return CaseEvent(
        r.case_id,
        r.seq,
        EventType(r.type),
        r.actor,
        r.at,
        r.task_id,
        r.element,
        r.data,
        r.hash,
        r.state_hash,
    )


class TaskRepository:
    def __init__(self, conn: Connection, writes: DeferredWrites) -> None:
        self.conn = conn
        self.writes = writes

    @staticmethod
    def _tasks(rows: list[Any]) -> list[HumanTask]:
        return [_task(r._mapping) for r in rows]

    def case_id_of(self, task_id: str) -> int | None:
        found = self.conn.execute(_TASK_CASE_ID, {"task_id": task_id}).scalar()
        return int(found) if found is not None else None

    def get(self, task_id: str) -> HumanTask | None:
        rows = self.conn.execute(_TASK_BY_ID, {"task_id": task_id}).all()
        tasks = self._tasks(list(rows))
        return tasks[0] if tasks else None

    def open_for_case(self, case_id: int) -> list[HumanTask]:
        rows = self.conn.execute(_TASKS_OPEN_FOR_CASE, {"case_id": case_id}).all()
        return self._tasks(list(rows))

    def add(self, task: HumanTask) -> None:
        self.add_many([task])

    def add_many(self, tasks: list[HumanTask]) -> None:
        """Insert the tasks and their group rows: one statement for each table, whatever the
        number of tasks."""
        if not tasks:
            return
        self.writes.add(
            _TASK_INSERT,
            [
                {
                    "id": task.id,
                    "case_id": task.case_id,
                    "element": task.element,
                    "name": task.name,
                    "form": task.form,
                    "groups": list(task.groups),
                    "status": str(task.status),
                    "kind": str(task.kind),
                    "assignee": task.assignee,
                    "owner": task.owner,
                    "owner_kind": task.owner_kind,
                    "deadline": task.deadline,
                    "due_at": task.due_at,
                    "created_at": task.created_at,
                    "candidate_users": list(task.candidate_users) or None,
                }
                for task in tasks
            ],
        )
        users = [
            {"task_id": task.id, "user_name": u, "open": 1, "created_at": task.created_at}
            for task in tasks
            for u in dict.fromkeys(task.candidate_users)
        ]
        if users:
            self.writes.add(_TASK_USERS_INSERT, users)
        groups = [
            {"task_id": task.id, "group_name": g, "open": 1, "created_at": task.created_at}
            for task in tasks
            for g in dict.fromkeys(task.groups)
        ]
        if groups:
            self.writes.add(_TASK_GROUPS_INSERT, groups)

    def save(self, task: HumanTask) -> None:
        self.writes.add(
            _TASK_UPDATE,
            {
                "b_id": task.id,
                "status": str(task.status),
                "assignee": task.assignee,
                "owner": task.owner,
                "owner_kind": task.owner_kind,
                "ended_at": task.ended_at,
                "ended_by": task.ended_by,
            },
        )
        if task.status != TaskStatus.OPEN:
            self.writes.add(_TASK_GROUPS_CLOSE, {"b_id": task.id})
            if task.candidate_users:
                self.writes.add(_TASK_USERS_CLOSE, {"b_id": task.id})

    def worklist(
        self,
        user: User,
        limit: int,
        after: str | None = None,
        where: WorklistFilter | None = None,
    ) -> list[HumanTask]:
        """Open tasks of the user's groups or assigned to the user, oldest first, keyset-paged
        on (created_at, id), narrowed by `where`."""
        return self.worklist_with_cases(user, limit, after, where, None)[0]

    def worklist_with_cases(
        self,
        user: User,
        limit: int,
        after: str | None,
        where: WorklistFilter | None,
        fields: tuple[str, ...] | None,
    ) -> tuple[list[HumanTask], dict[int, dict[str, Any]]]:
        """`worklist`, and with `fields` what the rows show of their cases (`worklist_cases`),
        read in the same statement.

        One branch per group (an index range scan of human_task_groups in keyset order) and one
        for the user's own tasks (human_tasks by assignee), each cut at `limit`; their union,
        cut again, is the page. No branch reads more than the rows it returns plus those the
        filters drop."""
        f = where or WorklistFilter()
        params: dict[str, Any] = {"limit": limit, "user_name": user.name}
        if after:
            at = self.conn.execute(_TASK_CREATED_AT, {"task_id": after}).scalar()
            if at is None:
                raise Invalid(
                    "分页位置无效", [{"field": "after", "message": f"任务 {after} 不存在"}]
                )
            params |= {"anchor_at": at, "anchor_id": after}
        groups = sorted(user.groups) if f.claimed != "mine" else []
        params |= {f"group_{i}": group for i, group in enumerate(groups)}
        if f.element is not None:
            params["element"] = f.element
        if f.case_id is not None:
            params["case_id"] = f.case_id
        if f.version_ids is not None:
            params["version_ids"] = list(f.version_ids)
        shape = WorklistShape(
            groups=len(groups),
            own=f.claimed != "unclaimed",
            candidate=f.claimed != "mine",
            anchored=bool(after),
            element=f.element is not None,
            unclaimed=f.claimed == "unclaimed",
            case=f.case_id is not None,
            versions=f.version_ids is not None,
            fields=fields,
        )
        statement = worklist_statement(shape)
        if statement is None:
            return [], {}
        rows = list(self.conn.execute(statement, params).all())
        found = {} if fields is None else self._case_rows(rows, fields, key="case_id")
        return self._tasks(rows), found

    @staticmethod
    def _case_rows(rows: list[Any], fields: tuple[str, ...], key: str) -> dict[int, dict[str, Any]]:
        return {
            getattr(r, key): {
                "version_id": r.c_version_id,
                "clock": CaseClock.from_dict(r.c_clock),
                "created_at": r.c_created_at,
                "status": r.c_status,
                "fields": {name: getattr(r, f"f{i}") for i, name in enumerate(fields)},
            }
            for r in rows
        }

    def worklist_cases(
        self, case_ids: set[int], fields: tuple[str, ...]
    ) -> dict[int, dict[str, Any]]:
        """What a worklist row shows of each case: bundle version, clock, received time and the
        named data fields (the applicant's), without loading the whole case data."""
        if not case_ids:
            return {}
        query = select(cases.c.id, *case_columns(fields)).where(cases.c.id.in_(case_ids))
        return self._case_rows(list(self.conn.execute(query).all()), fields, key="id")

    def bundle_versions(self, key: str) -> list[int]:
        """The ids of every version of bundle `key`: for the worklist's bundle filter."""
        query = (
            select(bundle_versions.c.id)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .where(bundles.c.key == key)
        )
        return [int(i) for i in self.conn.execute(query).scalars()]


@dataclass(frozen=True)
class WorklistFilter:
    """What a worklist may be narrowed to: versions of one bundle, a task element, claimed
    ("all", "mine": assigned to the user, "unclaimed": nobody's yet), a case number."""

    version_ids: tuple[int, ...] | None = None
    element: str | None = None
    claimed: str = "all"
    case_id: int | None = None
