"""听证 (Administrative Licensing Law Arts. 46–47) in the pages: on a case's page and on its
decision task's page, the box 听证权利告知 (the request-by date; while the notice waits for an
answer, 申请人申请听证 / 申请人放弃听证 with a note, for the window and the clerks holding the
case); the hearing under way; the printable 听证告知书 at /cases/ID/hearing-notice. The 听证 task
itself shows the 听证笔录 form (engine/services/hearing.py FORM)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import hearing, hearing_rights

from ..auth import page_user, role_required, safe_next, signed_in
from ..state import services
from . import refusals

bp = Blueprint("hearing", __name__, url_prefix="/cases")


@bp.app_template_global("hearing_of")
def hearing_of(case_id: int) -> dict[str, Any] | None:
    """For the templates: the case's hearing notices and hearing, and whether the signed-in
    user may record the applicant's answer; None without a notice, or for whoever may not read
    the case."""
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        return None
    svc = services()
    found = hearing_rights.case_hearing(svc, case_id)
    if found is None:
        return None
    may = found["pending"] is not None and hearing.can_answer(svc, user, case_id)
    return {**found, "may_answer": may}


def _back(case_id: int) -> Any:
    return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_id=case_id))


@bp.post("/<int:case_id>/hearing")
@role_required(Role.CLERK)
def answer(case_id: int) -> Any:
    action = request.form.get("action", "")
    try:
        hearing.answer(services(), page_user(), case_id, action, request.form.get("note", ""))
    except (Invalid, Conflict, Forbidden) as err:
        return refusals.on_case_page(case_id, err)
    if action == hearing.REQUEST:
        flash("已登记申请人申请听证: 已生成听证任务, 听证期间暂停计时", "success")
    else:
        flash("已登记申请人放弃听证, 可以作出决定", "success")
    return _back(case_id)


@bp.get("/<int:case_id>/hearing-notice")
@role_required(Role.CLERK, Role.AUDITOR)
def notice(case_id: int) -> Any:
    """听证告知书, printable."""
    n = hearing.notice_view(services(), page_user(), case_id)
    return Response(render_template("hearing_notice.html", n=n), mimetype="text/html")
