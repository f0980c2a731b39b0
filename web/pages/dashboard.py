"""效能监察 (issue 21): the supervision dashboard as pages, for administrators, auditors, the
`supervisors` group and the clerks of a bundle's 督办 group (engine/services/dashboard.py decides).

- `/stats`: a period's figures: KPI cards, charts (ECharts, static/build/dashboard.js) each followed
  by its numbers as a table, and the tables per bundle, task, group, department and clerk, open
  cases and certificates, each exportable;
- `/stats/cases`: the cases behind one number (the drill-down), paged, exportable;
- `/stats/export`: a table as Excel or CSV (the buttons of both pages);
- `/stats/report`: the printable monthly report, one A4 page per bundle.

Every number links to its drill-down with the same period and filters. A bad query value is
answered 400 with the field named next to it; a user who may not view gets the 403 page."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request, url_for

from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.services import Services, dashboard, dashboard_export, messages

from ..auth import page_user, role_required, signed_in
from ..responses import content_disposition
from ..state import services

bp = Blueprint("dashboard", __name__, url_prefix="/stats")

VIEWERS = (Role.ADMIN, Role.AUDITOR, Role.CLERK)  # a clerk: of `supervisors` or a 督办 group

PERIOD_KINDS = (
    ("day", "日"),
    ("week", "周"),
    ("month", "月"),
    ("quarter", "季"),
    ("year", "年"),
    ("custom", "自定义"),
)
FILTERS = ("group", "element", "clerk", "department")
FILTER_WORDS = {
    "bundle": "事项",
    "group": "办理组",
    "element": "环节",
    "clerk": "办理人",
    "department": "部门",
}
RESULTS = {"open": "在办", "finished": "办结", "refused": "不予受理", "withdrawn": "撤回"}
TIMELINESS = {"early": "提前办结", "on_time": "按期办结", "overdue": "超期办结"}
RATING_LEVELS = (
    ("5", "非常满意"),
    ("4", "满意"),
    ("3", "基本满意"),
    ("2", "不满意"),
    ("1", "非常不满意"),
)

# The rows of a FIGURES table: (section, label, path in FIGURES, drill-down measure, unit).
# Read across bundles (a column each) on /stats, down one bundle on the monthly report.
FIGURE_ROWS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("办件量", "收件", "received", "received", "件"),
    ("办件量", "受理", "accepted", "accepted", "件"),
    ("办件量", "不予受理", "refused", "refused", "件"),
    ("办件量", "撤回", "withdrawn", "withdrawn", "件"),
    ("办件量", "办结", "finished", "finished", "件"),
    ("时效", "提前办结", "early", "early", "件"),
    ("时效", "按时办结", "on_time", "on_time", "件"),
    ("时效", "超期办结", "overdue", "overdue", "件"),
    ("时效", "提前办结率", "early_rate", "early", "%"),
    ("时效", "按时办结率", "on_time_rate", "on_time", "%"),
    ("时效", "超期率", "overdue_rate", "overdue", "%"),
    ("办理时间", "计时办结", "handling.count", "handled", "件"),
    ("办理时间", "平均办理", "handling.avg_workdays", "handled", "工作日"),
    ("办理时间", "90% 办结于", "handling.p90_workdays", "handled", "工作日"),
    ("办理时间", "平均承诺时限", "handling.promised_avg", None, "工作日"),
    ("办理时间", "平均法定时限", "handling.statutory_avg", None, "工作日"),
    ("办理时间", "承诺压缩比", "handling.compression", None, "%"),
    ("补正", "补正办件", "corrections.cases", "corrected", "件"),
    ("补正", "补正轮次", "corrections.rounds", "corrected", "轮"),
    ("补正", "补正率", "corrections.rate", "corrected", "%"),
    ("容缺受理", "容缺受理", "gaps.count", "gaps", "件"),
    ("容缺受理", "仍欠材料的办件", "gaps.owed_cases", "gaps_owed", "件"),
    ("容缺受理", "仍欠材料", "gaps.owed_materials", "gaps_owed", "份"),
    ("告知承诺", "告知承诺", "commitment.count", "commitment", "件"),
    ("告知承诺", "批后核查不实", "commitment.post_check_failed", "post_check_failed", "件"),
    ("告知承诺", "核查不实率", "commitment.failure_rate", "post_check_failed", "%"),
    ("好差评", "评价", "ratings.count", "rated", "件"),
    *(
        ("好差评", label, f"ratings.levels.{level}", f"rating_{level}", "件")
        for level, label in RATING_LEVELS
    ),
    ("好差评", "满意率", "ratings.satisfaction", "rated", "%"),
    ("好差评", "差评", "ratings.bad", "bad", "件"),
    ("好差评", "整改中", "ratings.rectification_open", "rectification_open", "件"),
    ("好差评", "按期整改", "ratings.rectified_on_time", "rectified_on_time", "件"),
    ("好差评", "逾期整改", "ratings.rectified_late", "rectified_late", "件"),
    ("好差评", "回访满意", "ratings.follow_up_satisfied", "follow_up_satisfied", "件"),
    ("好差评", "回访不满意", "ratings.follow_up_unsatisfied", "follow_up_unsatisfied", "件"),
    ("最多跑一次", "最多跑一次", "visits.one_visit", "one_visit", "件"),
    ("最多跑一次", "最多跑一次率", "visits.one_visit_rate", "one_visit", "%"),
    ("最多跑一次", "网上申请", "visits.online", "online", "件"),
    ("最多跑一次", "全程网办", "visits.online_full", "online_full", "件"),
    ("最多跑一次", "全程网办率", "visits.online_full_rate", "online_full", "%"),
    ("证照", "发证", "certificates", "certificates", "张"),
)


# ------------------------------------------------------------------ who, and the nav link


def _may_view() -> bool:
    """For the navigation: whether the signed-in user may open /stats (asked once a request)."""
    user = signed_in()
    if user is None or not user.has_role(*VIEWERS):
        return False
    if user.has_role(Role.ADMIN, Role.AUDITOR):
        return True
    if "may_view_dashboard" not in g:
        try:
            g.may_view_dashboard = bool(dashboard.may_view(services(), user))
        except Forbidden:
            g.may_view_dashboard = False
    return bool(g.may_view_dashboard)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"may_view_dashboard": _may_view}


def _viewer() -> tuple[User, Services]:
    """The signed-in user, refused (403 page) unless `may_view` lets them see the dashboard."""
    user, svc = page_user(), services()
    if not dashboard.may_view(svc, user):  # raises Forbidden: the 403 page
        abort(403)
    return user, svc


# ------------------------------------------------------------------ the query


class BadQuery(Exception):
    """A query value the page cannot use: answered 400, the field named next to it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _chosen() -> dict[str, str]:
    """The filter bar's values as given (kept in the form when a value is refused)."""
    return {k: request.args.get(k, "").strip() for k in ("period", "start", "end", "bundle")}


