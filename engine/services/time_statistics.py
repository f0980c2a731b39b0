"""时限统计: how the cases received in a period kept the Administrative Licensing Law's limits,
per bundle and in total (docs/time-limits.md "时限统计").

Every figure is read from the record, in three queries over all the cases of the period
(engine/persistence/statistics_queries.py): the cases (received, 受理 = the clock started), their
events (视为受理 Art. 32, 延期 Art. 42, pauses Art. 45, 听证 Arts. 46–47, 转报 Art. 43, 超期) and
their issuance tasks against the 送达 limit (Art. 44).

Who may see it: administrators and auditors, every bundle; a clerk, the bundles whose 督办 group
(`time_limits.escalation_group`, else `supervisors`) is one of the clerk's groups.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import CaseEvent, EventType, TaskStatus
from engine.domain.task_limits import DELIVERY, limit_kind
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid
from engine.persistence.statistics_queries import (
    PeriodCase,
    TimedTask,
    period_cases,
    period_events,
    period_timed_tasks,
)

from .case_access import supervisor_groups
from .context import Services
from .pauses import case_pauses

MAX_DAYS = 3660  # a period of at most about ten years
EVENT_TYPES = (
    EventType.CLOCK_PAUSED,
    EventType.CLOCK_RESUMED,
    EventType.INTAKE_DEEMED_ACCEPTED,
    EventType.EXTENSION_REQUESTED,
    EventType.EXTENSION_GRANTED,
    EventType.EXTENSION_REFUSED,
    EventType.HEARING_REQUESTED,
    EventType.HEARING_WAIVED,
    EventType.CASE_FORWARDED,
    EventType.CASE_OVERDUE,
)
# the article each figure implements, for the page and the answer
ARTICLES = {
    "accepted": "行政许可法第三十二条",
    "deemed_accepted": "行政许可法第三十二条",
    "extensions": "行政许可法第四十二条",
    "delivery": "行政许可法第四十四条",
    "pauses": "行政许可法第四十五条",
    "preliminary": "行政许可法第四十三条",
    "hearings": "行政许可法第四十六条、第四十七条",
    "overdue_cases": "行政许可法第四十二条 (办理期限)",
}


def may_view(svc: Services, user: User) -> bool:
    """Whether the user sees the page at all (the nav link)."""
    if user.has_role(Role.ADMIN, Role.AUDITOR):
        return True
    if not user.has_role(Role.CLERK) or not user.groups:
        return False
    with svc.uow() as uow:
        return any(user.groups & supervisor_groups(v) for v in uow.bundles.list_latest())


def _allowed_bundles(svc: Services, user: User) -> set[str] | None:
    """The bundle keys the user may see; None: all of them."""
    if user.has_role(Role.ADMIN, Role.AUDITOR):
        return None
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有管理员、审计人员和督办组可以查看时限统计")
    with svc.uow() as uow:
        keys = {v.key for v in uow.bundles.list_latest() if user.groups & supervisor_groups(v)}
    if not keys:
        raise Forbidden("只有管理员、审计人员和督办组可以查看时限统计")
    return keys


def _day(value: Any, field: str, default: date) -> date:
    if value is None or value == "":
        return default
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        message = f"{field} 应为日期, 如 2026-01-31"
        raise Invalid(message, [{"field": field, "message": message}]) from None


def _empty() -> dict[str, Any]:
    return {
        "cases": 0,
        "accepted": 0,
        "deemed_accepted": {"count": 0, "cases": []},
        "extensions": {"requested": 0, "granted": 0, "refused": 0, "workdays": 0},
        "delivery": {"on_time": 0, "late": 0, "open": 0, "open_overdue": 0},
        "pauses": {},
        "hearings": {"requested": 0, "waived": 0},
        "preliminary": {"forwarded": 0, "late": 0},
        "overdue_cases": {"count": 0, "cases": []},
    }


def _add_case_events(
    figures: dict[str, Any],
    case: PeriodCase,
    events: list[CaseEvent],
    version: BundleVersion | None,
    svc: Services,
) -> None:
    extensions = figures["extensions"]
    overdue = False
    for event in events:
        kind = event.type
        if kind == EventType.INTAKE_DEEMED_ACCEPTED:
            figures["deemed_accepted"]["count"] += 1
            figures["deemed_accepted"]["cases"].append(case.id)
        elif kind == EventType.EXTENSION_REQUESTED:
            extensions["requested"] += 1
        elif kind == EventType.EXTENSION_GRANTED:
            extensions["granted"] += 1
            workdays = (event.data or {}).get("workdays")
            extensions["workdays"] += workdays if isinstance(workdays, int) else 0
        elif kind == EventType.EXTENSION_REFUSED:
            extensions["refused"] += 1
        elif kind == EventType.HEARING_REQUESTED:
            figures["hearings"]["requested"] += 1
        elif kind == EventType.HEARING_WAIVED:
            figures["hearings"]["waived"] += 1
        elif kind == EventType.CASE_FORWARDED:
            figures["preliminary"]["forwarded"] += 1
            if (event.data or {}).get("on_time") is False:
                figures["preliminary"]["late"] += 1
        elif kind == EventType.CASE_OVERDUE:
            overdue = True
    if overdue:
        figures["overdue_cases"]["count"] += 1
        figures["overdue_cases"]["cases"].append(case.id)
    for pause in case_pauses(events, version, svc.tz):
        row = figures["pauses"].setdefault(
            pause["kind"], {"label": pause["label"], "count": 0, "workdays": 0, "ongoing": 0}
        )
        row["count"] += 1
        if pause["workdays"] is None:
            row["ongoing"] += 1
        else:
            row["workdays"] += pause["workdays"]


def _add_delivery(
    figures: dict[str, Any],
    task: TimedTask,
    today: date,
    calendar: WorkdayCalendar,
    svc: Services,
) -> None:
    """An issuance task against its 送达 deadline: late once a working day after it began."""
    delivery = figures["delivery"]
    if task.status == TaskStatus.OPEN:
        delivery["open"] += 1
        if calendar.count(task.deadline, today).value > 0:
            delivery["open_overdue"] += 1
        return
    ended = svc.today(task.ended_at) if task.ended_at else today
    late = calendar.count(task.deadline, ended).value > 0
    delivery["late" if late else "on_time"] += 1


def _merge(total: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if isinstance(value, int):
            total[key] += value
        elif key == "pauses":
            for kind, row in value.items():
                into = total["pauses"].setdefault(
                    kind, {"label": row["label"], "count": 0, "workdays": 0, "ongoing": 0}
                )
                for field in ("count", "workdays", "ongoing"):
                    into[field] += row[field]
        else:
            for field, figure in value.items():
                if field == "cases":
                    total[key][field] = sorted(total[key][field] + figure)
                else:
                    total[key][field] += figure


def time_limits(
    svc: Services, user: User, start: Any = None, end: Any = None, bundle: Any = None
) -> dict[str, Any]:
    """The figures of the cases received from `start` to `end` (local dates, both included;
    default: the current month up to today), of bundle `bundle` or of every bundle the user may
    see: {"from", "to", "bundle", "articles", "bundles": [{"key", "name", ...figures}],
    "total": figures}."""
    allowed = _allowed_bundles(svc, user)
    now = svc.clock()
    today = svc.today(now)
    first = _day(start, "from", today.replace(day=1))
    last = _day(end, "to", today)
    if last < first:
        message = "结束日期不能早于开始日期"
        raise Invalid(message, [{"field": "to", "message": message}])
    if (last - first).days > MAX_DAYS:
        message = "统计期间不能超过十年"
        raise Invalid(message, [{"field": "to", "message": message}])
    key = str(bundle) if bundle not in (None, "") else None
    if key is not None and allowed is not None and key not in allowed:
        raise Forbidden(f"无权查看事项 {key} 的时限统计")
    since = svc.local_midnight(first)
    before = svc.local_midnight(last + timedelta(days=1))
    with svc.uow() as uow:
        found = period_cases(uow.conn, since, before, key)
        if allowed is not None:
            found = [c for c in found if c.bundle_key in allowed]
        events = period_events(uow.conn, since, before, key, map(str, EVENT_TYPES))
        tasks = period_timed_tasks(uow.conn, since, before, key)
        versions = {vid: svc.runtimes.get(uow, vid)[0] for vid in {c.version_id for c in found}}
        calendar = svc.calendars.get(uow)
    by_case: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in events:
        by_case[event.case_id].append(event)
    per_bundle: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    cases_by_id = {c.id: c for c in found}
    for case in found:
        version = versions[case.version_id]
        names.setdefault(case.bundle_key, version.name)
        figures = per_bundle.setdefault(case.bundle_key, _empty())
        figures["cases"] += 1
        if case.clock.started_on is not None:
            figures["accepted"] += 1
        _add_case_events(figures, case, by_case.get(case.id, []), version, svc)
    for task in tasks:
        owner = cases_by_id.get(task.case_id)
        if owner is None:
            continue
        if limit_kind(versions[owner.version_id], task.element) == DELIVERY:
            _add_delivery(per_bundle[owner.bundle_key], task, today, calendar, svc)
    total = _empty()
    for figures in per_bundle.values():
        _merge(total, figures)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "bundle": key,
        "today": today.isoformat(),
        "articles": ARTICLES,
        "bundles": [{"key": k, "name": names[k], **per_bundle[k]} for k in sorted(per_bundle)],
        "total": total,
    }


def bundle_choices(svc: Services, user: User) -> list[dict[str, str]]:
    """The bundles (key, name) the user may narrow the figures to, by key."""
    allowed = _allowed_bundles(svc, user)
    with svc.uow() as uow:
        latest = uow.bundles.list_latest()
    return [{"key": v.key, "name": v.name} for v in latest if allowed is None or v.key in allowed]
