"""效能监察: the supervision dashboard's figures, drill-down and monthly report (docs/dashboard.md).

Every figure of a period is read from the day rollups (stats_daily, stats_task_daily: kept by
engine/services/stats_refresh.py), summed with `add_figures`; only "open now" and the renewals
due are read from the live cases and certificates. The drill-down lists the cases behind a
number from case_facts (and the tasks, the certificates, the open cases), so its total is that
number.

Who: administrators and auditors see every bundle; a clerk in `supervisors` every bundle; a
clerk in a bundle's escalation group (`time_limits.escalation_group`) that bundle. Others are
refused. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.case_facts import add_figures, empty_figures, percentile
from engine.domain.timelimits import Timeliness
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence import dashboard_queries as q

from .case_access import DEFAULT_SUPERVISORS
from .context import Services

KINDS = ("day", "week", "month", "quarter", "year", "custom")
MAX_DAYS = 3660  # a period of at most about ten years
FIRST_YEAR, LAST_YEAR = 1970, 2999  # dates outside these are refused
PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_FILTER = 300  # the longest group, element, clerk or department name accepted
FORBIDDEN = "只有管理员、审计人员和督办组可以查看效能监察"


class BadRequest(Invalid):
    """A query parameter the dashboard cannot use (a period, a measure...): 400, with its field."""

    status = 400


def bad_request(field: str, message: str) -> BadRequest:
    return BadRequest(message, [{"field": field, "message": message}])


# --------------------------------------------------------------------------------------------
# The period


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date
    label: str

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "label": self.label,
        }

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _date(value: Any, field: str) -> date:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise bad_request(field, f"{field} 应为日期, 如 2026-11-01") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise bad_request(field, f"{field} 应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间")
    return day


def _span(first: date, last: date) -> str:
    return f"{first.isoformat()} 至 {last.isoformat()}"


def parse_period(
    kind: str | None, start: str | date | None, end: str | date | None, today: date
) -> Period:
    """The period of `kind` containing `start` (default today; custom: `start` to `end`, both
    included, at most about ten years). Default: the current month."""
    kind = kind or "month"
    if kind not in KINDS:
        raise bad_request("period", "period 应为 day、week、month、quarter、year 或 custom")
    given = start if isinstance(start, date) else None
    if given is None:
        given = _date(start, "start") if start not in (None, "") else today
    if kind == "day":
        return Period(kind, given, given, f"{given.year}年{given.month}月{given.day}日")
    if kind == "week":
        first = given - timedelta(days=given.weekday())
        last = first + timedelta(days=6)
        return Period(kind, first, last, _span(first, last))
    if kind == "month":
        first = given.replace(day=1)
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        return Period(kind, first, last, f"{given.year}年{given.month}月")
    if kind == "quarter":
        quarter = (given.month - 1) // 3 + 1
        first = date(given.year, quarter * 3 - 2, 1)
        last = (first + timedelta(days=92)).replace(day=1) - timedelta(days=1)
        return Period(kind, first, last, f"{given.year}年第{quarter}季度")
    if kind == "year":
        return Period(kind, date(given.year, 1, 1), date(given.year, 12, 31), f"{given.year}年")
    if start in (None, ""):
        raise bad_request("start", "自定义期间需要开始日期 start")
    if end in (None, ""):
        raise bad_request("end", "自定义期间需要结束日期 end")
    last = end if isinstance(end, date) else _date(end, "end")
    if last < given:
        raise bad_request("end", "结束日期不能早于开始日期")
    if (last - given).days + 1 > MAX_DAYS:
        raise bad_request("end", f"期间最长 {MAX_DAYS} 天")
    return Period(kind, given, last, _span(given, last))


# --------------------------------------------------------------------------------------------
# Who sees what


@dataclass(frozen=True)
class _Scope:
    bundles: dict[str, str]  # key -> name, the bundles the user may see
    policies: dict[str, BundleMetadata]
    every: bool  # the user sees every bundle (no filter needed)
    task_groups: dict[str, frozenset[str]]  # key -> its newest version's task groups

    def keys(self, bundle: str | None) -> list[str] | None:
        if bundle is not None:
            return [bundle]
        return None if self.every else sorted(self.bundles)


def _escalation_group(meta: BundleMetadata) -> str:
    # as case_access.supervisor_groups, from the metadata alone
    return meta.time_policy.escalation_group or DEFAULT_SUPERVISORS


def _scope(svc: Services, user: User, bundle: str | None = None) -> _Scope:
    with svc.uow() as uow:
        rows = q.bundle_rows(uow.conn)
    policies = {r.key: BundleMetadata.from_dict(r.metadata) for r in rows}
    names = {r.key: r.name for r in rows}
    if user.has_role(Role.ADMIN, Role.AUDITOR) or (
        user.has_role(Role.CLERK) and DEFAULT_SUPERVISORS in user.groups
    ):
        allowed, every = names, True
    elif user.has_role(Role.CLERK):
        allowed = {k: n for k, n in names.items() if _escalation_group(policies[k]) in user.groups}
        every = False
        if not allowed:
            raise Forbidden(FORBIDDEN)
    else:
        raise Forbidden(FORBIDDEN)
    if bundle is not None:
        if bundle not in names:
            raise NotFound(
                f"事项 {bundle} 不存在", errors=[{"field": "bundle", "message": "不存在"}]
            )
        if bundle not in allowed:
            raise Forbidden(f"无权查看事项 {bundle} 的效能监察数据")
    return _Scope(allowed, policies, every, {r.key: r.groups for r in rows})


def may_view(svc: Services, user: User) -> bool:
    """Whether the user may see the dashboard at all (the nav link)."""
    try:
        _scope(svc, user)
    except Forbidden:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Figures


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _avg(total: int, n: int) -> float | None:
    return round(total / n, 1) if n else None


def shape(s: Mapping[str, Any]) -> dict[str, Any]:
    """FIGURES (docs/dashboard.md "What each figure means") from a period's summed rollups."""
    timed = s["early"] + s["on_time"] + s["overdue"]
    levels = {str(k): int(s["ratings"].get(str(k), 0)) for k in range(5, 0, -1)}
    good = levels["5"] + levels["4"] + levels["3"]
    return {
        "received": s["received"],
        "accepted": s["accepted"],
        "refused": s["refused"],
        "withdrawn": s["withdrawn"],
        "finished": s["finished"],
        "early": s["early"],
        "on_time": s["on_time"],
        "overdue": s["overdue"],
        "early_rate": _share(s["early"], timed),
        "on_time_rate": _share(s["on_time"], timed),
        "overdue_rate": _share(s["overdue"], timed),
        "handling": {
            "count": s["handled"],
            "avg_workdays": _avg(s["handling_sum"], s["handled"]),
            "p90_workdays": percentile(s["handling_hist"], 0.9),
            "promised_avg": _avg(s["promised_sum"], s["limits"]),
            "statutory_avg": _avg(s["statutory_sum"], s["limits"]),
            "compression": (
                round(100 * (1 - s["promised_sum"] / s["statutory_sum"]), 1)
                if s["statutory_sum"]
                else None
            ),
        },
        "corrections": {
            "concluded": s["concluded"],
            "cases": s["corrected"],
            "rounds": s["correction_rounds"],
            "rate": _share(s["corrected"], s["concluded"]),
        },
        "gaps": {
            "count": s["gaps"],
            "owed_cases": s["gaps_owed_cases"],
            "owed_materials": s["gaps_owed_materials"],
        },
        "commitment": {
            "count": s["commitment"],
            "post_check_failed": s["post_check_failed"],
            "failure_rate": _share(s["post_check_failed"], s["commitment"]),
        },
        "ratings": {
            "count": s["rated"],
            "levels": levels,
            "satisfaction": _share(good, s["rated"]),
            "bad": s["bad"],
            "rectification_open": s["rectification_open"],
            "rectified_on_time": s["rectified_on_time"],
            "rectified_late": s["rectified_late"],
            "follow_up_satisfied": s["follow_up_satisfied"],
            "follow_up_unsatisfied": s["follow_up_unsatisfied"],
        },
        "visits": {
            "finished": s["finished"],
            "one_visit": s["one_visit"],
            "one_visit_rate": _share(s["one_visit"], s["finished"]),
            "online": s["online"],
            "online_full": s["online_full"],
            "online_full_rate": _share(s["online_full"], s["finished"]),
        },
        "certified": s["certified"],
        "certificates": s["certificates"],
    }


