"""What the 效能监察 dashboard counts of a case (its facts), and the figures of one day.

A case's facts are derived from its record alone: the case row (status, clock, data, when it
started and ended), its events of a few types, its tasks and its certificates (`CaseRecord`).
`derive` is pure: the worker applies it to the cases that changed (engine/services/
stats_refresh.py), `lianban stats rebuild --check` applies it to every case and compares.

The day rollups (`day_figures`) count, for one local day and bundle, what happened that day:
cases received, accepted (受理), ended (办结, 不予受理, 撤回), rated, certificates issued. A
period's figures are the sums of its days' (a histogram gives the 90th percentile exactly).

Which day: every date is the local day (Asia/Shanghai) of the moment, as on the case page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_metadata import IntakePolicy, VisitPolicy
from engine.domain.model import CaseEvent, EventType, TaskKind, TaskStatus
from engine.domain.timelimits import CaseClock

# The results of a case: still open, 办结, 不予受理, 撤回.
OPEN, FINISHED, REFUSED, WITHDRAWN = "open", "finished", "refused", "withdrawn"
# How a finished case kept its 承诺 deadline: ended before the deadline's day, on it, after it.
EARLY, ON_TIME, OVERDUE = "early", "on_time", "overdue"
# 差评整改: under way, done by its limit, done late; 回访: what the applicant answered.
RECT_OPEN, RECT_ON_TIME, RECT_LATE = "open", "on_time", "late"
SATISFIED, UNSATISFIED = "satisfied", "unsatisfied"

# The events `derive` reads (the others do not change a case's facts).
FACT_EVENTS = (
    EventType.CASE_STARTED,
    EventType.TASK_COMPLETED,
    EventType.RATED,
    EventType.CERTIFICATES_ISSUED,
    EventType.CERTIFICATES_REVOKED,
)


@dataclass(frozen=True)
class FactsPolicy:
    """What of a bundle version `derive` needs: its intake decisions and its visits."""

    intake: IntakePolicy = field(default_factory=IntakePolicy)
    visits: VisitPolicy = field(default_factory=VisitPolicy)
    # whether the bundle states a time limit: only then does its clock start at 受理 (without
    # one a case counts as accepted when received, unless refused)
    timed: bool = True


@dataclass(frozen=True)
class TaskRow:
    """One task of a case, as `derive` and the task rollups read it."""

    id: str
    element: str
    name: str
    kind: str
    status: str
    groups: tuple[str, ...]
    deadline: date | None
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    due_at: datetime | None = None  # an hour limit's moment (`time_limit: 4h`); else None


@dataclass(frozen=True)
class CaseRecord:
    """One case's record as `derive` reads it. `events`: those of `FACT_EVENTS`, by seq."""

    case_id: int
    bundle_key: str
    last_seq: int
    status: str  # CaseStatus
    created_at: datetime
    ended_at: datetime | None
    clock: CaseClock
    data: Mapping[str, Any]
    events: Sequence[CaseEvent]
    tasks: Sequence[TaskRow]
    certificates: Sequence[tuple[str, date]]  # (kind, issued_on) of each certificate


