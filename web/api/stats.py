"""效能监察 (docs/dashboard.md): GET /stats (the figures of a period), /stats/cases (the cases
behind one number), /stats/export (a table as CSV or Excel). Query parameters: `period`
(day|week|month|quarter|year|custom, default month), `start` (a date in it; custom: the first
day), `end` (custom: the last day), `bundle` (one bundle's key)."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.services import dashboard, dashboard_export
from engine.services.dashboard import Period

from ..responses import content_disposition
from ..state import services
from . import api
from .common import current_user

FILTERS = ("group", "element", "clerk", "department")


def _period() -> Period:
    args = request.args
    return dashboard.parse_period(
        args.get("period"), args.get("start"), args.get("end"), services().today()
    )


def _bundle() -> str | None:
    return request.args.get("bundle") or None


@api.get("/stats")
def stats_figures() -> Any:
    user = current_user()
    return dashboard.figures(services(), user, _period(), _bundle())


@api.get("/stats/cases")
def stats_cases() -> Any:
    user = current_user()
    args = request.args
    return dashboard.cases(
        services(),
        user,
        _period(),
        args.get("measure"),
        _bundle(),
        group=args.get("group"),
        element=args.get("element"),
        clerk=args.get("clerk"),
        department=args.get("department"),
        page=args.get("page"),
    )


@api.get("/stats/export")
def stats_export() -> Any:
    user = current_user()
    args = request.args
    filename, content_type, content = dashboard_export.export_table(
        services(),
        user,
        _period(),
        args.get("table"),
        args.get("format"),
        _bundle(),
        measure=args.get("measure"),
        **{k: args.get(k) for k in FILTERS},
    )
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = content_disposition("attachment", filename)
    response.headers["Cache-Control"] = "no-store"
    return response
