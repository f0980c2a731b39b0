"""好差评 at the window (评价器): a clerk of the window that received a concluded case records the
rating the applicant gives in person, from the case's page. The applicant's own rating (online,
on the public progress page: web/pages/public.py) is never taken away by it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import follow_ups, queries

from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("ratings", __name__)


@bp.post("/cases/<int:case_id>/rating")
@role_required(Role.CLERK)
def window_rating(case_id: int) -> Any:
    back = url_for("cases.case", case_id=case_id) + "#h-rating"
    try:
        queries.get_case(services(), page_user(), case_id)  # no such case: 404, not a flash
    except NotFound:
        abort(404)
    try:
        found = follow_ups.rate(
            services(),
            case_id,
            follow_ups.posted_level(request.form.get("level")),
            request.form.get("comment", "").strip() or None,
            user=page_user(),
        )
    except Invalid as err:
        details = "; ".join(str(e.get("message")) for e in err.errors if e.get("message"))
        flash(f"{err.message}: {details}" if details else err.message, "error")
        return redirect(back)
    except (Conflict, Forbidden, NotFound) as err:
        flash(err.message, "error")
        return redirect(back)
    then = ", 已转督办人员整改" if found["rectification"] else ""
    flash(f"已登记窗口评价: {found['label']}{then}", "success")
    return redirect(back)