@dataclass(frozen=True)
class CaseFacts:
    """One row of `case_facts` (engine/persistence/tables.py says what each column means)."""

    case_id: int
    bundle_key: str
    last_seq: int
    received_on: date
    accepted_on: date | None
    ended_on: date | None
    result: str
    timeliness: str | None
    handling_workdays: int | None
    promised_workdays: int | None
    statutory_workdays: int | None
    corrections: int
    gaps: bool
    supplies_owed: int
    commitment: bool
    post_check_failed: bool
    certified: bool
    online: bool
    visits: int
    rating: int | None
    rated_on: date | None
    rectification: str | None
    follow_up: str | None
    touched_days: tuple[date, ...]

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["touched_days"] = [d.isoformat() for d in self.touched_days]
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CaseFacts:
        values = {k: row[k] for k in cls.__dataclass_fields__}
        values["touched_days"] = tuple(date.fromisoformat(d) for d in row["touched_days"] or [])
        return cls(**values)

    def days(self) -> set[date]:
        """Every day whose rollup counts this case."""
        found = {self.received_on, *self.touched_days}
        found.update(d for d in (self.accepted_on, self.ended_on, self.rated_on) if d)
        return found


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of `moment` where the centre is (`LIANBAN_TIMEZONE`)."""
    return moment.astimezone(tz).date()


def _codes(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value}
    return set() if value is None or value == "" else {str(value)}


def _intake_decisions(intake: IntakePolicy, events: Iterable[CaseEvent]) -> list[Any]:
    """The 一窗受理 decisions, in order (one per completion of the intake task)."""
    return [
        (e.data.get("form") or {}).get(intake.decision_field)
        for e in events
        if e.type == EventType.TASK_COMPLETED
        and e.element == intake.element
        and "kind" not in e.data  # a step of the diagram, not an engine task
    ]


def _standing_rating(events: Sequence[CaseEvent]) -> CaseEvent | None:
    """The case's rating: the applicant's own (online) if given, else the window's."""
    rated = [e for e in events if e.type == EventType.RATED]
    online = [e for e in rated if e.data.get("channel") == "online"]
    chosen = online or rated
    return chosen[-1] if chosen else None


def _rectification(tasks: Sequence[TaskRow], tz: tzinfo) -> str | None:
    found = [t for t in tasks if t.kind == str(TaskKind.RECTIFICATION)]
    if not found:
        return None
    last = max(found, key=lambda t: t.created_at)
    if last.status == str(TaskStatus.OPEN) or last.ended_at is None:
        return RECT_OPEN
    if last.deadline is None or local_day(last.ended_at, tz) <= last.deadline:
        return RECT_ON_TIME
    return RECT_LATE


def _follow_up(events: Sequence[CaseEvent]) -> str | None:
    answers = [
        (e.data.get("form") or {}).get("applicant_satisfied")
        for e in events
        if e.type == EventType.TASK_COMPLETED and e.data.get("kind") == str(TaskKind.FOLLOW_UP)
    ]
    if not answers:
        return None
    return SATISFIED if answers[-1] is True else UNSATISFIED


def derive(
    record: CaseRecord, policy: FactsPolicy, calendar: WorkdayCalendar, tz: tzinfo
) -> CaseFacts:
    """The case's facts from its record (see the module's docstring)."""
    intake, clock = policy.intake, record.clock
    events = record.events
    decisions = _intake_decisions(intake, events)
    started = next((e for e in events if e.type == EventType.CASE_STARTED), None)
    given = (started.data.get("data") if started else None) or record.data
    ended_on = local_day(record.ended_at, tz) if record.ended_at is not None else None

    if record.status == "cancelled":
        result = WITHDRAWN
    elif record.status == "completed":
        # 不予受理: the window refused, or the case ended before its clock started (受理)
        never_accepted = policy.timed and clock.started_on is None
        last = decisions[-1] if decisions else None
        result = REFUSED if never_accepted or last == intake.refuse_value else FINISHED
    else:
        result = OPEN
    accepted_on = clock.started_on
    if not policy.timed and result != REFUSED:
        accepted_on = local_day(record.created_at, tz)

    timeliness = handling = None
    if result == FINISHED and clock.started_on is not None:
        end = clock.stopped_on or ended_on or clock.started_on
        counted = calendar.count(clock.started_on, end).value
        handling = max(0, counted - clock.paused_workdays)
        if clock.deadline is not None:
            timeliness = (
                EARLY if end < clock.deadline else ON_TIME if end == clock.deadline else OVERDUE
            )

    accepting = [d for d in decisions if d not in (intake.correct_value, intake.refuse_value)]
    how = accepting[-1] if accepting else None
    gaps = how == intake.gaps_value
    commitment = how == intake.commitment_value
    owed = _codes(record.data.get("deferred_materials")) - _codes(
        record.data.get("supplied_materials")
    )
    revoked = any(e.type == EventType.CERTIFICATES_REVOKED for e in events)
    corrections = sum(1 for d in decisions if d == intake.correct_value)

    online = policy.visits.online(given)
    issued = any(e.type == EventType.CERTIFICATES_ISSUED for e in events)
    visits = 0 if online else 1 + corrections
    if issued and policy.visits.collected_in_person(record.data):
        visits += 1

    rating = _standing_rating(events)
    touched = {local_day(t.ended_at, tz) for t in record.tasks if t.ended_at is not None}
    touched.update(day for _kind, day in record.certificates)
    return CaseFacts(
        case_id=record.case_id,
        bundle_key=record.bundle_key,
        last_seq=record.last_seq,
        received_on=local_day(record.created_at, tz),
        accepted_on=accepted_on,
        ended_on=ended_on,
        result=result,
        timeliness=timeliness,
        handling_workdays=handling,
        promised_workdays=clock.limit,
        statutory_workdays=clock.statutory_limit,
        corrections=corrections,
        gaps=gaps,
        supplies_owed=len(owed) if gaps else 0,
        commitment=commitment,
        post_check_failed=commitment and revoked,
        certified=issued,
        online=online,
        visits=visits,
        rating=int(rating.data["level"]) if rating is not None else None,
        rated_on=local_day(rating.at, tz) if rating is not None else None,
        rectification=_rectification(record.tasks, tz),
        follow_up=_follow_up(events),
        touched_days=tuple(sorted(touched)),
    )


