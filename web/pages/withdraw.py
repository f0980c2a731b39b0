"""撤回 in the pages (issue 17 · B): on a case's page and a task's page, for whoever the rules of
`case_access.require_canceller` allow (the groups holding the case, the window that received
it, its supervisors, administrators): the reason is required and the withdrawal confirmed;
the case then ends 已撤回 with the reason in its timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Invalid
from engine.services import queries, withdrawal

from ..auth import page_user, role_required, safe_next, signed_in
from ..state import services

bp = Blueprint("withdraw", __name__, url_prefix="/cases")


@bp.app_template_global("may_withdraw")
def may_withdraw(case_id: int) -> bool:
    """For the templates: may the signed-in user withdraw this case now?"""
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.ADMIN):
        return False
    return withdrawal.can_withdraw(services(), user, case_id)


def _page(case_id: int, reason: str, errors: dict[str, str], back: str | None, status: int) -> Any:
    case = queries.get_case(services(), page_user(), case_id)
    return (
        render_template("clerk/withdraw.html", case=case, reason=reason, errors=errors, back=back),
        status,
    )


@bp.get("/<int:case_id>/withdraw")
@role_required(Role.CLERK)
def withdraw_page(case_id: int) -> Any:
    if not withdrawal.can_withdraw(services(), page_user(), case_id):
        flash("您不能撤回此办件 (只有正在办理该办件的部门、受理窗口或督办人员可以撤回)", "error")
        return redirect(url_for("cases.case", case_id=case_id))
    return _page(case_id, "", {}, safe_next(request.args.get("next")), 200)


@bp.post("/<int:case_id>/withdraw")
@role_required(Role.CLERK)
def withdraw(case_id: int) -> Any:
    reason = request.form.get("reason", "")
    back = safe_next(request.form.get("next"))
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "请填写撤回原因"
    if request.form.get("confirm") != "yes":
        errors["confirm"] = "请勾选确认: 撤回后所有待办环节取消, 办件结束, 不能恢复"
    if errors:
        return _page(case_id, reason, errors, back, 422)
    try:
        withdrawal.withdraw(services(), page_user(), case_id, reason)
    except Invalid as err:
        problems = {str(e.get("field") or "reason"): str(e.get("message")) for e in err.errors}
        return _page(case_id, reason, problems or {"reason": err.message}, back, 422)
    flash(f"办件 {case_id} 已撤回", "success")
    return redirect(url_for("cases.case", case_id=case_id))
