"""What the 效能监察 dashboard reads (engine/services/dashboard.py): the day rollups of a period,
the task rollups grouped in SQL, what is open now, renewals due, and the drill-down's pages of
cases. Read-only; each answer is one statement (or a page and its count), never one per case.

`keys`: the bundle keys the reader may see; None: every bundle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)

from .stats_repository import next_month
from .tables import (
    bundle_versions,
    bundles,
    case_facts,
    cases,
    certificates,
    human_task_groups,
    human_tasks,
    stats_daily,
    stats_monthly,
    stats_state,
    stats_task_daily,
    stats_task_monthly,
    user_groups,
    users,
)

OPEN_STATUSES = ("running", "suspended")


@dataclass(frozen=True)
class BundleRow:
    key: str
    name: str
    metadata: dict[str, Any]  # the newest version's bundle.json (time limits, escalation group)
    groups: frozenset[str]  # the candidate groups of its human tasks


def bundle_rows(conn: Connection) -> list[BundleRow]:
    """Every bundle with its newest version's metadata, by key (not the specs: they are big)."""
    query = (
        select(
            bundles.c.key, bundles.c.name, bundle_versions.c.metadata, bundle_versions.c.human_tasks
        )
        .join(
            bundle_versions,
            and_(
                bundle_versions.c.bundle_id == bundles.c.id,
                bundle_versions.c.version == bundles.c.latest_version,
            ),
        )
        .order_by(bundles.c.key)
    )
    return [
        BundleRow(r.key, r.name, dict(r.metadata or {}), _task_groups(r.human_tasks))
        for r in conn.execute(query)
    ]


def _task_groups(tasks: Any) -> frozenset[str]:
    found: set[str] = set()
    for info in (tasks or {}).values() if isinstance(tasks, dict) else ():
        groups = info.get("groups") if isinstance(info, dict) else None
        found.update(str(g) for g in groups or ())
    return frozenset(found)


def user_group_names(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(user_groups.c.group_name).distinct())}


def refreshed_at(conn: Connection) -> datetime | None:
    return conn.execute(select(stats_state.c.refreshed_at).where(stats_state.c.id == 1)).scalar()


def _keys(column: Any, keys: Sequence[str] | None) -> ColumnElement[bool]:
    return true() if keys is None else column.in_(list(keys)) if keys else false()


def whole_months(first: date, last: date) -> tuple[list[date], list[tuple[date, date]]]:
    """[first, last] as the whole months in it (their first days) and the other days (ranges,
    both ends included)."""
    start = first if first.day == 1 else next_month(first.replace(day=1))
    months = []
    while next_month(start) - timedelta(days=1) <= last:
        months.append(start)
        start = next_month(start)
    if not months:
        return [], [(first, last)]
    edges = [(first, months[0] - timedelta(days=1))] if first < months[0] else []
    end = next_month(months[-1])
    if end <= last:
        edges.append((end, last))
    return months, edges


def _days_or_months(day: Any, month: Any, first: date, last: date, by_month: bool) -> Any:
    """The condition on a day table and on its month table that reads [first, last]: every day
    from the day table, or (by_month) its whole months from the month table and the rest from
    the day table. Returns (day condition, month condition or None)."""
    if not by_month:
        return and_(day >= first, day <= last), None
    months, edges = whole_months(first, last)
    days = or_(*[and_(day >= a, day <= b) for a, b in edges]) if edges else false()
    return days, (month.in_(months) if months else None)


def daily_rows(
    conn: Connection, first: date, last: date, keys: Sequence[str] | None, by_month: bool = False
) -> list[tuple[date, str, dict[str, Any]]]:
    """The rollups of [first, last]: (day, bundle key, figures); `by_month`: its whole months
    as one row each, dated their first day (from stats_monthly), the other days as days."""
    d, mo = stats_daily.c, stats_monthly.c
    days, months = _days_or_months(d.day, mo.month, first, last, by_month)
    query = select(d.day, d.bundle_key, d.figures).where(days, _keys(d.bundle_key, keys))
    found = [(r.day, r.bundle_key, dict(r.figures or {})) for r in conn.execute(query)]
    if months is not None:
        query = select(mo.month, mo.bundle_key, mo.figures).where(
            months, _keys(mo.bundle_key, keys)
        )
        found += [(r.month, r.bundle_key, dict(r.figures or {})) for r in conn.execute(query)]
    return found


@dataclass(frozen=True)
class TaskSum:
    """stats_task_daily summed over a period for one value of the grouping columns."""

    by: tuple[Any, ...]  # the grouping columns' values, in the order asked
    name: str  # a task's name (the last seen) when grouped by element
    completed: int
    on_time: int
    overdue: int
    workdays: int