def _buckets(period: Period) -> tuple[str, list[tuple[date, str]]]:
    """The trend's buckets: (unit, [(first day, label)]) by day up to 62 days, by ISO week up to
    26 weeks, else by month."""
    found: list[tuple[date, str]] = []
    if period.days <= 62:
        day = period.first
        while day <= period.last:
            found.append((day, f"{day.month:02d}-{day.day:02d}"))
            day += timedelta(days=1)
        return "day", found
    if period.days <= 26 * 7 + 6:
        day = period.first - timedelta(days=period.first.weekday())
        while day <= period.last:
            year, week, _ = day.isocalendar()
            found.append((day, f"{year}年第{week}周"))
            day += timedelta(days=7)
        return "week", found
    day = period.first.replace(day=1)
    while day <= period.last:
        found.append((day, f"{day.year}-{day.month:02d}"))
        day = (day + timedelta(days=31)).replace(day=1)
    return "month", found


def _bucket_of(unit: str, day: date) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _sum_by(
    rows: Iterable[q.TaskSum], key: Callable[[tuple[Any, ...]], tuple[Any, ...]]
) -> list[q.TaskSum]:
    """The task rollup rows summed by `key` of their grouping values (a task's name: the
    greatest seen, as the SQL's max)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        into = sums.setdefault(key(r.by), [r.name, 0, 0, 0, 0])
        into[0] = max(into[0], r.name)
        for i, n in enumerate((r.completed, r.on_time, r.overdue, r.workdays), start=1):
            into[i] += n
    return [q.TaskSum(k, *v) for k, v in sums.items()]


def _task_dict(t: q.TaskSum) -> dict[str, Any]:
    return {
        "completed": t.completed,
        "on_time": t.on_time,
        "overdue": t.overdue,
        "avg_workdays": _avg(t.workdays, t.completed),
    }


def _age_bucket(workdays: int) -> int:
    return (
        0
        if workdays <= 5
        else 1
        if workdays <= 10
        else 2
        if workdays <= 20
        else (3 if workdays <= 60 else 4)
    )


AGE_LABELS = (
    "0–5 个工作日",
    "6–10 个工作日",
    "11–20 个工作日",
    "21–60 个工作日",
    "60 个工作日以上",
)
NO_DEPARTMENT = "未填写部门"
FUNNEL = (("received", "收件"), ("accepted", "受理"), ("finished", "办结"), ("certified", "发证"))


@dataclass(frozen=True)
class _Open:
    """`count` open cases alike, as the dashboard classifies them."""

    bundle_key: str
    paused: bool
    timeliness: Timeliness
    age: int  # the AGE_LABELS index
    count: int = 1


# (bundle key, local day received, deadline, paused since, how many)
_OpenRow = tuple[str, date, date | None, date | None, int]


def _classify(
    rows: Iterable[_OpenRow],
    today: date,
    calendar: WorkdayCalendar,
    policies: Mapping[str, BundleMetadata],
) -> list[_Open]:
    found = []
    ages: dict[date, int] = {}
    for key, received, deadline, paused_since, count in rows:
        if received not in ages:
            ages[received] = _age_bucket(calendar.count(received, today).value)
        remaining = None
        if deadline is not None:
            at = paused_since or today
            remaining = (
                calendar.count(at, deadline).value
                if at <= deadline
                else -calendar.count(deadline, at).value
            )
        meta = policies.get(key)
        warning = meta.time_policy.warning if meta is not None else 0
        found.append(
            _Open(
                key,
                paused_since is not None,
                Timeliness.of(remaining, warning),
                ages[received],
                count,
            )
        )
    return found


def _open_cases(svc: Services, scope: _Scope, keys: list[str] | None) -> list[_Open]:
    """The open cases classified, counted alike in SQL (by bundle, day received, deadline and
    pause)."""
    today = svc.today()
    with svc.uow() as uow:
        rows: list[_OpenRow] = [
            (g.bundle_key, g.received_on, g.deadline, g.paused_since, g.count)
            for g in q.open_case_groups(uow.conn, keys, svc.tz, today)
        ]
        calendar = svc.calendars.get(uow)
    return _classify(rows, today, calendar, scope.policies)


def _open_now(found: list[_Open], scope: _Scope, keys: list[str] | None) -> dict[str, Any]:
    by_age = [0] * len(AGE_LABELS)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    totals = [0, 0, 0, 0]
    for c in found:
        by_age[c.age] += c.count
        row = per[c.bundle_key]
        warning = c.count if c.timeliness == Timeliness.WARNING else 0
        overdue = c.count if c.timeliness == Timeliness.OVERDUE else 0
        row[0] += c.count
        row[1] += warning
        row[2] += overdue
        for i, n in enumerate((c.count, c.count if c.paused else 0, warning, overdue)):
            totals[i] += n
    shown = keys if keys is not None else sorted(scope.bundles)
    return {
        "total": totals[0],
        "paused": totals[1],
        "warning": totals[2],
        "overdue": totals[3],
        "by_age": [
            {"label": label, "count": n} for label, n in zip(AGE_LABELS, by_age, strict=True)
        ],
        "by_bundle": [
            {
                "key": k,
                "name": scope.bundles.get(k, k),
                "total": per[k][0] if k in per else 0,
                "warning": per[k][1] if k in per else 0,
                "overdue": per[k][2] if k in per else 0,
            }
            for k in shown
        ],
    }


def figures(svc: Services, user: User, period: Period, bundle: str | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for a period (see the contract in docs/dashboard.md)."""
    scope = _scope(svc, user, bundle)
    keys = scope.keys(bundle)
    today = svc.today()
    with svc.uow() as uow:
        conn = uow.conn
        refreshed = q.refreshed_at(conn)
        # whole months from the month rollups where the trend counts by month (a year: 12
        # rows a bundle, not 365); the people's sums never need days
        unit, buckets = _buckets(period)
        by_month = unit == "month"
        daily = q.daily_rows(conn, period.first, period.last, keys, by_month)
        task_rows, overdue_days = q.task_sums(conn, period.first, period.last, keys, by_month)
        by_task = _sum_by(task_rows, lambda by: (by[0], by[1]))
        by_group = _sum_by(task_rows, lambda by: (by[2],))
        by_clerk = _sum_by(task_rows, lambda by: (by[3],))
        groups = {t.by[0] for t in by_group} | q.user_group_names(conn)
        for key in keys if keys is not None else scope.bundles:
            groups |= scope.task_groups.get(key, frozenset())
        open_groups = q.open_tasks_by_group(conn, keys, groups)
        people = q.profiles(conn, [t.by[0] for t in by_clerk if t.by[0]])
        renewals = (q.renewals_due(conn, today, 30, keys), q.renewals_due(conn, today, 90, keys))
        kinds_total: dict[str, int] = {}
        for _day, _key, fig in daily:
            for kind, n in (fig.get("certificate_kinds") or {}).items():
                kinds_total[kind] = kinds_total.get(kind, 0) + int(n)
        # titles from the bundles' items; the certificates table only for a kind no newest
        # version names any more (one indexed row each, never a scan of every certificate)
        titles = {
            spec.kind: spec.title
            for meta in scope.policies.values()
            for spec in meta.certificates
            if spec.kind in kinds_total
        }
        titles |= q.certificate_titles(conn, set(kinds_total) - set(titles))
    opened = _open_cases(svc, scope, keys)

    total = empty_figures()
    per_bundle: dict[str, dict[str, Any]] = {}
    heat = _sum_by(overdue_days, lambda by: (by[0], by[1], _bucket_of(unit, by[2])))
    index = {day: i for i, (day, _label) in enumerate(buckets)}
    trend = [{"received": 0, "finished": 0, "overdue": 0, "refused": 0} for _ in buckets]
    for day, key, fig in daily:
        add_figures(total, fig)
        add_figures(per_bundle.setdefault(key, empty_figures()), fig)
        point = trend[index[_bucket_of(unit, day)]]
        for name in point:
            point[name] += int(fig.get(name, 0))
    shown = keys if keys is not None else sorted(scope.bundles)
    tasks = sorted({(t.by[0], t.by[1]) for t in heat})
    task_index = {k: i for i, k in enumerate(tasks)}
    names = {(t.by[0], t.by[1]): t.name for t in by_task}
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for t in heat:
        cells[task_index[(t.by[0], t.by[1])], index[t.by[2]]] += t.overdue
    departments: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    clerks = []
    for t in sorted(by_clerk, key=lambda t: (-t.completed, t.by[0])):
        display, department = people.get(t.by[0], (None, None))
        place = (department or "").strip() or NO_DEPARTMENT
        into = departments[place]
        for i, n in enumerate((t.completed, t.on_time, t.overdue, t.workdays)):
            into[i] += n
        clerks.append(
            {"clerk": t.by[0], "display_name": display, "department": place, **_task_dict(t)}
        )
    group_rows = {t.by[0]: t for t in by_group}
    return {
        "period": period.to_dict(),
        "bundle": bundle,
        "bundles": [{"key": k, "name": n} for k, n in sorted(scope.bundles.items())],
        "refreshed_at": refreshed.isoformat() if refreshed is not None else None,
        "totals": shape(total),
        "by_bundle": [
            {"key": k, "name": scope.bundles.get(k, k), **shape(per_bundle.get(k, empty_figures()))}
            for k in shown
        ],
        "trend": [
            {"bucket": day.isoformat(), "label": label, **point}
            for (day, label), point in zip(buckets, trend, strict=True)
        ],
        "funnel": [
            {
                "stage": stage,
                "label": label,
                "count": total[stage],  # 发证: the finished cases whose certificates were issued
            }
            for stage, label in FUNNEL
        ],
        "by_group": [
            {
                "group": g,
                **(
                    _task_dict(group_rows[g])
                    if g in group_rows
                    else {"completed": 0, "on_time": 0, "overdue": 0, "avg_workdays": None}
                ),
                "open_now": open_groups.get(g, 0),
            }
            for g in sorted(set(group_rows) | set(open_groups))
        ],
        "by_department": [
            {
                "department": d,
                "completed": v[0],
                "on_time": v[1],
                "overdue": v[2],
                "avg_workdays": _avg(v[3], v[0]),
            }
            for d, v in sorted(departments.items())
        ],
        "by_task": [
            {"bundle_key": t.by[0], "element": t.by[1], "name": t.name, **_task_dict(t)}
            for t in sorted(by_task, key=lambda t: t.by)
        ],
        "by_clerk": clerks,
        "overdue_heat": {
            "tasks": [
                {"bundle_key": k, "element": e, "name": names.get((k, e), e)} for k, e in tasks
            ],
            "buckets": [{"bucket": d.isoformat(), "label": label} for d, label in buckets],
            "cells": [[t, b, n] for (t, b), n in sorted(cells.items()) if n],
        },
        "open_now": _open_now(opened, scope, keys),
        "certificates": {
            "issued": [
                {"kind": k, "title": titles.get(k, k), "count": n}
                for k, n in sorted(kinds_total.items())
            ],
            "renewals_30": renewals[0],
            "renewals_90": renewals[1],
        },
    }