def _period(svc: Services, chosen: Mapping[str, str]) -> Any:
    try:
        return dashboard.parse_period(
            chosen["period"] or "month",
            chosen["start"] or None,
            chosen["end"] or None,
            svc.today(),
        )
    except Invalid as err:
        raise BadQuery(_field_errors(err, "period")) from err


def _field_errors(err: Invalid | NotFound, default: str) -> dict[str, str]:
    found = getattr(err, "errors", None) or err.details.get("errors") or []
    out = {str(e.get("field") or default): str(e.get("message") or err.message) for e in found}
    return out or {default: err.message}


def period_args(period: Any) -> dict[str, Any]:
    """The query naming `period` (what every link of the page keeps)."""
    if period.kind == "custom":
        return {
            "period": "custom",
            "start": period.first.isoformat(),
            "end": period.last.isoformat(),
        }
    return {"period": period.kind, "start": period.first.isoformat()}


def _span_args(first: date, last: date) -> dict[str, Any]:
    return {"period": "custom", "start": first.isoformat(), "end": last.isoformat()}


def _bad_query_page(template: str, errors: dict[str, str], **context: Any) -> Any:
    return render_template(template, errors=errors, **context), 400


# ------------------------------------------------------------------ /stats


@bp.get("")
@role_required(*VIEWERS)
def index() -> Any:
    user, svc = _viewer()
    chosen = _chosen()
    context: dict[str, Any] = {"chosen": chosen, "kinds": PERIOD_KINDS, "figures": None}
    try:
        period = _period(svc, chosen)
        figures = _figures(svc, user, period, chosen["bundle"] or None)
    except BadQuery as bad:
        choices = dashboard.scope_names(svc, user)
        bundles = [{"key": k, "name": n} for k, n in sorted(choices.items())]
        return _bad_query_page("stats/dashboard.html", bad.errors, bundles=bundles, **context)
    page = Dashboard(figures, period, chosen["bundle"] or None)
    if not chosen["start"]:  # the filter bar shows the period's first day
        chosen["start"] = period.first.isoformat()
    return render_template(
        "stats/dashboard.html",
        errors={},
        page=page,
        bundles=figures["bundles"],
        refreshed=_refreshed(svc, figures.get("refreshed_at")),
        **{**context, "figures": figures},
    )


