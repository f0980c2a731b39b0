"""退回 and 撤回 in the pages (issue 18 · 1, 7), on the clerk blueprint.

The task page offers 退回… to whoever could complete the task (the earlier tasks of the case's
path, with why one is not possible); a task that came back says why and shows its earlier
decision. The case page and 我的已办 offer 撤回 on a task the signed-in clerk completed while the
next tasks are untouched."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import send_back

from ..auth import page_user, role_required, signed_in
from ..state import services
from .clerk import _invalid_text, _render_task, bp


@bp.app_template_global("send_back_panel")
def send_back_panel(task: dict[str, Any]) -> dict[str, Any] | None:
    """For the task page: where the signed-in clerk may send this task back, or None."""
    user = signed_in()
    if user is None or task.get("status") != "open" or task.get("kind") != "bpmn":
        return None
    try:
        return send_back.targets(services(), user, task["id"])
    except (Forbidden, Conflict, NotFound):
        return None


@bp.app_template_global("correction_materials")
def correction_materials(
    bundle_key: str, version: int, data: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """For the 退回申请人补正 choice: the bundle's materials asked of the case with this `data`
    (all of them without), each {"code", "name"}."""
    return send_back.materials(services(), bundle_key, version, data)


@bp.app_template_global("reopened_note")
def reopened_note(task_id: str, case_id: int) -> dict[str, Any] | None:
    """For the task page: why a task came back (退回/撤回), who, when, and its earlier round."""
    with services().uow() as uow:
        events = uow.cases.events(case_id)
    found = send_back.reopened(events, task_id)
    if found is None:
        return None
    event, earlier = found["event"], found["earlier"]
    return {
        "kind": event.type.label,
        "sent_back": str(event.type) == "task_sent_back",
        "actor": event.actor,
        "at": event.at,
        "from": event.element,
        "reason": event.data.get("reason", ""),
        "earlier_seq": earlier.seq if earlier is not None else None,
    }


@bp.app_template_global("recallable_tasks")
def recallable_tasks(case_id: int) -> list[dict[str, Any]]:
    """For the case page: the tasks of the case the signed-in clerk may still take back."""
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK):
        return []
    return send_back.recallable(services(), user, case_id)


@bp.post("/tasks/<task_id>/send-back")
@role_required(Role.CLERK)
def send_back_task(task_id: str) -> Any:
    form = request.form
    try:
        view = send_back.send_back(
            services(),
            page_user(),
            task_id,
            form.get("target"),
            form.get("reason"),
            form.getlist("materials") or None,
        )
    except Invalid as err:
        return _render_task(task_id, other_errors=[f"退回未完成: {_invalid_text(err)}"], status=422)
    target = next((t["name"] for t in view["tasks"] if t["element"] == form.get("target")), "")
    flash(f"已退回{('到「' + target + '」') if target else ''}, 原因已记入办理过程")
    return redirect(url_for("cases.case", case_id=view["id"]), code=303)


@bp.post("/tasks/<task_id>/recall")
@role_required(Role.CLERK)
def recall_task(task_id: str) -> Any:
    view = send_back.recall(services(), page_user(), task_id, request.form.get("reason"))
    reopened = next((t for t in view["tasks"] if t.get("assignee") == page_user().name), None)
    flash("已撤回, 任务重新回到您的待办")
    if reopened is not None:
        return redirect(url_for("clerk.task", task_id=reopened["id"]), code=303)
    return redirect(url_for("cases.case", case_id=view["id"]), code=303)
