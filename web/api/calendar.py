"""The working-day calendar: read by anyone signed in, changed by admins (every change logged)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request

from engine.domain.users import Role
from engine.errors import Forbidden, Invalid
from engine.services import calendar

from ..state import services
from . import api
from .common import current_user, json_body


def _date(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise Invalid(
            "日期无效", [{"field": field, "message": "应为日期, 如 2026-10-01"}]
        ) from None


@api.get("/calendar/<int:year>")
def calendar_year(year: int) -> Any:
    current_user()
    return calendar.calendar_view(services(), year)


@api.get("/calendar/add")
def calendar_add() -> Any:
    current_user()
    start = _date(request.args.get("start"), "start")
    try:
        n = int(request.args.get("n", ""))
    except ValueError:
        raise Invalid("工作日数无效", [{"field": "n", "message": "应为整数"}]) from None
    result = calendar.add_workdays(services(), start, n)
    return {
        "start": start.isoformat(),
        "n": n,
        "date": result.value.isoformat(),
        "provisional": result.provisional,
    }


@api.put("/calendar/days/<day>")
def calendar_set_day(day: str) -> Any:
    user = current_user()
    body = json_body()
    if not isinstance(body.get("workday"), bool):
        raise Invalid(
            "缺少 workday",
            [{"field": "workday", "message": "应为 true (调休上班) 或 false (休息)"}],
        )
    name = body.get("name", "")
    if not isinstance(name, str):
        raise Invalid("名称无效", [{"field": "name", "message": "应为文本"}])
    return calendar.set_day(services(), user, _date(day, "day"), body["workday"], name)


@api.delete("/calendar/days/<day>")
def calendar_remove_day(day: str) -> Any:
    return {"removed": calendar.remove_day(services(), current_user(), _date(day, "day"))}


@api.post("/calendar/years/<int:year>")
def calendar_publish_year(year: int) -> Any:
    return {"year": year, "published": calendar.publish_year(services(), current_user(), year)}


@api.get("/calendar/changes")
def calendar_changes() -> Any:
    user = current_user()
    if not user.has_role(Role.ADMIN, Role.AUDITOR):
        raise Forbidden("只有管理员和审计人员可以查看日历修改记录")
    with services().uow() as uow:
        return {"changes": uow.calendar.changes()}