def _figures(svc: Services, user: User, period: Any, bundle: str | None) -> dict[str, Any]:
    try:
        return dict(dashboard.figures(svc, user, period, bundle))
    except Invalid as err:
        raise BadQuery(_field_errors(err, "bundle")) from err
    except NotFound as err:  # an unknown bundle: a bad value of the bundle field
        raise BadQuery({"bundle": err.message}) from err


def _refreshed(svc: Services, at: str | None) -> str | None:
    """ "HH:MM" of the last refresh (with its date when not today), local time."""
    if not at:
        return None
    when = datetime.fromisoformat(at).astimezone(svc.tz)
    if when.date() == svc.today():
        return when.strftime("%H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


def dig(figures: Mapping[str, Any], path: str) -> Any:
    """`figures["a"]["b"]` for the path "a.b" (None when a part is missing)."""
    found: Any = figures
    for part in path.split("."):
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found


def number(value: Any, unit: str = "") -> str:
    """A figure as the page writes it: "—" when undefined, "12.5%", "3.2"."""
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.1f}".removesuffix(".0") if value != int(value) else str(int(value))
    else:
        text = str(value)
    return f"{text}%" if unit == "%" else text


class Dashboard:
    """What the template draws, built from `figures` once: the links of every number and the
    charts' specs (the same numbers as the tables that follow them)."""

    def __init__(self, figures: Mapping[str, Any], period: Any, bundle: str | None) -> None:
        self.figures = figures
        self.period = period
        self.bundle = bundle
        self.base: dict[str, Any] = {
            **period_args(period),
            **({"bundle": bundle} if bundle else {}),
        }

    # links ------------------------------------------------------------------------------
    def link(self, measure: str | None, **filters: Any) -> str | None:
        """The drill-down of `measure` for this period, with `filters` (bundle, group, ...)."""
        if not measure:
            return None
        args = {**self.base, **{k: v for k, v in filters.items() if v not in (None, "")}}
        return url_for("dashboard.cases_page", measure=measure, **args)

    def export(self, table: str, fmt: str) -> str:
        return url_for("dashboard.export", table=table, format=fmt, **self.base)

    def report_url(self) -> str:
        month = self.period.first.strftime("%Y-%m")
        extra: dict[str, Any] = {"bundle": self.bundle} if self.bundle else {}
        return url_for("dashboard.report", month=month, **extra)

    number = staticmethod(number)

    # the tables of tasks ------------------------------------------------------------------
    def task_tables(self) -> list[dict[str, Any]]:
        """Per task, group, department and clerk: the tasks completed in the period."""
        f = self.figures
        names = {b["key"]: b["name"] for b in f["bundles"]}
        several = len({r["bundle_key"] for r in f["by_task"]}) > 1
        return [
            self._task_table(
                "by_task",
                "分环节",
                "环节",
                ["事项"] if several else [],
                [
                    (
                        r["name"],
                        [names.get(r["bundle_key"], r["bundle_key"])] if several else [],
                        {"bundle": r["bundle_key"], "element": r["element"]},
                        r,
                    )
                    for r in f["by_task"]
                ],
            ),
            self._task_table(
                "by_group",
                "分办理组",
                "办理组",
                [],
                [(r["group"], [], {"group": r["group"]}, r) for r in f["by_group"]],
                with_open=True,
            ),
            self._task_table(
                "by_department",
                "分部门",
                "部门",
                [],
                [
                    (r["department"], [], {"department": r["department"]}, r)
                    for r in f["by_department"]
                ],
            ),
            self._task_table(
                "by_clerk",
                "分办理人",
                "办理人",
                ["部门"],
                [
                    (
                        r.get("display_name") or r["clerk"],
                        [r.get("department") or "未填写部门"],
                        {"clerk": r["clerk"]},
                        r,
                    )
                    for r in f["by_clerk"]
                ],
            ),
        ]

    def _task_table(
        self,
        table: str,
        title: str,
        key_label: str,
        extra_labels: list[str],
        rows: list[tuple[str, list[str], dict[str, str], Mapping[str, Any]]],
        with_open: bool = False,
    ) -> dict[str, Any]:
        out = []
        for name, extra, filters, r in rows:
            cells = {
                key: (r[key], self.link(measure, **filters) if r[key] else None)
                for key, measure in (
                    ("completed", "task_completed"),
                    ("on_time", "task_on_time"),
                    ("overdue", "task_overdue"),
                )
            }
            out.append(
                {
                    "name": name,
                    "extra": extra,
                    **cells,
                    "avg": number(r.get("avg_workdays")),
                    "open_now": r.get("open_now"),
                }
            )
        return {
            "table": table,
            "title": title,
            "key_label": key_label,
            "extra_labels": extra_labels,
            "rows": out,
            "with_open": with_open,
        }

    # the KPI cards ------------------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        t = self.figures["totals"]
        h, r, v = t["handling"], t["ratings"], t["visits"]
        timed = (t["early"] or 0) + (t["on_time"] or 0) + (t["overdue"] or 0)
        return [
            _card("收件", number(t["received"]), "件", self.link("received"), None),
            _card(
                "受理",
                number(t["accepted"]),
                "件",
                self.link("accepted"),
                f"不予受理 {t['refused']} · 撤回 {t['withdrawn']}",
            ),
            _card("办结", number(t["finished"]), "件", self.link("finished"), None),
            _card(
                "提前办结率",
                number(t["early_rate"], "%"),
                "",
                self.link("early"),
                f"提前 {t['early']} / 计时办结 {timed}",
                tone="good",
            ),
            _card(
                "超期",
                number(t["overdue"]),
                "件",
                self.link("overdue"),
                f"超期率 {number(t['overdue_rate'], '%')}",
                tone="bad" if t["overdue"] else None,
            ),
            _card(
                "平均办理",
                number(h["avg_workdays"]),
                "工作日",
                self.link("handled"),
                f"90% 办结于 {number(h['p90_workdays'])} 个工作日内",
            ),
            _card(
                "承诺压缩比",
                number(h["compression"], "%"),
                "",
                self.link("handled"),
                f"承诺 {number(h['promised_avg'])} / 法定 {number(h['statutory_avg'])} 工作日",
            ),
            _card(
                "满意率",
                number(r["satisfaction"], "%"),
                "",
                self.link("rated"),
                f"评价 {r['count']} · 差评 {r['bad']}",
                tone="good",
            ),
            _card(
                "最多跑一次率",
                number(v["one_visit_rate"], "%"),
                "",
                self.link("one_visit"),
                f"{v['one_visit']} / 办结 {v['finished']}",
            ),
            _card(
                "全程网办率",
                number(v["online_full_rate"], "%"),
                "",
                self.link("online_full"),
                f"{v['online_full']} / 办结 {v['finished']}",
            ),
        ]

    # the figures table: a row per figure, a column per bundle and the total ---------------
    def figure_columns(self) -> list[dict[str, Any]]:
        columns = [
            {"key": b["key"], "name": b["name"], "figures": b} for b in self.figures["by_bundle"]
        ]
        if len(columns) != 1:
            columns.append({"key": None, "name": "合计", "figures": self.figures["totals"]})
        return columns

    def figure_sections(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The figures table's rows by section, in FIGURE_ROWS' order."""
        return sections(figure_rows(self.figure_columns(), self.link))

    # charts -------------------------------------------------------------------------------
    def trend_spans(self) -> list[tuple[date, date]]:
        """Each trend bucket's days within the period (a week or month may start before it)."""
        return _spans(
            [date.fromisoformat(b["bucket"]) for b in self.figures["trend"]],
            self.period.first,
            self.period.last,
        )

    def trend_chart(self) -> dict[str, Any]:
        trend = self.figures["trend"]
        spans = self.trend_spans()
        series = []
        for key, name, measure in (
            ("received", "收件", "received"),
            ("finished", "办结", "finished"),
            ("overdue", "超期办结", "overdue"),
        ):
            series.append(
                {
                    "key": key,
                    "name": name,
                    "data": [b[key] for b in trend],
                    "links": [self._span_link(measure, a, z) for a, z in spans],
                }
            )
        return {"type": "trend", "labels": [b["label"] for b in trend], "series": series}

    def _span_link(self, measure: str, first: date, last: date, **filters: Any) -> str:
        args = {**self.base, **_span_args(first, last)}
        args.update({k: v for k, v in filters.items() if v not in (None, "")})
        return url_for("dashboard.cases_page", measure=measure, **args)

    def department_chart(self) -> dict[str, Any]:
        rows = self.figures["by_department"]
        label = "department"
        if not rows:  # no department recorded: the groups instead
            rows, label = self.figures["by_group"], "group"
        names = [r[label] for r in rows]
        series = []
        for key, name, measure in (
            ("on_time", "按时完成", "task_on_time"),
            ("overdue", "超时完成", "task_overdue"),
        ):
            series.append(
                {
                    "key": key,
                    "name": name,
                    "data": [r[key] for r in rows],
                    "links": [self.link(measure, **{label: r[label]}) for r in rows],
                }
            )
        return {"type": "stacked", "by": label, "labels": names, "series": series}

    def funnel_chart(self) -> dict[str, Any]:
        measures = {
            "received": "received",
            "accepted": "accepted",
            "finished": "finished",
            "certified": "certified",
        }
        stages = self.figures["funnel"]
        received = next((s["count"] for s in stages if s["stage"] == "received"), 0)
        items = []
        for s in stages:  # every stage counts cases: its share is of the cases received
            items.append(
                {
                    "key": s["stage"],
                    "name": s["label"],
                    "value": s["count"],
                    "link": self.link(measures.get(s["stage"])),
                    "share": _share(s["count"], received) if received else None,
                }
            )
        return {"type": "funnel", "items": items}

    def rating_chart(self) -> dict[str, Any]:
        levels = self.figures["totals"]["ratings"]["levels"]
        ordered = list(reversed(RATING_LEVELS))  # 1 → 5, left to right
        return {
            "type": "ratings",
            "labels": [label for _, label in ordered],
            "data": [int(levels.get(level) or 0) for level, _ in ordered],
            "links": [self.link(f"rating_{level}") for level, _ in ordered],
        }

    def heat_chart(self) -> dict[str, Any]:
        heat = self.figures["overdue_heat"]
        tasks, buckets = heat["tasks"], heat["buckets"]
        spans = _spans(
            [date.fromisoformat(b["bucket"]) for b in buckets],
            self.period.first,
            self.period.last,
        )
        # ECharts reads a cell as [x, y, value]: x the time bucket, y the task
        cells = [[b, t, n] for t, b, n in heat["cells"]]
        links = []
        for bucket_index, task_index, _ in cells:
            task = tasks[task_index]
            first, last = spans[bucket_index]
            links.append(
                self._span_link(
                    "task_overdue",
                    first,
                    last,
                    bundle=task["bundle_key"],
                    element=task["element"],
                )
            )
        return {
            "type": "heat",
            "x": [b["label"] for b in buckets],
            "y": [t["name"] for t in tasks],
            "cells": cells,
            "links": links,
        }

    def heat_table(self) -> dict[str, Any]:
        """The heat map as a table: a row per task, a column per bucket, links on the counts."""
        heat = self.figures["overdue_heat"]
        chart = self.heat_chart()
        grid: dict[tuple[int, int], tuple[int, str]] = {}
        for (b, t, n), link in zip(chart["cells"], chart["links"], strict=True):
            grid[(t, b)] = (n, link)
        rows = []
        for t, task in enumerate(heat["tasks"]):
            rows.append(
                {"name": task["name"], "cells": [grid.get((t, b)) for b in range(len(chart["x"]))]}
            )
        return {"buckets": chart["x"], "rows": rows}


def _share(part: int, whole: int) -> str:
    return number(round(100 * part / whole, 1), "%")


def _card(
    label: str, value: str, unit: str, link: str | None, note: str | None, tone: str | None = None
) -> dict[str, Any]:
    return {"label": label, "value": value, "unit": unit, "link": link, "note": note, "tone": tone}


def _spans(starts: Sequence[date], first: date, last: date) -> list[tuple[date, date]]:
    """Buckets starting on `starts` (in order), each up to the next's start, clipped to the
    period [first, last]."""
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else last
        out.append((max(start, first), min(end, last)))
    return out


def figure_rows(
    columns: Sequence[Mapping[str, Any]], link: Callable[..., str | None]
) -> list[dict[str, Any]]:
    """The FIGURE_ROWS over `columns` ({"key", "figures"}): each row's section, label, unit and
    its cells (text, link)."""
    rows = []
    for section, label, path, measure, unit in FIGURE_ROWS:
        cells = []
        for column in columns:
            value = dig(column["figures"], path)
            target = link(measure, bundle=column["key"]) if value not in (None, 0) else None
            cells.append({"text": number(value, unit), "link": target})
        rows.append({"section": section, "label": label, "unit": unit, "cells": cells})
    return rows


# ------------------------------------------------------------------ /stats/cases


@bp.get("/cases")
@role_required(*VIEWERS)
def cases_page() -> Any:
    user, svc = _viewer()
    chosen = _chosen()
    filters = {k: request.args.get(k, "").strip() for k in FILTERS}
    measure = request.args.get("measure", "").strip()
    context: dict[str, Any] = {
        "chosen": chosen,
        "filters": filters,
        "measure": measure,
        "found": None,
        "measures": dashboard.MEASURES,
    }
    try:
        page_number = _page_number(request.args.get("page", ""))
        period = _period(svc, chosen)
        if measure not in dashboard.MEASURES:
            raise BadQuery({"measure": "统计口径无效" if measure else "请指定统计口径"})
        found = _drill(svc, user, period, measure, chosen["bundle"] or None, filters, page_number)
    except BadQuery as bad:
        return _bad_query_page("stats/dashboard_cases.html", bad.errors, **context)
    base: dict[str, Any] = {
        **period_args(period),
        **({"bundle": chosen["bundle"]} if chosen["bundle"] else {}),
        **{k: v for k, v in filters.items() if v},
    }
    paging = {
        "previous": url_for("dashboard.cases_page", measure=measure, page=found["page"] - 1, **base)
        if found["page"] > 1
        else None,
        "next": url_for("dashboard.cases_page", measure=measure, page=found["page"] + 1, **base)
        if found["page"] < found["pages"]
        else None,
    }
    exports = {
        fmt: url_for("dashboard.export", table="cases", format=fmt, measure=measure, **base)
        for fmt in ("xlsx", "csv")
    }
    back_args = {
        **period_args(period),
        **({"bundle": chosen["bundle"]} if chosen["bundle"] else {}),
    }
    return render_template(
        "stats/dashboard_cases.html",
        errors={},
        period=period,
        words=_in_words(
            measure, period, chosen["bundle"], filters, dashboard.scope_names(svc, user)
        ),
        paging=paging,
        exports=exports,
        back=url_for("dashboard.index", **back_args),
        urge=_urgeable(svc, user, found["cases"]),
        results=RESULTS,
        timeliness=TIMELINESS,
        rating_labels=dict(RATING_LEVELS),
        **{**context, "found": found},
    )


def _page_number(given: str) -> int:
    if not given:
        return 1
    if not given.isdigit() or not 1 <= int(given) <= 1_000_000:
        raise BadQuery({"page": "页码应为正整数"})
    return int(given)


def _drill(
    svc: Services,
    user: User,
    period: Any,
    measure: str,
    bundle: str | None,
    filters: Mapping[str, str],
    page: int,
) -> dict[str, Any]:
    try:
        return dict(
            dashboard.cases(
                svc,
                user,
                period,
                measure,
                bundle=bundle,
                page=page,
                **{k: (v or None) for k, v in filters.items()},
            )
        )
    except Invalid as err:
        raise BadQuery(_field_errors(err, "measure")) from err
    except NotFound as err:
        raise BadQuery({"bundle": err.message}) from err


def _in_words(
    measure: str,
    period: Any,
    bundle: str,
    filters: Mapping[str, str],
    names: Mapping[str, str],
) -> list[str]:
    """The drill-down's filters as the page says them: "期间 2026年11月", "事项 餐饮店" ..."""
    if measure in dashboard.OPEN_MEASURES:
        words = ["此刻在办 (不限统计周期)"]
    elif measure.startswith("renewals_"):
        words = [f"自今日起 {measure.removeprefix('renewals_')} 天内到期"]
    else:
        words = [f"期间 {period.label} ({period.first} 至 {period.last})"]
    if bundle:
        words.append(f"{FILTER_WORDS['bundle']} {names.get(bundle, bundle)}")
    for key in FILTERS:
        if filters.get(key):
            words.append(f"{FILTER_WORDS[key]} {filters[key]}")
    return words


def _urgeable(svc: Services, user: User, rows: Sequence[Mapping[str, Any]]) -> set[int]:
    """The open cases of the list this user may 催办 (the case page's form): supervisors and
    administrators of the bundle's 督办 group, never auditors (read-only)."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        return set()
    allowed: set[int] = set()
    for row in rows:
        if row.get("result") == "open" and messages.may_urge_case(svc, user, int(row["id"])):
            allowed.add(int(row["id"]))
    return allowed


# ------------------------------------------------------------------ /stats/export


@bp.get("/export")
@role_required(*VIEWERS)
def export() -> Any:
    user, svc = _viewer()
    chosen = _chosen()
    table = request.args.get("table", "").strip()
    fmt = request.args.get("format", "").strip()
    errors: dict[str, str] = {}
    if table not in dashboard_export.TABLES:
        errors["table"] = "导出的表格无效: 应为 " + "、".join(dashboard_export.TABLES)
    if fmt not in dashboard_export.FORMATS:
        errors["format"] = "导出格式应为 xlsx 或 csv"
    drill: dict[str, Any] = {}
    if table == "cases":
        drill = {k: request.args.get(k, "").strip() or None for k in FILTERS}
        drill["measure"] = request.args.get("measure", "").strip()
        if drill["measure"] not in dashboard.MEASURES:
            errors["measure"] = "统计口径无效"
    try:
        period = _period(svc, chosen)
    except BadQuery as bad:
        errors.update(bad.errors)
    if not errors:
        try:
            filename, content_type, content = dashboard_export.export_table(
                svc, user, period, table, fmt, bundle=chosen["bundle"] or None, **drill
            )
        except (Invalid, NotFound) as err:
            errors = _field_errors(err, "table")
    if errors:
        return _refused(svc, user, errors)
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = content_disposition("attachment", filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(svc: Services, user: User, errors: Mapping[str, str]) -> Any:
    """The 400 page of a request that is not a page of its own (an export, the report)."""
    back = url_for("dashboard.index")
    return render_template("stats/dashboard_refused.html", errors=errors, back=back), 400


# ------------------------------------------------------------------ /stats/report

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@bp.get("/report")
@role_required(*VIEWERS)
def report() -> Any:
    user, svc = _viewer()
    given = request.args.get("month", "").strip()
    bundle = request.args.get("bundle", "").strip() or None
    month = svc.today().replace(day=1)
    errors: dict[str, str] = {}
    if given:
        matched = MONTH.match(given)
        if matched and 1 <= int(matched.group(2)) <= 12 and int(matched.group(1)) >= 2000:
            month = date(int(matched.group(1)), int(matched.group(2)), 1)
        else:
            errors["month"] = "月份应写作 YYYY-MM, 例如 2026-11"
    if not errors:
        try:
            found = dict(dashboard.monthly_report(svc, user, month, bundle))
        except (Invalid, NotFound) as err:
            errors = _field_errors(err, "bundle")
    if errors:
        return _refused(svc, user, errors)
    pages = []
    for b in found["bundles"]:
        rows = figure_rows([{"key": b["key"], "figures": b}], lambda *a, **k: None)
        pages.append(
            {
                "key": b["key"],
                "name": b["name"],
                "columns": _columns(rows),
                "sentences": sentences(b),
            }
        )
    if len(found["bundles"]) > 1:  # the centre's month in total, after the bundles
        rows = figure_rows([{"key": None, "figures": found["totals"]}], lambda *a, **k: None)
        totals = found["totals"]
        pages.append(
            {
                "key": None,
                "name": "全部事项合计",
                "columns": _columns(rows),
                "sentences": sentences(totals),
            }
        )
    back: dict[str, Any] = {
        "period": "month",
        "start": month.isoformat(),
        **({"bundle": bundle} if bundle else {}),
    }
    return render_template(
        "stats/report.html",
        report=found,
        pages=pages,
        month=month,
        back=url_for("dashboard.index", **back),
        refreshed=_refreshed(svc, found.get("refreshed_at")),
    )


def sections(rows: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """`rows` grouped by their section, in order."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for r in rows:
        if not out or out[-1][0] != r["section"]:
            out.append((r["section"], []))
        out[-1][1].append(r)
    return out


# The report's two columns of sections (about the same number of rows each).
LEFT_SECTIONS = ("办件量", "时效", "办理时间", "补正", "容缺受理")


def _columns(rows: Sequence[dict[str, Any]]) -> list[list[tuple[str, list[dict[str, Any]]]]]:
    """The report's rows as two columns of (section, rows)."""
    grouped = sections(rows)
    return [
        [g for g in grouped if g[0] in LEFT_SECTIONS],
        [g for g in grouped if g[0] not in LEFT_SECTIONS],
    ]


def sentences(f: Mapping[str, Any]) -> list[str]:
    """A bundle's month in a few plain sentences, for the report's reader."""
    out = [
        f"本月收件 {f['received']} 件, 受理 {f['accepted']} 件, 办结 {f['finished']} 件"
        + (f", 不予受理 {f['refused']} 件" if f["refused"] else "")
        + (f", 撤回 {f['withdrawn']} 件" if f["withdrawn"] else "")
        + "。"
    ]
    timed = f["early"] + f["on_time"] + f["overdue"]
    if timed:
        out.append(
            f"计时办结 {timed} 件, 提前办结 {f['early']} 件 ({number(f['early_rate'], '%')}), "
            f"超期 {f['overdue']} 件 ({number(f['overdue_rate'], '%')})。"
        )
    h = f["handling"]
    if h["count"]:
        text = (
            f"平均办理 {number(h['avg_workdays'])} 个工作日, "
            f"90% 的办件在 {number(h['p90_workdays'])} 个工作日内办结"
        )
        if h["compression"] is not None:
            text += (
                f"; 承诺时限平均 {number(h['promised_avg'])} 个工作日, "
                f"比法定时限 ({number(h['statutory_avg'])}) 压缩 {number(h['compression'], '%')}"
            )
        out.append(text + "。")
    r = f["ratings"]
    if r["count"]:
        text = f"收到评价 {r['count']} 件, 满意率 {number(r['satisfaction'], '%')}"
        if r["bad"]:
            text += (
                f"; 差评 {r['bad']} 件, 按期整改 {r['rectified_on_time']} 件, "
                f"逾期整改 {r['rectified_late']} 件, 整改中 {r['rectification_open']} 件"
            )
        out.append(text + "。")
    v = f["visits"]
    if v["finished"]:
        out.append(
            f"最多跑一次率 {number(v['one_visit_rate'], '%')}, "
            f"全程网办率 {number(v['online_full_rate'], '%')}。"
        )
    if f["certificates"]:
        out.append(f"发证 {f['certificates']} 张。")
    return out