# ---------------------------------------------------------------------------------------------
# The figures of one day and bundle (stats_daily.figures): plain counts, summed over a period.

COUNT_KEYS = (
    "received",  # received that day
    "accepted",  # 受理 that day (the clock started)
    "gaps",  # of them, 容缺受理
    "gaps_owed_cases",  # of those, still owing materials now
    "gaps_owed_materials",
    "commitment",  # of them, 告知承诺
    "finished",  # 办结 that day
    "refused",  # 不予受理 that day
    "withdrawn",  # 撤回 that day
    "early",  # finished that day before the 承诺 deadline's day
    "on_time",  # on it
    "overdue",  # after it
    "handled",  # finished that day with a handling time (its clock started)
    "handling_sum",  # their working days, pauses excluded
    "limits",  # finished that day with both a 承诺 and a 法定 limit
    "promised_sum",  # their 承诺 limits, working days
    "statutory_sum",  # their 法定 limits
    "concluded",  # ended that day (finished, refused or withdrawn)
    "corrected",  # of them, with at least one 补正
    "correction_rounds",  # their 补正 rounds
    "post_check_failed",  # finished that day, 告知承诺, the 批后核查 found it untrue
    "certified",  # finished that day with its certificates issued (the funnel's 发证)
    "one_visit",  # finished that day with at most one visit (最多跑一次)
    "online",  # finished that day, applied online
    "online_full",  # finished that day with no visit at all (全程网办)
    "rated",  # rated that day (the case's standing rating)
    "bad",  # of them 差评 (1 or 2)
    "rectification_open",  # of the 差评, 整改 still under way
    "rectified_on_time",
    "rectified_late",
    "follow_up_satisfied",  # 回访 answers of the 差评 rated that day
    "follow_up_unsatisfied",
    "certificates",  # certificates issued that day
)
# dictionaries of counts: working days -> cases, level -> ratings, certificate kind -> issued
HISTOGRAM_KEYS = ("handling_hist", "ratings", "certificate_kinds")


def empty_figures() -> dict[str, Any]:
    return {**{k: 0 for k in COUNT_KEYS}, **{k: {} for k in HISTOGRAM_KEYS}}