def monthly_report(
    svc: Services, user: User, month: date, bundle: str | None = None
) -> dict[str, Any]:
    """The month's FIGURES per bundle (and in total), for the printable report: one page each."""
    period = parse_period("month", month, None, month)
    scope = _scope(svc, user, bundle)
    keys = scope.keys(bundle)
    with svc.uow() as uow:
        refreshed = q.refreshed_at(uow.conn)
        daily = q.daily_rows(uow.conn, period.first, period.last, keys, by_month=True)
    total = empty_figures()
    per_bundle: dict[str, dict[str, Any]] = {}
    for _day, key, fig in daily:
        add_figures(total, fig)
        add_figures(per_bundle.setdefault(key, empty_figures()), fig)
    shown = keys if keys is not None else sorted(scope.bundles)
    return {
        "period": period.to_dict(),
        "refreshed_at": refreshed.isoformat() if refreshed is not None else None,
        "totals": shape(total),
        "bundles": [
            {"key": k, "name": scope.bundles.get(k, k), **shape(per_bundle.get(k, empty_figures()))}
            for k in shown
        ],
    }


# --------------------------------------------------------------------------------------------
# The drill-down

MEASURES: dict[str, str] = {
    "received": "收件",
    "accepted": "受理",
    "refused": "不予受理",
    "withdrawn": "撤回",
    "finished": "办结",
    "early": "提前办结",
    "on_time": "按时办结",
    "overdue": "超期办结",
    "handled": "计入办理时长的办结件",
    "corrected": "经补正的办件",
    "gaps": "容缺受理",
    "gaps_owed": "容缺材料尚未补齐",
    "commitment": "告知承诺",
    "post_check_failed": "批后核查不实",
    "one_visit": "最多跑一次",
    "online": "网上申报",
    "online_full": "全程网办",
    "rated": "已评价",
    "rating_1": "非常不满意",
    "rating_2": "不满意",
    "rating_3": "基本满意",
    "rating_4": "满意",
    "rating_5": "非常满意",
    "bad": "差评",
    "rectification_open": "差评整改中",
    "rectified_on_time": "差评按时整改",
    "rectified_late": "差评逾期整改",
    "follow_up_satisfied": "回访满意",
    "follow_up_unsatisfied": "回访不满意",
    "certified": "办结并发证的办件",
    "certificates": "发证 (证照)",
    "open": "在办",
    "open_paused": "在办 (暂停计时)",
    "open_warning": "在办 (预警)",
    "open_overdue": "在办 (超期)",
    **{f"age_{i}": f"在办 {label}" for i, label in enumerate(AGE_LABELS)},
    "task_completed": "完成的环节",
    "task_on_time": "按时完成的环节",
    "task_overdue": "超时完成的环节",
    "renewals_30": "30 天内到期的证照",
    "renewals_90": "90 天内到期的证照",
}
TASK_MEASURES = ("task_completed", "task_on_time", "task_overdue")
OPEN_MEASURES = ("open", "open_paused", "open_warning", "open_overdue") + tuple(
    f"age_{i}" for i in range(len(AGE_LABELS))
)


