"""延期 (Administrative Licensing Law Art. 42) in the pages: on a case's page and a task page, for
the clerks holding the case, a 申请延期 form (工作日数, 理由); after a grant, "已延期 M 个工作日
(批准人, 日期)" by the deadline and the printable 延期通知书; on the approver's 延期审批 task,
the request with the current and the new deadline (its 批准 / 不批准 form is the task's own,
engine/services/extension.py FORM)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import extension

from ..auth import page_user, role_required, safe_next, signed_in
from ..state import services
from . import refusals

bp = Blueprint("extension", __name__, url_prefix="/cases")


@bp.app_template_global("extension_of")
def extension_of(case_id: int) -> dict[str, Any] | None:
    """For the templates: the case's extensions, a pending request, whether the signed-in user
    may ask now; None for whoever may not read the case."""
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        return None
    return extension.overview(services(), user, case_id)


@bp.app_template_global("extension_review")
def extension_review(task_id: str) -> dict[str, Any] | None:
    """For the 延期审批 task page: the request, the current and the new deadlines."""
    user = signed_in()
    if user is None:
        return None
    return extension.review(services(), user, task_id)


def _back(case_id: int) -> Any:
    return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_id=case_id))


@bp.post("/<int:case_id>/extension")
@role_required(Role.CLERK)
def ask(case_id: int) -> Any:
    try:
        extension.request(
            services(),
            page_user(),
            case_id,
            request.form.get("workdays", ""),
            request.form.get("reason", ""),
        )
    except (Invalid, Conflict, Forbidden) as err:
        return refusals.on_case_page(case_id, err)
    flash("已提交延期申请, 等待负责人审批; 批准前办理期限不变", "success")
    return _back(case_id)


@bp.get("/<int:case_id>/extension-notice")
@role_required(Role.CLERK, Role.AUDITOR)
def notice(case_id: int) -> Any:
    """延期通知书, printable."""
    n = extension.notice(services(), page_user(), case_id)
    return Response(render_template("extension_notice.html", n=n), mimetype="text/html")
