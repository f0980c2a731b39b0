"""Keeping the 效能监察 dashboard's facts and day rollups (docs/dashboard.md, "How the figures are
kept").

`refresh` looks at the cases with events since its bookmark (less a margin, MARGIN in
engine/persistence/stats_repository.py) whose facts are older than their last event, derives
their facts again (engine/domain/case_facts.py `derive`) and recomputes the rollup rows of every
(day, bundle) their old or new facts count on: one transaction per batch of cases, the bookmark
moved in the last. The worker runs it every 30 seconds.

`rebuild` derives every case's facts and every day's rollups from the record; with check=True it
writes nothing and returns where the stored rows differ from the derived ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.case_facts import (
    CaseFacts,
    CaseRecord,
    FactsPolicy,
    TaskFigures,
    day_figures,
    derive,
    empty_figures,
    local_day,
    task_figures,
)
from engine.persistence.stats_repository import StatsRepository
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services

CHUNK_DAYS = 31  # the rebuild compares and writes the rollups this many days at a time
_TASK_KEY = ("day", "bundle_key", "element", "group_name", "clerk")

Pair = tuple[date, str]  # (local day, bundle key): one stats_daily row


def _policies(repo: StatsRepository, version_ids: Iterable[int]) -> dict[int, FactsPolicy]:
    out = {}
    for version_id, raw in repo.version_metadata(version_ids).items():
        meta = BundleMetadata.from_dict(raw)
        limits = meta.time_policy
        timed = limits.limit is not None or limits.statutory_limit is not None
        out[version_id] = FactsPolicy(intake=meta.intake, visits=meta.visits, timed=timed)
    return out


def _derive(
    svc: Services, uow: UnitOfWork, repo: StatsRepository, records: Sequence[tuple[int, CaseRecord]]
) -> list[CaseFacts]:
    calendar = svc.calendars.get(uow)
    policies = _policies(repo, (version for version, _ in records))
    return [
        derive(record, policies.get(version, FactsPolicy()), calendar, svc.tz)
        for version, record in records
    ]


def _ranges(svc: Services, days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """The local days as [midnight, next midnight) ranges, consecutive days merged."""
    out: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] == day:
            out[-1] = (out[-1][0], day + timedelta(days=1))
        else:
            out.append((day, day + timedelta(days=1)))
    return [(svc.local_midnight(a), svc.local_midnight(b)) for a, b in out]


def _rollups(
    svc: Services,
    uow: UnitOfWork,
    repo: StatsRepository,
    pairs: Iterable[Pair],
    overrides: Mapping[int, CaseFacts] | None = None,
) -> tuple[dict[Pair, dict[str, Any]], list[TaskFigures]]:
    """The stats_daily figures and stats_task_daily rows of these (day, bundle) pairs, from the
    stored facts (`overrides`: facts derived but not written, in place of the stored ones)."""
    wanted: dict[str, set[date]] = defaultdict(set)
    for day, key in pairs:
        wanted[key].add(day)
    if not wanted:
        return {}, []
    every_day = set().union(*wanted.values())
    calendar = svc.calendars.get(uow)
    facts: dict[str, list[CaseFacts]] = defaultdict(list)
    for f in repo.facts_on_days(every_day, wanted):
        if not overrides or f.case_id not in overrides:
            facts[f.bundle_key].append(f)
    for f in (overrides or {}).values():
        if f.bundle_key in wanted and f.days() & wanted[f.bundle_key]:
            facts[f.bundle_key].append(f)
    issued = repo.certificates_issued(every_day, wanted)
    tasks = repo.completed_tasks(_ranges(svc, every_day), wanted)
    empty = empty_figures()
    daily: dict[Pair, dict[str, Any]] = {}
    rows: list[TaskFigures] = []
    for key, days in sorted(wanted.items()):
        for day in sorted(days):
            figures = day_figures(day, facts[key], issued.get((day, key)))
            if figures != empty:
                daily[(day, key)] = figures
        rows.extend(
            t for t in task_figures(key, tasks.get(key, []), calendar, svc.tz) if t.day in days
        )
    return daily, rows


def _pairs(facts: Iterable[CaseFacts]) -> set[Pair]:
    return {(day, f.bundle_key) for f in facts for day in f.days()}


def status(svc: Services) -> dict[str, Any]:
    """The bookmark and when the last refresh ran (None: never)."""
    with svc.uow() as uow:
        event_id, at = StatsRepository(uow.conn).state()
    return {"event_id": event_id, "refreshed_at": at}


def refresh(svc: Services, batch: int = 1000) -> dict[str, Any]:
    """Bring the facts and rollups up to the cases' latest events (see the module's docstring).
    Returns how many cases and (day, bundle) rollups were redone, and the new bookmark."""
    with svc.uow() as uow:
        repo = StatsRepository(uow.conn)
        bookmark, _at = repo.state()
        upto = repo.last_event_id()
    after, looked, redone = 0, 0, 0
    while True:
        with svc.uow(write=True) as uow:
            repo = StatsRepository(uow.conn)
            repo.state(lock=True)  # one refresh at a time (PostgreSQL)
            ids = repo.changed_cases(bookmark, upto, after, batch)
            if ids:
                old = repo.facts(ids)
                new = _derive(svc, uow, repo, repo.records(ids))
                repo.save_facts(new)
                pairs = _pairs(old.values()) | _pairs(new)
                daily, tasks = _rollups(svc, uow, repo, pairs)
                repo.replace_rollups(pairs, daily, tasks)
                looked += len(new)
                redone += len(pairs)
            last = len(ids) < batch
            if last:
                repo.set_state(upto, svc.clock())
            uow.commit()
        if last:
            return {"cases": looked, "rollups": redone, "event_id": upto}
        after = ids[-1]


def _differing(stored: Any, derived: Any) -> list[str]:
    return [f.name for f in fields(derived) if getattr(stored, f.name) != getattr(derived, f.name)]


def _figure_keys(stored: Mapping[str, Any], derived: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(stored) | set(derived))
    return [k for k in keys if stored.get(k) != derived.get(k)]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _day_span(
    svc: Services, repo: StatsRepository, overrides: Mapping[int, CaseFacts]
) -> tuple[date, date] | None:
    """The first and last day any fact, certificate, completed task or rollup row is on."""
    lows, highs = [], []
    first, last = repo.fact_days()
    issued, ended = repo.last_activity()
    found_first, found_last = repo.rollup_days()
    lows += [d for d in (first, repo.first_activity(), found_first) if d is not None]
    highs += [d for d in (last, issued, found_last) if d is not None]
    if ended is not None:
        highs.append(local_day(ended, svc.tz))
    for f in overrides.values():
        lows.append(min(f.days()))
        highs.append(max(f.days()))
    if not lows or not highs:
        return None
    return min(lows), max(highs)


def rebuild(svc: Services, check: bool = False, batch: int = 1000) -> dict[str, Any]:
    """Derive every case's facts and every day's rollups again from the record. Without `check`
    the rows that differ are written (and the bookmark moved to the last event); with it
    nothing is written. Returns the differences found: {"facts": [{"case_id", "fields"}],
    "daily": [{"day", "bundle_key", "fields"}], "tasks": [{"day", "bundle_key", "element",
    "group_name", "clerk", "fields"}]} ("missing": no stored row; "extra": a stored row that
    should not be there)."""
    with svc.uow() as uow:
        upto = StatsRepository(uow.conn).last_event_id()
    found: dict[str, list[dict[str, Any]]] = {"facts": [], "daily": [], "tasks": [], "months": []}
    overrides: dict[int, CaseFacts] = {}  # check: the derived facts that differ
    after, looked = 0, 0
    while True:
        with svc.uow(write=not check) as uow:
            repo = StatsRepository(uow.conn)
            ids = repo.case_ids(after, batch)
            new = _derive(svc, uow, repo, repo.records(ids))
            old = repo.facts(ids)
            changed = [f for f in new if old.get(f.case_id) != f]
            for f in changed:
                stored = old.get(f.case_id)
                fields_ = ["missing"] if stored is None else _differing(stored, f)
                found["facts"].append({"case_id": f.case_id, "fields": fields_})
            if check:
                overrides.update((f.case_id, f) for f in changed)
            elif changed:
                repo.save_facts(changed)
                uow.commit()
            looked += len(new)
        if len(ids) < batch:
            break
        after = ids[-1]

    days_seen = 0
    with svc.uow() as uow:
        span = _day_span(svc, StatsRepository(uow.conn), overrides)
        keys = StatsRepository(uow.conn).bundle_keys()
    every_day = _days(*span) if span else []
    for start in range(0, len(every_day), CHUNK_DAYS):
        days = every_day[start : start + CHUNK_DAYS]
        days_seen += len(days)
        with svc.uow(write=not check) as uow:
            repo = StatsRepository(uow.conn)
            stored_daily = repo.daily(days)
            stored_tasks = repo.task_daily(days)
            keys_here = set(keys) | {key for _day, key in stored_daily}
            keys_here |= {t.bundle_key for t in stored_tasks}
            pairs = {(day, key) for day in days for key in keys_here}
            daily, tasks = _rollups(svc, uow, repo, pairs, overrides)
            wrong = _compare_daily(stored_daily, daily) + _compare_tasks(stored_tasks, tasks)
            for kind, difference in wrong:
                found[kind].append(difference)
            if wrong and not check:
                repo.replace_rollups(pairs, daily, tasks)
                uow.commit()
    with svc.uow(write=not check) as uow:
        repo = StatsRepository(uow.conn)
        found["months"] = _month_differences(repo)
        if not check:
            repo.replace_months(
                (date.fromisoformat(row["month"]), row["bundle_key"]) for row in found["months"]
            )
            repo.set_state(upto, svc.clock())
            uow.commit()
    return {
        "cases": looked,
        "days": days_seen,
        "differences": found,
        "consistent": not any(found.values()),
    }


def _month_differences(repo: StatsRepository) -> list[dict[str, Any]]:
    """The month rows that are not the sums of their stored day rows (figures or task rows)."""
    out = []
    for month, key in repo.month_rows():
        figures, tasks = repo.stored_month(month, key)
        want = repo.month_figures(month, key)
        names = (
            ["missing"]
            if figures is None and want is not None
            else ["extra"]
            if want is None and figures is not None
            else _figure_keys(figures or {}, want or {})
        )
        if tasks != repo.derived_month_tasks(month, key):
            names.append("tasks")
        if names:
            out.append({"month": month.isoformat(), "bundle_key": key, "fields": names})
    return out


def _compare_daily(
    stored: Mapping[Pair, Mapping[str, Any]], derived: Mapping[Pair, Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for day, key in sorted(set(stored) | set(derived)):
        have, want = stored.get((day, key)), derived.get((day, key))
        if have == want:
            continue
        if have is None:
            names = ["missing"]
        elif want is None:
            names = ["extra"]
        else:
            names = _figure_keys(have, want)
        out.append(("daily", {"day": day.isoformat(), "bundle_key": key, "fields": names}))
    return out


def _compare_tasks(
    stored: Sequence[TaskFigures], derived: Sequence[TaskFigures]
) -> list[tuple[str, dict[str, Any]]]:
    def keyed(rows: Sequence[TaskFigures]) -> dict[tuple[Any, ...], TaskFigures]:
        return {tuple(getattr(r, k) for k in _TASK_KEY): r for r in rows}

    have, want = keyed(stored), keyed(derived)
    out = []
    for key in sorted(set(have) | set(want)):
        a, b = have.get(key), want.get(key)
        if a == b:
            continue
        names = ["missing"] if a is None else ["extra"] if b is None else _differing(a, b)
        row = dict(zip(_TASK_KEY, key, strict=True))
        row["day"] = row["day"].isoformat()
        out.append(("tasks", {**row, "fields": names}))
    return out
