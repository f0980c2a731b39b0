"""挂起 / 恢复 in the pages (issue 18 · 8): on a case's page, for whoever
engine/services/suspension.py allows (the groups holding the case, its supervisors,
administrators), a 挂起… form (the kind, the reason, a confirmation) and, for a suspended case,
its banner with 恢复办理…; the task page shows the banner and no form to submit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Invalid
from engine.services import suspension

from ..auth import page_user, role_required, safe_next, signed_in
from ..state import services

bp = Blueprint("suspension", __name__, url_prefix="/cases")


@bp.app_template_global("may_suspend")
def may_suspend(case_id: int) -> bool:
    """For the templates: may the signed-in user suspend this case now?"""
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.ADMIN):
        return False
    return suspension.can_suspend(services(), user, case_id)


@bp.app_template_global("may_resume")
def may_resume(case_id: int) -> bool:
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.ADMIN):
        return False
    return suspension.can_resume(services(), user, case_id)


@bp.app_template_global("suspension_kinds")
def suspension_kinds(case_id: int) -> list[dict[str, Any]]:
    """The kinds, each saying whether it stops this case's clock (its bundle's rule)."""
    return suspension.kinds(services(), case_id)


def _back(case_id: int) -> Any:
    return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_id=case_id))


def _refused(case_id: int, messages: list[str]) -> Any:
    """The case's page again with what is wrong, answered 422 (a case that does not exist is
    the 404 page)."""
    from .cases import case as case_page

    for message in messages:
        flash(message, "error")
    return case_page(case_id), 422


def _problems(err: Invalid) -> list[str]:
    return [str(p.get("message") or err.message) for p in err.errors or [{"message": err.message}]]


@bp.post("/<int:case_id>/suspend")
@role_required(Role.CLERK)
def suspend(case_id: int) -> Any:
    if request.form.get("confirm") != "yes":
        return _refused(case_id, ["请勾选确认: 挂起后所有待办环节暂停办理, 直到恢复"])
    try:
        suspension.suspend(
            services(),
            page_user(),
            case_id,
            request.form.get("reason", ""),
            request.form.get("kind", ""),
            request.form.get("expected_workdays", ""),  # 特别程序 (Art. 45): optional
        )
    except Invalid as err:
        return _refused(case_id, _problems(err))
    flash(f"办件 {case_id} 已挂起", "success")
    return _back(case_id)


@bp.post("/<int:case_id>/resume")
@role_required(Role.CLERK)
def resume(case_id: int) -> Any:
    try:
        suspension.resume(services(), page_user(), case_id, request.form.get("note", ""))
    except Invalid as err:
        return _refused(case_id, _problems(err))
    flash(f"办件 {case_id} 已恢复办理", "success")
    return _back(case_id)