def _task_sums(conn: Connection, table: Any, day: Any, where: Any) -> tuple[list[Any], list[Any]]:
    """One task rollup table's rows summed (by bundle, element, group and clerk; and, where any
    was overdue, by bundle, element and `day`): on PostgreSQL one scan with two grouping sets."""
    t = table.c
    sums = (
        func.max(t.task_name),
        func.sum(t.completed),
        func.sum(t.on_time),
        func.sum(t.overdue),
        func.sum(t.workdays),
    )
    people = (t.bundle_key, t.element, t.group_name, t.clerk)
    days = (t.bundle_key, t.element, day)
    if conn.dialect.name == "postgresql":
        query = (
            select(*people, day, *sums)
            .where(where)
            .group_by(func.grouping_sets(tuple_(*people), tuple_(*days)))
        )
        rows = list(conn.execute(query))
        return [r for r in rows if r[4] is None], [r for r in rows if r[4] is not None]
    by_people = list(
        conn.execute(select(*people, literal(None), *sums).where(where).group_by(*people))
    )
    by_day = list(
        conn.execute(
            select(t.bundle_key, t.element, literal(None), literal(None), day, *sums)
            .where(where, t.overdue > 0)
            .group_by(*days)
        )
    )
    return by_people, by_day


def _merged(rows: Sequence[Any], width: int) -> list[tuple[Any, ...]]:
    """Rows of `_task_sums` with the same first `width` values added up (the name: the last)."""
    out: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        key = tuple(r[:width])
        have = out.get(key)
        if have is None:
            out[key] = list(r)
            continue
        have[5] = max(have[5] or "", r[5] or "")
        for i in range(6, 10):
            have[i] = int(have[i] or 0) + int(r[i] or 0)
    return [tuple(v) for v in out.values()]


def task_sums(
    conn: Connection, first: date, last: date, keys: Sequence[str] | None, by_month: bool = False
) -> tuple[list[TaskSum], list[TaskSum]]:
    """The task rollups over [first, last]: (sums by bundle key, element, group and clerk; the
    overdue sums by bundle key, element and day, where any). `by_month`: the whole months read
    from stats_task_monthly (their overdue dated their first day), the other days by day."""
    d, mo = stats_task_daily.c, stats_task_monthly.c
    days, months = _days_or_months(d.day, mo.month, first, last, by_month)
    by_people, by_day = _task_sums(
        conn, stats_task_daily, d.day, and_(days, _keys(d.bundle_key, keys))
    )
    if months is not None:
        where = and_(months, _keys(mo.bundle_key, keys))
        more = _task_sums(conn, stats_task_monthly, mo.month, where)
        by_people, by_day = _merged(by_people + more[0], 4), by_day + more[1]

    def made(r: Any, by: tuple[Any, ...]) -> TaskSum:
        return TaskSum(
            by, r[5] or "", int(r[6] or 0), int(r[7] or 0), int(r[8] or 0), int(r[9] or 0)
        )

    return (
        [made(r, (r[0], r[1], r[2], r[3])) for r in by_people],
        [made(r, (r[0], r[1], r[4])) for r in by_day if r[8]],
    )


