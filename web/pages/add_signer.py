"""并行加签 / 减签 in the pages (issue 18 · 5), on the clerk blueprint: on the task page of an
instance of a running parallel 会签, add a department or a person to it, or take off a signer
who has not signed (engine/services/add_signer.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import add_signer

from ..auth import page_user, role_required, signed_in
from ..state import services
from .clerk import _invalid_text, _render_task, bp


@bp.app_template_global("parallel_sign_panel")
def parallel_sign_panel(task: dict[str, Any]) -> dict[str, Any] | None:
    user = signed_in()
    if user is None or task.get("status") != "open":
        return None
    return add_signer.panel(services(), user, task["id"])


def _refused(task_id: str, err: Invalid | Conflict | Forbidden) -> Any:
    return _render_task(
        task_id,
        other_errors=[_invalid_text(err) if isinstance(err, Invalid) else err.message],
        status=err.status,
    )


@bp.post("/tasks/<task_id>/parallel-signer")
@role_required(Role.CLERK)
def add_parallel_signer(task_id: str) -> Any:
    form = request.form
    try:
        add_signer.add_parallel(
            services(), page_user(), task_id, form.get("to"), form.get("reason")
        )
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash(f"已加签: {form.get('to')} 加入本会签", "success")
    return redirect(url_for("clerk.task", task_id=task_id), code=303)


@bp.post("/tasks/<task_id>/parallel-signer/<other_id>/remove")
@role_required(Role.CLERK)
def remove_parallel_signer(task_id: str, other_id: str) -> Any:
    try:
        view = add_signer.remove_parallel(
            services(), page_user(), other_id, request.form.get("reason")
        )
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash("已减签", "success")
    still = any(t["id"] == task_id for t in view["tasks"])
    target = (
        url_for("clerk.task", task_id=task_id)
        if still
        else url_for("cases.case", case_id=view["id"])
    )
    return redirect(target, code=303)