def _filter(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_FILTER or "\x00" in value:
        raise bad_request(field, f"{field} 过长或含有不可用的字符")
    return value


def _page_number(page: Any) -> int:
    if page in (None, ""):
        return 1
    try:
        number = int(str(page))
    except ValueError:
        raise bad_request("page", "page 应为正整数") from None
    if not 1 <= number <= MAX_PAGE:
        raise bad_request("page", f"page 应在 1 至 {MAX_PAGE} 之间")
    return number


AGE_BOUNDS = ((0, 5), (6, 10), (11, 20), (21, 60), (61, None))  # working days, AGE_LABELS


def _age_days(
    calendar: WorkdayCalendar, today: date, low: int, high: int | None
) -> tuple[date | None, date | None]:
    """The local days received whose age today is in [low, high] working days: (first day or
    None for no bound, last day or None): ages grow as the day received goes back."""
    latest = earliest = None
    day = today
    for _ in range(366 * 12):
        age = calendar.count(day, today).value
        if high is not None and age > high:
            break
        if age >= low:
            latest = latest or day
            earliest = day
            if high is None:
                return None, latest
        day -= timedelta(days=1)
    if latest is None:
        return today + timedelta(days=1), today  # no day: an empty range
    return earliest, latest


def _open_page(
    svc: Services,
    scope: _Scope,
    keys: list[str] | None,
    measure: str,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """The open cases of a measure, chosen in SQL: the warning and overdue conditions are the
    deadline against the last working day on or before today (or the day the clock paused), the
    ages the days received (the same as `_classify`)."""
    today = svc.today()
    with svc.uow() as uow:
        calendar = svc.calendars.get(uow)
        found = q.OpenFilter(paused=measure == "open_paused")
        if measure.startswith("age_"):
            low, high = AGE_BOUNDS[int(measure[4:])]
            first, last = _age_days(calendar, today, low, high)
            found = q.OpenFilter(
                received_from=svc.local_midnight(first) if first is not None else None,
                received_before=(
                    svc.local_midnight(last + timedelta(days=1)) if low > 0 and last else None
                ),
            )
        elif measure in ("open_warning", "open_overdue"):
            pauses: list[date | None] = [None, *q.open_paused_days(uow.conn, keys)]
            shown = keys if keys is not None else sorted(scope.bundles)

            def last_workday(day: date) -> date:  # on or before `day`
                return calendar.add(day + timedelta(days=1), -1).value

            deadlines: list[tuple[str | None, date | None, date | None, date | None]] = []
            for paused in pauses:
                at = paused or today
                if measure == "open_overdue":  # a working day after the deadline has passed
                    deadlines.append((None, paused, None, last_workday(at)))
                    continue
                for key in shown:
                    meta = scope.policies.get(key)
                    warning = meta.time_policy.warning if meta is not None else 0
                    before = calendar.add(at, warning + 1).value
                    deadlines.append((key, paused, last_workday(at), before))
            found = q.OpenFilter(deadlines=tuple(deadlines))
        return q.open_page(uow.conn, keys, found, limit, offset)


def _ids(
    svc: Services,
    scope: _Scope,
    keys: list[str] | None,
    period: Period,
    measure: str,
    filters: Mapping[str, str | None],
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """How many rows the measure has, and one page of their case ids."""
    if measure in OPEN_MEASURES:
        return _open_page(svc, scope, keys, measure, limit, offset)
    today = svc.today()
    with svc.uow() as uow:
        conn = uow.conn
        condition = q.facts_condition(measure, period.first, period.last)
        if condition is not None:
            return q.facts_page(conn, condition, keys, limit, offset)
        if measure == "certificates":
            return q.certificate_page(conn, period.first, period.last, keys, limit, offset)
        if measure in ("renewals_30", "renewals_90"):
            return q.renewal_page(conn, today, int(measure[-2:]), keys, limit, offset)
        department = filters.get("department")
        clerk = filters.get("clerk")
        clerks: list[str] | None = [clerk] if clerk is not None else None
        not_clerks = None
        if department is not None:
            if department == NO_DEPARTMENT:
                not_clerks = q.clerks_of_department(conn, None)
            else:
                members = q.clerks_of_department(conn, department)
                clerks = [c for c in clerks if c in members] if clerks is not None else members
        return q.task_page(
            conn,
            measure,
            period.first,
            period.last,
            svc.tz,
            keys,
            filters.get("element"),
            filters.get("group"),
            clerks,
            not_clerks,
            limit,
            offset,
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _row(svc: Services, case_id: int, row: q.CaseRow | None) -> dict[str, Any]:
    if row is None:  # pragma: no cover - a case is never deleted
        return {"id": case_id}
    received = row.received_on or row.received_at.astimezone(svc.tz).date()
    return {
        "id": row.id,
        "bundle_key": row.bundle_key,
        "bundle_name": row.bundle_name,
        "received_on": received.isoformat(),
        "accepted_on": _iso(row.accepted_on),
        "ended_on": _iso(row.ended_on),
        "result": row.result or "open",
        "timeliness": row.timeliness,
        "handling_workdays": row.handling_workdays,
        "rating": row.rating,
    }


def _check_measure(measure: str | None) -> str:
    if measure not in MEASURES:
        raise bad_request("measure", "measure 不是可下钻的指标")
    return measure


def cases(
    svc: Services,
    user: User,
    period: Period,
    measure: str | None,
    bundle: str | None = None,
    group: str | None = None,
    element: str | None = None,
    clerk: str | None = None,
    department: str | None = None,
    page: Any = 1,
) -> dict[str, Any]:
    """The cases behind one number, 50 a page, by case id (a task measure lists one row per
    task completed, so a case may appear more than once)."""
    filters = {"group": group, "element": element, "clerk": clerk, "department": department}
    return _cases(svc, user, period, measure, bundle, filters, page, PAGE_SIZE)


def _cases(
    svc: Services,
    user: User,
    period: Period,
    measure: str | None,
    bundle: str | None,
    given: Mapping[str, str | None],
    page: Any,
    page_size: int,
) -> dict[str, Any]:
    measure = _check_measure(measure)
    filters = {k: _filter(given.get(k), k) for k in ("group", "element", "clerk", "department")}
    number = _page_number(page)
    scope = _scope(svc, user, bundle)
    keys = scope.keys(bundle)
    total, ids = _ids(
        svc, scope, keys, period, measure, filters, page_size, (number - 1) * page_size
    )
    with svc.uow() as uow:
        rows = q.case_rows(uow.conn, ids)
    return {
        "measure": measure,
        "label": MEASURES[measure],
        "total": total,
        "page": number,
        "pages": max(1, -(-total // page_size)),
        "cases": [_row(svc, i, rows.get(i)) for i in ids],
    }


def all_cases(
    svc: Services,
    user: User,
    period: Period,
    measure: str | None,
    bundle: str | None = None,
    filters: Mapping[str, str | None] | None = None,
    limit: int = 100_000,
) -> dict[str, Any]:
    """The drill-down's every row at once (at most `limit`), for the export."""
    return _cases(svc, user, period, measure, bundle, filters or {}, 1, limit)


def scope_names(svc: Services, user: User, bundle: str | None = None) -> dict[str, str]:
    """key -> name of the bundles the user may see (after the same checks as `figures`)."""
    return dict(_scope(svc, user, bundle).bundles)
