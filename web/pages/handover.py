"""转办 and 委派 on a task's page (issue 18 · 2 and 3), on the clerk blueprint.

The task page includes `clerk/_handover.html`, which reads `handover(task, case)`: the opinions
delegates gave on this task, the answer box for the delegate, and for whoever could complete
the task now the 转办… and 委派… boxes with the colleagues to choose from."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import task_handover

from ..auth import page_user, role_required, signed_in
from ..state import services
from .clerk import _invalid_text, _render_task, bp


@bp.app_template_global("handover")
def handover(task: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """What the task page shows of 转办 and 委派 for the signed-in clerk."""
    user = signed_in()
    found: dict[str, Any] = {
        "opinions": [],
        "delegated_to_me": False,
        "waiting": False,
        "can_hand_over": False,
        "transfer": [],
        "delegate": [],
    }
    if user is None or not user.has_role(Role.CLERK):
        return found
    svc = services()
    found["opinions"] = task_handover.opinions(svc, user, task["id"])
    if task["status"] != "open" or case["status"] != "running":
        return found
    owner, assignee = task.get("owner"), task.get("assignee")
    delegated = owner is not None and task.get("owner_kind") is None  # else 加签 (countersign)
    found["delegated_to_me"] = delegated and assignee == user.name
    found["waiting"] = delegated and assignee != user.name
    found["can_hand_over"] = (
        owner is None
        and task.get("kind") == "bpmn"
        and assignee in (None, user.name)
        and (assignee == user.name or bool(set(task["groups"]) & user.groups))
    )
    if found["can_hand_over"]:
        found |= task_handover.colleagues(svc, user, task["id"])
    return found


def _refused(task_id: str, err: Invalid | Conflict | Forbidden) -> Any:
    flash(_invalid_text(err) if isinstance(err, Invalid) else err.message, "error")
    return _render_task(task_id, status=err.status)


@bp.post("/tasks/<task_id>/transfer")
@role_required(Role.CLERK)
def transfer(task_id: str) -> Any:
    to, reason = request.form.get("to"), request.form.get("reason")
    try:
        task = task_handover.transfer(services(), page_user(), task_id, to, reason)
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash(f"已转办给 {task['assignee']}, 任务已从您的待办中移出", "success")
    return redirect(url_for("clerk.worklist"))


@bp.post("/tasks/<task_id>/delegate")
@role_required(Role.CLERK)
def delegate(task_id: str) -> Any:
    to, reason = request.form.get("to"), request.form.get("reason")
    try:
        task = task_handover.delegate(services(), page_user(), task_id, to, reason)
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash(f"已委派 {task['assignee']} 提出意见; 交回后任务回到您这里", "success")
    return redirect(url_for("clerk.task", task_id=task_id))


@bp.post("/tasks/<task_id>/answer")
@role_required(Role.CLERK)
def answer(task_id: str) -> Any:
    try:
        task = task_handover.answer_delegation(
            services(), page_user(), task_id, request.form.get("opinion")
        )
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash(f"意见已交回 {task['assignee']}", "success")
    return redirect(url_for("clerk.worklist"))
