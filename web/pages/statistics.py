"""时限统计: the Administrative Licensing Law's time-limit figures (engine/services/
time_statistics.py) as a page, for administrators, auditors and the clerks of a bundle's 督办
group; linked from the navigation for them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from engine.domain.users import Role
from engine.errors import Invalid
from engine.services import time_statistics

from ..auth import page_user, role_required, signed_in
from ..state import services

bp = Blueprint("statistics", __name__, url_prefix="/statistics")


def _may_view() -> bool:
    user = signed_in()
    if user is None:
        return False
    if "may_view_statistics" not in g:
        g.may_view_statistics = time_statistics.may_view(services(), user)
    return bool(g.may_view_statistics)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"may_view_time_statistics": _may_view}


@bp.get("/time-limits")
@role_required(Role.ADMIN, Role.AUDITOR, Role.CLERK)  # a clerk: of a bundle's 督办 group
def time_limits() -> Any:
    user, svc = page_user(), services()
    chosen = {k: request.args.get(k, "") for k in ("from", "to", "bundle")}
    bundles = time_statistics.bundle_choices(svc, user)  # refuses those who may not see any
    try:
        found = time_statistics.time_limits(
            svc, user, chosen["from"], chosen["to"], chosen["bundle"]
        )
    except Invalid as err:
        errors = {e.get("field"): e["message"] for e in err.errors}
        page = render_template(
            "statistics/time_limits.html", found=None, chosen=chosen, errors=errors, bundles=bundles
        )
        return page, 422
    return render_template(
        "statistics/time_limits.html", found=found, chosen=chosen, errors={}, bundles=bundles
    )