def day_figures(
    day: date,
    facts: Iterable[CaseFacts],
    certificate_kinds: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The figures of `day` for the cases of one bundle: `facts` may hold any cases (those not
    counted on `day` add nothing); `certificate_kinds`: the certificates issued that day."""
    out = empty_figures()
    hist: Counter[str] = Counter()
    ratings: Counter[str] = Counter()
    for f in facts:
        if f.received_on == day:
            out["received"] += 1
        if f.accepted_on == day:
            out["accepted"] += 1
            if f.gaps:
                out["gaps"] += 1
                if f.supplies_owed:
                    out["gaps_owed_cases"] += 1
                    out["gaps_owed_materials"] += f.supplies_owed
            out["commitment"] += int(f.commitment)
        if f.ended_on == day and f.result != OPEN:
            out["concluded"] += 1
            out[f.result] += 1
            if f.corrections:
                out["corrected"] += 1
                out["correction_rounds"] += f.corrections
        if f.ended_on == day and f.result == FINISHED:
            if f.timeliness is not None:
                out[f.timeliness] += 1
            if f.handling_workdays is not None:
                out["handled"] += 1
                out["handling_sum"] += f.handling_workdays
                hist[str(f.handling_workdays)] += 1
            if f.promised_workdays is not None and f.statutory_workdays is not None:
                out["limits"] += 1
                out["promised_sum"] += f.promised_workdays
                out["statutory_sum"] += f.statutory_workdays
            out["post_check_failed"] += int(f.post_check_failed)
            out["certified"] += int(f.certified)
            out["one_visit"] += int(f.visits <= 1)
            out["online"] += int(f.online)
            out["online_full"] += int(f.visits == 0)
        if f.rated_on == day and f.rating is not None:
            out["rated"] += 1
            ratings[str(f.rating)] += 1
            if f.rating <= 2:
                out["bad"] += 1
                if f.rectification is not None:
                    out[
                        {
                            RECT_OPEN: "rectification_open",
                            RECT_ON_TIME: "rectified_on_time",
                            RECT_LATE: "rectified_late",
                        }[f.rectification]
                    ] += 1
                if f.follow_up is not None:
                    out[f"follow_up_{f.follow_up}"] += 1
    kinds = dict(certificate_kinds or {})
    out["certificates"] = sum(kinds.values())
    out["handling_hist"] = dict(sorted(hist.items(), key=lambda kv: int(kv[0])))
    out["ratings"] = dict(sorted(ratings.items()))
    out["certificate_kinds"] = dict(sorted(kinds.items()))
    return out


def add_figures(total: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """Add one day's figures into `total` (in place; returned for chaining)."""
    for k in COUNT_KEYS:
        total[k] = total.get(k, 0) + int(part.get(k, 0))
    for k in HISTOGRAM_KEYS:
        into = total.setdefault(k, {})
        for key, n in (part.get(k) or {}).items():
            into[key] = into.get(key, 0) + int(n)
    return total


def percentile(hist: Mapping[str, int], share: float) -> int | None:
    """The smallest value at or below which `share` of the counted values lie (nearest rank):
    exact, from a histogram of whole working days."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, -(-int(share * total * 1000) // 1000))  # ceil(share * total), no float drift
    seen = 0
    for value in sorted(hist, key=int):
        seen += hist[value]
        if seen >= rank:
            return int(value)
    return None  # pragma: no cover - the loop always reaches the total


@dataclass(frozen=True)
class TaskFigures:
    """One row of `stats_task_daily`: the tasks completed one day, by bundle, task, group and
    clerk."""

    day: date
    bundle_key: str
    element: str
    group_name: str
    clerk: str
    task_name: str
    completed: int
    on_time: int
    overdue: int
    workdays: int


def task_figures(
    bundle_key: str, tasks: Iterable[TaskRow], calendar: WorkdayCalendar, tz: tzinfo
) -> list[TaskFigures]:
    """The task rollup rows of some completed tasks of one bundle (any days)."""
    rows: dict[tuple[date, str, str, str], list[Any]] = {}
    for t in tasks:
        if t.status != str(TaskStatus.COMPLETED) or t.ended_at is None:
            continue
        day = local_day(t.ended_at, tz)
        key = (day, t.element, t.groups[0] if t.groups else "", t.ended_by or "")
        row = rows.setdefault(key, [t.name, 0, 0, 0, 0])
        row[1] += 1
        if t.due_at is not None:  # an hour limit: by its moment, not its day
            row[2 if t.ended_at <= t.due_at else 3] += 1
        elif t.deadline is not None:
            row[2 if day <= t.deadline else 3] += 1
        row[4] += calendar.count(local_day(t.created_at, tz), day).value
    return [
        TaskFigures(day, bundle_key, element, group, clerk, name, n, on_time, overdue, workdays)
        for (day, element, group, clerk), (name, n, on_time, overdue, workdays) in sorted(
            rows.items()
        )
    ]