def profiles(conn: Connection, names: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """name -> (display_name, department) of these users (those that exist)."""
    wanted = sorted(set(names))
    found: dict[str, tuple[str | None, str | None]] = {}
    for start in range(0, len(wanted), 1000):
        query = select(users.c.name, users.c.display_name, users.c.department).where(
            users.c.name.in_(wanted[start : start + 1000])
        )
        found.update({r.name: (r.display_name, r.department) for r in conn.execute(query)})
    return found


def clerks_of_department(conn: Connection, department: str | None) -> list[str]:
    """The users of a department; None: every user with a department (for 未填写部门)."""
    if department is None:
        condition = and_(users.c.department.is_not(None), users.c.department != "")
    else:
        condition = users.c.department == department
    return [r[0] for r in conn.execute(select(users.c.name).where(condition))]


def _case_bundles() -> Any:
    return cases.join(bundle_versions, bundle_versions.c.id == cases.c.bundle_version_id).join(
        bundles, bundles.c.id == bundle_versions.c.bundle_id
    )


def open_paused_days(conn: Connection, keys: Sequence[str] | None) -> list[date]:
    """The days the paused open cases were paused on (a handful)."""
    paused = cases.c.clock["paused_since"].as_string()
    query = (
        select(paused)
        .select_from(_case_bundles() if keys is not None else cases)
        .where(cases.c.status.in_(OPEN_STATUSES), paused.is_not(None))
        .distinct()
    )
    if keys is not None:
        query = query.where(_keys(bundles.c.key, keys))
    return sorted(date.fromisoformat(r[0]) for r in conn.execute(query) if r[0])


@dataclass(frozen=True)
class OpenFilter:
    """Which open cases a drill-down lists, as conditions SQL can check.

    `deadlines`: None, any case; else (bundle key or None for any, paused day or None for not
    paused, lowest deadline or None, deadline before or None) of which one must hold."""

    paused: bool = False
    received_from: datetime | None = None  # created_at at or after
    received_before: datetime | None = None
    deadlines: tuple[tuple[str | None, date | None, date | None, date | None], ...] | None = None


def open_page(
    conn: Connection, keys: Sequence[str] | None, found: OpenFilter, limit: int, offset: int
) -> tuple[int, list[int]]:
    """The open cases meeting the filter: (how many, a page of ids by id)."""
    paused = cases.c.clock["paused_since"].as_string()
    conditions: list[ColumnElement[bool]] = [cases.c.status.in_(OPEN_STATUSES)]
    if keys is not None:
        conditions.append(_keys(bundles.c.key, keys))
    if found.paused:
        conditions.append(paused.is_not(None))
    if found.received_from is not None:
        conditions.append(cases.c.created_at >= found.received_from)
    if found.received_before is not None:
        conditions.append(cases.c.created_at < found.received_before)
    if found.deadlines is not None:
        alternatives = []
        for key, paused_on, lowest, before in found.deadlines:
            parts: list[ColumnElement[bool]] = [cases.c.deadline.is_not(None)]
            if key is not None:
                parts.append(bundles.c.key == key)
            parts.append(paused.is_(None) if paused_on is None else paused == paused_on.isoformat())
            if lowest is not None:
                parts.append(cases.c.deadline >= lowest)
            if before is not None:
                parts.append(cases.c.deadline < before)
            alternatives.append(and_(*parts))
        conditions.append(or_(*alternatives) if alternatives else false())
    source = _case_bundles() if keys is not None or found.deadlines is not None else cases
    return _page(conn, source, and_(*conditions), cases.c.id, cases.c.id, limit, offset)


def open_tasks_by_group(
    conn: Connection, keys: Sequence[str] | None, groups: Iterable[str]
) -> dict[str, int]:
    """Open tasks in each of these groups (a task with two groups counts in each): an index
    range per group (ix_human_task_groups_queue), never a scan of every task."""
    names = sorted(set(groups))
    if not names:
        return {}
    g = human_task_groups.c
    query = (
        select(g.group_name, func.count())
        .where(g.group_name.in_(names), g.open == 1)
        .group_by(g.group_name)
    )
    if keys is not None:
        # only open tasks of open cases: PostgreSQL starts from the open cases of the bundle's
        # versions, not from every case the bundle ever had
        versions = (
            select(bundle_versions.c.id)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .where(_keys(bundles.c.key, keys))
        )
        query = query.select_from(
            human_task_groups.join(human_tasks, human_tasks.c.id == g.task_id).join(
                cases, cases.c.id == human_tasks.c.case_id
            )
        ).where(
            human_tasks.c.status == "open",
            cases.c.status.in_(OPEN_STATUSES),
            cases.c.bundle_version_id.in_(versions.scalar_subquery()),
        )
    return {r[0]: int(r[1]) for r in conn.execute(query)}


@dataclass(frozen=True)
class OpenGroup:
    """How many open cases share a bundle, a local day received, a deadline and a pause."""

    bundle_key: str
    received_on: date
    deadline: date | None
    paused_since: date | None
    count: int


def open_case_groups(
    conn: Connection, keys: Sequence[str] | None, tz: tzinfo, today: date
) -> list[OpenGroup]:
    """The open cases counted by (bundle, day received, deadline, pause) in SQL: a few thousand
    rows at most, whatever the number of open cases."""
    paused = cases.c.clock["paused_since"].as_string()
    received = _local_day(cases.c.created_at, conn, tz, today)
    query = (
        select(bundles.c.key, received, cases.c.deadline, paused, func.count())
        .select_from(_case_bundles())
        .where(cases.c.status.in_(OPEN_STATUSES), _keys(bundles.c.key, keys))
        .group_by(bundles.c.key, received, cases.c.deadline, paused)
    )
    return [
        OpenGroup(
            r[0],
            r[1] if isinstance(r[1], date) else date.fromisoformat(str(r[1])),
            r[2],
            date.fromisoformat(r[3]) if r[3] else None,
            int(r[4]),
        )
        for r in conn.execute(query)
    ]


def _renewals(until: date, today: date, keys: Sequence[str] | None) -> ColumnElement[bool]:
    c = certificates.c
    return and_(
        c.status == "valid",
        c.expires_on >= today,
        c.expires_on <= until,
        _keys(c.bundle_key, keys),
    )


def renewals_due(conn: Connection, today: date, days: int, keys: Sequence[str] | None) -> int:
    """Valid certificates expiring from today to `days` days from now, both included."""
    until = today + timedelta(days=days)
    query = select(func.count()).select_from(certificates).where(_renewals(until, today, keys))
    return int(conn.execute(query).scalar() or 0)


def certificate_titles(conn: Connection, kinds: Iterable[str]) -> dict[str, str]:
    """A title for each certificate kind, from its newest certificate (the kinds the bundles'
    newest versions no longer name: rare). One row a kind, by the issue-date index."""
    out = {}
    for kind in sorted(set(kinds)):
        query = (
            select(certificates.c.title)
            .where(certificates.c.kind == kind)
            .order_by(certificates.c.issued_on.desc())
            .limit(1)
        )
        title = conn.execute(query).scalar()
        if title is not None:
            out[kind] = str(title)
    return out


# --------------------------------------------------------------------------------------------
# The drill-down: which cases make a number. Each measure of the day rollups is a condition on
# case_facts that counts the same cases as `day_figures` does over the period.

f = case_facts.c


def _between(column: Any, first: date, last: date) -> ColumnElement[bool]:
    return and_(column >= first, column <= last)


def _finished(first: date, last: date) -> ColumnElement[bool]:
    return and_(_between(f.ended_on, first, last), f.result == "finished")


def _bad(first: date, last: date) -> ColumnElement[bool]:
    return and_(_between(f.rated_on, first, last), f.rating.is_not(None), f.rating <= 2)


def facts_condition(measure: str, first: date, last: date) -> ColumnElement[bool] | None:
    """The case_facts condition of a measure over [first, last]; None: not a facts measure."""
    received = _between(f.received_on, first, last)
    accepted = _between(f.accepted_on, first, last)
    ended = and_(_between(f.ended_on, first, last), f.result != "open")
    finished = _finished(first, last)
    rated = and_(_between(f.rated_on, first, last), f.rating.is_not(None))
    bad = _bad(first, last)
    conditions: dict[str, ColumnElement[bool]] = {
        "received": received,
        "accepted": accepted,
        "refused": and_(ended, f.result == "refused"),
        "withdrawn": and_(ended, f.result == "withdrawn"),
        "finished": finished,
        "early": and_(finished, f.timeliness == "early"),
        "on_time": and_(finished, f.timeliness == "on_time"),
        "overdue": and_(finished, f.timeliness == "overdue"),
        "handled": and_(finished, f.handling_workdays.is_not(None)),
        "corrected": and_(ended, f.corrections > 0),
        "gaps": and_(accepted, f.gaps == true()),
        "gaps_owed": and_(accepted, f.gaps == true(), f.supplies_owed > 0),
        "commitment": and_(accepted, f.commitment == true()),
        "post_check_failed": and_(finished, f.post_check_failed == true()),
        "certified": and_(finished, f.certified == true()),
        "one_visit": and_(finished, f.visits <= 1),
        "online": and_(finished, f.online == true()),
        "online_full": and_(finished, f.visits == 0),
        "rated": rated,
        "bad": bad,
        "rectification_open": and_(bad, f.rectification == "open"),
        "rectified_on_time": and_(bad, f.rectification == "on_time"),
        "rectified_late": and_(bad, f.rectification == "late"),
        "follow_up_satisfied": and_(bad, f.follow_up == "satisfied"),
        "follow_up_unsatisfied": and_(bad, f.follow_up == "unsatisfied"),
    }
    for level in range(1, 6):
        conditions[f"rating_{level}"] = and_(rated, f.rating == level)
    return conditions.get(measure)


def facts_page(
    conn: Connection,
    condition: ColumnElement[bool],
    keys: Sequence[str] | None,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(how many cases meet the condition, the ids of one page by case id)."""
    where = and_(condition, _keys(f.bundle_key, keys))
    return _page(conn, case_facts, where, f.case_id, f.case_id, limit, offset)


def _local_day(column: Any, conn: Connection, tz: tzinfo, at: date) -> Any:
    """The local calendar day of a stored UTC time, in SQL. SQLite has no zones: the zone's
    offset on `at` is used (exact for zones without daylight saving, such as Asia/Shanghai)."""
    if conn.dialect.name == "postgresql":
        name = getattr(tz, "key", None) or "UTC"
        return cast(func.timezone(literal(name), column), Date)
    offset = datetime.combine(at, time(12), tzinfo=tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


def task_page(
    conn: Connection,
    measure: str,
    first: date,
    last: date,
    tz: tzinfo,
    keys: Sequence[str] | None,
    element: str | None,
    group: str | None,
    clerks: Sequence[str] | None,
    not_clerks: Sequence[str] | None,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """The tasks completed in [first, last] (as stats_task_daily counts them), filtered; one row
    per task: (how many, the case ids of one page, by case and task)."""
    t = human_tasks.c
    since = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    before = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    conditions: list[ColumnElement[bool]] = [
        t.status == "completed",
        t.ended_at >= since,
        t.ended_at < before,
    ]
    if keys is not None:
        conditions.append(_keys(bundles.c.key, keys))
    if element is not None:
        conditions.append(t.element == element)
    if group is not None:
        first_group = func.coalesce(t.groups[0].as_string(), "")
        conditions.append(first_group == group)
    if clerks is not None:
        conditions.append(func.coalesce(t.ended_by, "").in_(list(clerks)))
    if not_clerks is not None:
        conditions.append(
            or_(t.ended_by.is_(None), t.ended_by.not_in(list(not_clerks))) if not_clerks else true()
        )
    day = _local_day(t.ended_at, conn, tz, first)
    # an hour limit (`time_limit: 4h`) is judged by its moment, a day limit by its day
    if measure == "task_on_time":
        conditions.append(
            or_(
                and_(t.due_at.is_not(None), t.ended_at <= t.due_at),
                and_(t.due_at.is_(None), t.deadline.is_not(None), day <= t.deadline),
            )
        )
    elif measure == "task_overdue":
        conditions.append(
            or_(
                and_(t.due_at.is_not(None), t.ended_at > t.due_at),
                and_(t.due_at.is_(None), t.deadline.is_not(None), day > t.deadline),
            )
        )
    source = (
        human_tasks.join(_case_bundles(), cases.c.id == t.case_id)
        if keys is not None
        else human_tasks
    )
    return _page(conn, source, and_(*conditions), t.case_id, t.id, limit, offset)


def certificate_page(
    conn: Connection,
    first: date,
    last: date,
    keys: Sequence[str] | None,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """Certificates issued in [first, last], one row each: (how many, a page of case ids)."""
    c = certificates.c
    where = and_(_between(c.issued_on, first, last), _keys(c.bundle_key, keys))
    return _page(conn, certificates, where, c.case_id, c.id, limit, offset)


def renewal_page(
    conn: Connection, today: date, days: int, keys: Sequence[str] | None, limit: int, offset: int
) -> tuple[int, list[int]]:
    c = certificates.c
    where = _renewals(today + timedelta(days=days), today, keys)
    return _page(conn, certificates, where, c.case_id, c.id, limit, offset)


def _page(
    conn: Connection,
    source: Any,
    where: ColumnElement[bool],
    case_id: Any,
    row_id: Any,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """(how many rows meet the condition, the case ids of one page by case and row id).

    Sorted by `case_id + 0`: the rows are found by the condition's own index (a day range, the
    open statuses) and the page taken by a top-N sort; ordering by the bare id would let the
    planner walk the whole primary key hoping to meet 50 matches early, which for a rare
    measure means reading every row."""
    total = int(conn.execute(select(func.count()).select_from(source).where(where)).scalar() or 0)
    if offset >= total:
        return total, []
    ids = conn.execute(
        select(case_id)
        .select_from(source)
        .where(where)
        .order_by(case_id + 0, row_id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    return total, [int(i) for i in ids]


@dataclass(frozen=True)
class CaseRow:
    """A case as the drill-down lists it: its facts, or what the case row says without them."""

    id: int
    bundle_key: str
    bundle_name: str
    received_at: datetime
    accepted_on: date | None
    ended_on: date | None
    result: str | None
    timeliness: str | None
    handling_workdays: int | None
    rating: int | None
    received_on: date | None


def case_rows(conn: Connection, ids: Iterable[int]) -> dict[int, CaseRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = (
        select(
            cases.c.id,
            bundles.c.key,
            bundles.c.name,
            cases.c.created_at,
            f.accepted_on,
            f.ended_on,
            f.result,
            f.timeliness,
            f.handling_workdays,
            f.rating,
            f.received_on,
        )
        .select_from(_case_bundles().outerjoin(case_facts, f.case_id == cases.c.id))
        .where(cases.c.id.in_(wanted))
    )
    return {r[0]: CaseRow(*r) for r in conn.execute(query)}
