"""出错办件: the cases stopped as incidents, for administrators and designers (the designers
fix the process), with the failing element, the error, the expression and the fields it reads,
the failed submission and the case's data. Administrators act on them: correct the data and
retry the failed step, resume, or move the case to a fixed version (checked first)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import incidents, recovery

from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

FIELD = "field:"  # a corrected field's input: field:<name>
_MAPPING_LINE = re.compile(r"^\s*([^=\s]+)\s*(?:=|→|->)\s*([^=\s]+)\s*$")


def _problems(err: Invalid | Conflict | Forbidden | NotFound) -> list[str]:
    if isinstance(err, Invalid):
        return [str(e["message"]) for e in err.errors] or [err.message]
    return [err.message]


def _page(
    plan: dict[str, Any] | None = None, problems: list[str] | None = None, status: int = 200
) -> Any:
    user, svc = page_user(), services()
    found = incidents.list_incidents(svc, user)
    for incident in found:  # when it stopped, in the service centre's time
        since = datetime.fromisoformat(incident["since"]).astimezone(svc.tz)
        incident["since_local"] = since.strftime("%Y-%m-%d %H:%M")
    return (
        render_template(
            "incidents/list.html",
            incidents=found,
            can_act=user.has_role(Role.ADMIN),
            plan=plan,
            problems=problems or [],
            field_prefix=FIELD,
        ),
        status,
    )


@bp.get("/")
@role_required(Role.ADMIN, Role.DESIGNER)
def list_page() -> Any:
    return _page()


def _value(text: str) -> Any:
    """A typed value: JSON when it reads as JSON (true, 3, "x", [..]), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _corrections() -> dict[str, Any]:
    """The fields the administrator changed (an empty input is left as it was)."""
    found = {}
    for key, text in request.form.items():
        if key.startswith(FIELD) and text.strip():
            found[key[len(FIELD) :]] = _value(text.strip())
    return found


@bp.post("/<int:case_id>/retry")
@role_required(Role.ADMIN)
def retry(case_id: int) -> Any:
    svc, user = services(), page_user()
    try:
        changed = _corrections()
        if changed:
            recovery.correct_data(svc, user, case_id, changed)
        recovery.retry(svc, user, case_id)
    except (Invalid, Conflict, Forbidden, NotFound) as err:
        return _page(problems=[f"办件 {case_id}: {p}" for p in _problems(err)], status=err.status)
    flash(f"办件 {case_id} 已重试成功, 恢复办理", "success")
    return redirect(url_for("incidents.list_page"))


@bp.post("/<int:case_id>/resume")
@role_required(Role.ADMIN)
def resume(case_id: int) -> Any:
    try:
        incidents.resume(services(), page_user(), case_id)
    except (Conflict, Forbidden, NotFound) as err:
        return _page(problems=_problems(err), status=err.status)
    flash(f"办件 {case_id} 已恢复办理", "success")
    return redirect(url_for("incidents.list_page"))


def _mapping(text: str) -> dict[str, str]:
    mapping = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _MAPPING_LINE.match(line)
        if found is None:
            message = f"对应关系第 {number} 行应写成「原环节=新环节」"
            raise Invalid(message, [{"field": "mapping", "message": message}])
        mapping[found.group(1)] = found.group(2)
    return mapping


@bp.post("/<int:case_id>/migrate")
@role_required(Role.ADMIN)
def migrate(case_id: int) -> Any:
    svc, user = services(), page_user()
    text = request.form.get("mapping", "")
    number = request.form.get("version", "").strip()
    try:
        mapping = _mapping(text)
        version: Any = int(number) if number.isdigit() else number
        plan = recovery.check_migration(svc, user, case_id, version, mapping)
        plan["mapping_text"] = text
        if request.form.get("action") != "apply" or not plan["ok"]:
            return _page(plan=plan, status=200 if plan["ok"] else 422)
        recovery.migrate(svc, user, case_id, version, mapping)
    except (Invalid, Conflict, Forbidden, NotFound) as err:
        return _page(problems=[f"办件 {case_id}: {p}" for p in _problems(err)], status=err.status)
    flash(f"办件 {case_id} 已迁移到第 {version} 版, 恢复办理", "success")
    return redirect(url_for("incidents.list_page"))
