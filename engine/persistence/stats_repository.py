"""What the dashboard's refresh reads and writes (engine/services/stats_refresh.py): the cases
changed since a bookmark, their records for `derive` (engine/domain/case_facts.py), the
`case_facts` rows, what counts on a set of days, and the rollup tables `stats_daily` and
`stats_task_daily`. Every read is one query over many cases or days, never one per case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, and_, delete, func, insert, literal, or_, select, update

from engine.domain.case_facts import (
    FACT_EVENTS,
    CaseFacts,
    CaseRecord,
    TaskFigures,
    TaskRow,
    add_figures,
    empty_figures,
)
from engine.domain.model import TaskStatus
from engine.domain.timelimits import CaseClock

from .case_repository import _event
from .tables import (
    bundle_versions,
    bundles,
    case_events,
    case_facts,
    cases,
    certificates,
    human_tasks,
    stats_daily,
    stats_monthly,
    stats_state,
    stats_task_daily,
    stats_task_monthly,
)

# Events are numbered when inserted but a transaction that took its ids earlier may commit
# later: the refresh looks again at the cases with events this many ids before its bookmark
# (those it has already seen unchanged are skipped by their last_seq).
MARGIN = 10_000
CHUNK = 500  # ids per IN (...) list: well under SQLite's limit on bound parameters

_TASK_KEY = ("day", "bundle_key", "element", "group_name", "clerk")


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _with_bundle(query: Any, on: Any) -> Any:
    return query.join(bundle_versions, bundle_versions.c.id == on).join(
        bundles, bundles.c.id == bundle_versions.c.bundle_id
    )


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _facts(row: Any) -> CaseFacts:
    return CaseFacts.from_row(row._mapping)


class StatsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- which cases to look at -----------------------------------------------------------

    def last_event_id(self) -> int:
        return int(self.conn.execute(select(func.max(case_events.c.id))).scalar() or 0)

    def changed_cases(self, bookmark: int, upto: int, after_case: int, limit: int) -> list[int]:
        """Cases (by id, after `after_case`) with events in (bookmark - MARGIN, upto] whose facts
        are missing or older than the case's last event."""
        recent = (
            select(case_events.c.case_id)
            .where(case_events.c.id > bookmark - MARGIN, case_events.c.id <= upto)
            .distinct()
            .subquery()
        )
        query = (
            select(cases.c.id)
            .join(recent, recent.c.case_id == cases.c.id)
            .outerjoin(case_facts, case_facts.c.case_id == cases.c.id)
            .where(
                cases.c.id > after_case,
                or_(case_facts.c.case_id.is_(None), case_facts.c.last_seq != cases.c.last_seq),
            )
            .order_by(cases.c.id)
            .limit(limit)
        )
        return [int(r[0]) for r in self.conn.execute(query)]

    def case_ids(self, after_case: int, limit: int) -> list[int]:
        """Every case, by id (the rebuild)."""
        query = select(cases.c.id).where(cases.c.id > after_case).order_by(cases.c.id).limit(limit)
        return [int(r[0]) for r in self.conn.execute(query)]

    # -- the record `derive` reads ----------------------------------------------------------

    def records(self, case_ids: Sequence[int]) -> list[tuple[int, CaseRecord]]:
        """The cases' records with the id of each case's bundle version, by case id: four
        queries (cases, events, tasks, certificates) per chunk of ids."""
        out: list[tuple[int, CaseRecord]] = []
        for ids in _chunks(sorted(set(case_ids))):
            out.extend(self._records(list(ids)))
        return out

    def _records(self, ids: list[int]) -> list[tuple[int, CaseRecord]]:
        rows = self.conn.execute(
            _with_bundle(
                select(
                    cases.c.id,
                    cases.c.bundle_version_id,
                    cases.c.status,
                    cases.c.created_at,
                    cases.c.ended_at,
                    cases.c.clock,
                    cases.c.data,
                    cases.c.last_seq,
                    bundles.c.key,
                ).select_from(cases),
                cases.c.bundle_version_id,
            ).where(cases.c.id.in_(ids))
        ).all()
        events = defaultdict(list)
        for r in self.conn.execute(
            select(case_events)
            .where(
                case_events.c.case_id.in_(ids),
                case_events.c.type.in_([str(t) for t in FACT_EVENTS]),
            )
            .order_by(case_events.c.case_id, case_events.c.seq)
        ):
            events[r.case_id].append(_event(r))
        tasks = defaultdict(list)
        for r in self.conn.execute(
            select(human_tasks)
            .where(human_tasks.c.case_id.in_(ids))
            .order_by(human_tasks.c.case_id, human_tasks.c.created_at, human_tasks.c.id)
        ):
            tasks[r.case_id].append(_task_row(r))
        issued = defaultdict(list)
        for r in self.conn.execute(
            select(certificates.c.case_id, certificates.c.kind, certificates.c.issued_on)
            .where(certificates.c.case_id.in_(ids))
            .order_by(certificates.c.case_id, certificates.c.id)
        ):
            issued[r.case_id].append((r.kind, r.issued_on))
        return [
            (
                int(r.bundle_version_id),
                CaseRecord(
                    case_id=r.id,
                    bundle_key=r.key,
                    last_seq=r.last_seq,
                    status=r.status,
                    created_at=r.created_at,
                    ended_at=r.ended_at,
                    clock=CaseClock.from_dict(r.clock or {}),
                    data=r.data or {},
                    events=events[r.id],
                    tasks=tasks[r.id],
                    certificates=issued[r.id],
                ),
            )
            for r in sorted(rows, key=lambda r: int(r.id))
        ]

    def version_metadata(self, version_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """bundle.json of each version (its metadata column only)."""
        ids = sorted(set(version_ids))
        if not ids:
            return {}
        query = select(bundle_versions.c.id, bundle_versions.c.metadata).where(
            bundle_versions.c.id.in_(ids)
        )
        return {int(r.id): dict(r.metadata or {}) for r in self.conn.execute(query)}

    # -- case_facts -------------------------------------------------------------------------

    def facts(self, case_ids: Sequence[int]) -> dict[int, CaseFacts]:
        found: dict[int, CaseFacts] = {}
        for ids in _chunks(sorted(set(case_ids))):
            query = select(case_facts).where(case_facts.c.case_id.in_(list(ids)))
            found.update((r.case_id, _facts(r)) for r in self.conn.execute(query))
        return found

    def save_facts(self, facts: Sequence[CaseFacts]) -> None:
        """Insert or replace these cases' rows (delete then insert: the same on both databases)."""
        for part in _chunks(list(facts)):
            ids = [f.case_id for f in part]
            self.conn.execute(delete(case_facts).where(case_facts.c.case_id.in_(ids)))
            self.conn.execute(insert(case_facts), [f.to_row() for f in part])

    def facts_on_days(
        self, days: Iterable[date], bundle_keys: Iterable[str] | None = None
    ) -> list[CaseFacts]:
        """The facts counted on one of `days` (received, accepted, ended or rated on it), of
        some bundles or all: what `day_figures` reads."""
        wanted = sorted(set(days))
        if not wanted:
            return []
        query = select(case_facts).where(
            or_(
                case_facts.c.received_on.in_(wanted),
                case_facts.c.accepted_on.in_(wanted),
                case_facts.c.ended_on.in_(wanted),
                case_facts.c.rated_on.in_(wanted),
            ),
        )
        if bundle_keys is not None:
            query = query.where(case_facts.c.bundle_key.in_(sorted(set(bundle_keys))))
        return [_facts(r) for r in self.conn.execute(query.order_by(case_facts.c.case_id))]

    def bundle_keys(self) -> list[str]:
        return [str(r[0]) for r in self.conn.execute(select(bundles.c.key).order_by(bundles.c.key))]

    def fact_days(self) -> tuple[date | None, date | None]:
        """The first and the last day any stored fact counts on (received is the earliest)."""
        row = self.conn.execute(
            select(
                func.min(case_facts.c.received_on),
                func.max(case_facts.c.received_on),
                func.max(case_facts.c.ended_on),
                func.max(case_facts.c.rated_on),
            )
        ).one()
        last = max((d for d in row[1:] if d is not None), default=None)
        return row[0], last

    # -- what else counts on a day ---------------------------------------------------------

    def certificates_issued(
        self, days: Iterable[date], bundle_keys: Iterable[str] | None = None
    ) -> dict[tuple[date, str], dict[str, int]]:
        """(day, bundle) -> certificate kind -> how many were issued that day."""
        wanted = sorted(set(days))
        if not wanted:
            return {}
        query = (
            select(
                certificates.c.issued_on,
                certificates.c.bundle_key,
                certificates.c.kind,
                func.count(),
            )
            .where(certificates.c.issued_on.in_(wanted))
            .group_by(certificates.c.issued_on, certificates.c.bundle_key, certificates.c.kind)
        )
        if bundle_keys is not None:
            query = query.where(certificates.c.bundle_key.in_(sorted(set(bundle_keys))))
        out: dict[tuple[date, str], dict[str, int]] = defaultdict(dict)
        for day, key, kind, n in self.conn.execute(query):
            out[(day, key)][kind] = int(n)
        return dict(out)

    def completed_tasks(
        self, ranges: Sequence[tuple[datetime, datetime]], bundle_keys: Iterable[str] | None = None
    ) -> dict[str, list[TaskRow]]:
        """bundle -> its completed tasks that ended in one of the [start, end) ranges (local
        days' midnights; index ix_human_tasks_ended_at)."""
        if not ranges:
            return {}
        query = _with_bundle(
            select(human_tasks, bundles.c.key.label("bundle_key")).select_from(
                human_tasks.join(cases, cases.c.id == human_tasks.c.case_id)
            ),
            cases.c.bundle_version_id,
        ).where(
            human_tasks.c.status == str(TaskStatus.COMPLETED),
            or_(
                *(
                    and_(human_tasks.c.ended_at >= start, human_tasks.c.ended_at < end)
                    for start, end in ranges
                )
            ),
        )
        if bundle_keys is not None:
            query = query.where(bundles.c.key.in_(sorted(set(bundle_keys))))
        out: dict[str, list[TaskRow]] = defaultdict(list)
        for r in self.conn.execute(query.order_by(human_tasks.c.ended_at, human_tasks.c.id)):
            out[r.bundle_key].append(_task_row(r))
        return dict(out)

    def first_activity(self) -> date | None:
        """The first day a certificate was issued (tasks end after their case was received)."""
        value = self.conn.execute(select(func.min(certificates.c.issued_on))).scalar()
        return value if isinstance(value, date) else None

    def last_activity(self) -> tuple[date | None, datetime | None]:
        """The last day a certificate was issued and the last moment a task ended."""
        issued = self.conn.execute(select(func.max(certificates.c.issued_on))).scalar()
        ended = self.conn.execute(select(func.max(human_tasks.c.ended_at))).scalar()
        return issued, ended

    # -- the rollups ------------------------------------------------------------------------

    def daily(self, days: Iterable[date]) -> dict[tuple[date, str], dict[str, Any]]:
        wanted = sorted(set(days))
        out: dict[tuple[date, str], dict[str, Any]] = {}
        for part in _chunks(wanted):
            query = select(stats_daily).where(stats_daily.c.day.in_(list(part)))
            out.update(((r.day, r.bundle_key), dict(r.figures)) for r in self.conn.execute(query))
        return out

    def task_daily(self, days: Iterable[date]) -> list[TaskFigures]:
        wanted = sorted(set(days))
        out: list[TaskFigures] = []
        for part in _chunks(wanted):
            query = select(stats_task_daily).where(stats_task_daily.c.day.in_(list(part)))
            out.extend(
                TaskFigures(**{k: r._mapping[k] for k in TaskFigures.__dataclass_fields__})
                for r in self.conn.execute(query)
            )
        return sorted(out, key=lambda t: tuple(getattr(t, k) for k in _TASK_KEY))

    def rollup_days(self) -> tuple[date | None, date | None]:
        """The first and last day of any stored rollup row."""
        first = [
            self.conn.execute(select(func.min(t.c.day), func.max(t.c.day))).one()
            for t in (stats_daily, stats_task_daily)
        ]
        lows = [r[0] for r in first if r[0] is not None]
        highs = [r[1] for r in first if r[1] is not None]
        return (min(lows) if lows else None), (max(highs) if highs else None)

    def replace_rollups(
        self,
        pairs: Iterable[tuple[date, str]],
        daily: dict[tuple[date, str], dict[str, Any]],
        tasks: Sequence[TaskFigures],
    ) -> None:
        """Replace the rows of these (day, bundle) pairs by `daily` and `tasks` (a pair with
        nothing to count has no row)."""
        by_bundle: dict[str, list[date]] = defaultdict(list)
        for day, key in sorted(set(pairs)):
            by_bundle[key].append(day)
        for key, days in by_bundle.items():
            for part in _chunks(days):
                for table in (stats_daily, stats_task_daily):
                    self.conn.execute(
                        delete(table).where(table.c.bundle_key == key, table.c.day.in_(list(part)))
                    )
        if daily:
            self.conn.execute(
                insert(stats_daily),
                [
                    {"day": day, "bundle_key": key, "figures": figures}
                    for (day, key), figures in sorted(daily.items())
                ],
            )
        if tasks:
            self.conn.execute(
                insert(stats_task_daily),
                [{k: getattr(t, k) for k in TaskFigures.__dataclass_fields__} for t in tasks],
            )
        self.replace_months({(month_of(day), key) for day, key in pairs})

    def month_figures(self, month: date, key: str) -> dict[str, Any] | None:
        """The sum of the stored day rows of a month and bundle; None: it has none."""
        query = select(stats_daily.c.figures).where(
            stats_daily.c.bundle_key == key,
            stats_daily.c.day >= month,
            stats_daily.c.day < next_month(month),
        )
        found = [dict(f) for f in self.conn.execute(query).scalars()]
        if not found:
            return None
        total = empty_figures()
        for figures in found:
            add_figures(total, figures)
        return total

    def _task_month(self, month: date, key: str) -> Any:
        t = stats_task_daily.c
        return (
            select(
                literal(month, Date),
                t.bundle_key,
                t.element,
                t.group_name,
                t.clerk,
                func.max(t.task_name),
                func.sum(t.completed),
                func.sum(t.on_time),
                func.sum(t.overdue),
                func.sum(t.workdays),
            )
            .where(t.bundle_key == key, t.day >= month, t.day < next_month(month))
            .group_by(t.bundle_key, t.element, t.group_name, t.clerk)
        )

    def replace_months(self, months: Iterable[tuple[date, str]]) -> None:
        """Rewrite the month rows of these (first day of a month, bundle) pairs as the sums of
        their stored day rows (stats_monthly, stats_task_monthly)."""
        m = stats_task_monthly.c
        for month, key in sorted(set(months)):
            for table in (stats_monthly, stats_task_monthly):
                self.conn.execute(
                    delete(table).where(table.c.month == month, table.c.bundle_key == key)
                )
            figures = self.month_figures(month, key)
            if figures is not None:
                self.conn.execute(
                    insert(stats_monthly).values(month=month, bundle_key=key, figures=figures)
                )
            columns = ["month", "bundle_key", "element", "group_name", "clerk", "task_name"]
            columns += ["completed", "on_time", "overdue", "workdays"]
            self.conn.execute(
                insert(stats_task_monthly).from_select(
                    [getattr(m, c) for c in columns], self._task_month(month, key)
                )
            )

    def month_rows(self) -> list[tuple[date, str]]:
        """Every (month, bundle) with a day row, and every one with a month row."""
        d, mo = stats_daily.c, stats_monthly.c
        found = {(month_of(r[0]), r[1]) for r in self.conn.execute(select(d.day, d.bundle_key))}
        found |= {(r[0], r[1]) for r in self.conn.execute(select(mo.month, mo.bundle_key))}
        return sorted(found)

    def stored_month(self, month: date, key: str) -> tuple[dict[str, Any] | None, list[Any]]:
        """The stored month row's figures and its task rows (sorted)."""
        mo, t = stats_monthly.c, stats_task_monthly.c
        figures = self.conn.execute(
            select(mo.figures).where(mo.month == month, mo.bundle_key == key)
        ).scalar()
        tasks = self.conn.execute(
            select(t.element, t.group_name, t.clerk, t.task_name)
            .add_columns(t.completed, t.on_time, t.overdue, t.workdays)
            .where(t.month == month, t.bundle_key == key)
            .order_by(t.element, t.group_name, t.clerk)
        ).all()
        return (dict(figures) if figures is not None else None), [tuple(r) for r in tasks]

    def derived_month_tasks(self, month: date, key: str) -> list[Any]:
        """The month's task rows as the day rows sum them (sorted like `stored_month`)."""
        rows = self.conn.execute(self._task_month(month, key)).all()
        return sorted(tuple(r[2:6]) + tuple(int(v) for v in r[6:10]) for r in rows)

    # -- the bookmark -----------------------------------------------------------------------

    def state(self, lock: bool = False) -> tuple[int, datetime | None]:
        """The bookmark (the last event id looked at) and when the last refresh ran; `lock`
        holds the row so two refreshes run one after the other (PostgreSQL)."""
        query = select(stats_state.c.event_id, stats_state.c.refreshed_at).where(
            stats_state.c.id == 1
        )
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return (int(row.event_id), row.refreshed_at) if row else (0, None)

    def set_state(self, event_id: int, at: datetime) -> None:
        done = self.conn.execute(
            update(stats_state)
            .where(stats_state.c.id == 1)
            .values(event_id=event_id, refreshed_at=at)
        )
        if not done.rowcount:
            self.conn.execute(insert(stats_state).values(id=1, event_id=event_id, refreshed_at=at))


def _task_row(r: Any) -> TaskRow:
    return TaskRow(
        id=r.id,
        element=r.element,
        name=r.name,
        kind=r.kind,
        status=r.status,
        groups=tuple(r.groups or ()),
        deadline=r.deadline,
        created_at=r.created_at,
        ended_at=r.ended_at,
        ended_by=r.ended_by,
        due_at=r.due_at,
    )
