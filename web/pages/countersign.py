"""加签 / 减签 on a task's page (issue 18 · 5), on the clerk blueprint.

The task page includes `clerk/_countersign.html`, which reads `countersign_panel(task, case)`:
the signatures given on this task, the 签署并交回 box for the added signer, the waiting note
with 减签 for the holder, and the 加签… box (before me; "提交并加签" submits the task form
for after me)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import case_record, countersign, task_handover

from ..auth import page_user, role_required, signed_in
from ..state import services
from . import kept_form
from .clerk import _invalid_text, _render_task, _split_errors, _task_context, bp


@bp.app_template_global("countersign_panel")
def countersign_panel(
    task: dict[str, Any], case: dict[str, Any], schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the task page shows of 加签 for the signed-in clerk (`schema`: the task's form, to
    show a kept 后加签 form in its words)."""
    user = signed_in()
    found: dict[str, Any] = {
        "signatures": [],
        "to_sign": False,
        "waiting": False,
        "can_add": False,
        "position": "",
        "kept": [],
        "colleagues": [],
    }
    if user is None or not user.has_role(Role.CLERK):
        return found
    svc = services()
    found["signatures"] = countersign.signatures(svc, task["id"])
    if task["status"] != "open" or case["status"] != "running":
        return found
    owner, assignee, kind = task.get("owner"), task.get("assignee"), task.get("owner_kind")
    if kind in countersign.POSITIONS:
        found["position"] = countersign.POSITION_WORDS[countersign.POSITIONS[kind]]
        found["to_sign"] = assignee == user.name
        found["waiting"] = owner == user.name
        if kind == "sign_after":
            fields = (schema or {}).get("properties") or {}
            for name, value in countersign.kept_form(svc, task["id"]).items():
                prop = fields.get(name) if isinstance(fields.get(name), dict) else None
                found["kept"].append(
                    {
                        "label": str((prop or {}).get("title") or name),
                        "text": case_record.show_value(value, prop, {})["text"],
                    }
                )
        return found
    found["can_add"] = (
        owner is None
        and task.get("kind") == "bpmn"
        and assignee in (None, user.name)
        and (assignee == user.name or bool(set(task["groups"]) & user.groups))
    )
    if found["can_add"]:
        found["colleagues"] = task_handover.colleagues(svc, user, task["id"])["delegate"]
    return found


def _refused(task_id: str, err: Invalid | Conflict | Forbidden) -> Any:
    flash(_invalid_text(err) if isinstance(err, Invalid) else err.message, "error")
    return _render_task(task_id, status=err.status)


@bp.post("/tasks/<task_id>/add-signer")
@role_required(Role.CLERK)
def add_signer(task_id: str) -> Any:
    """前加签 from the 加签… box; 后加签 from the task form's 提交并加签 button."""
    svc, user, form = services(), page_user(), request.form
    if form.get("countersign_position") != "after":
        to, reason = form.get("sign_to"), form.get("sign_reason")
        position = form.get("position") or "before"
        try:
            task = countersign.add_signer(svc, user, task_id, position, to, reason)
        except (Invalid, Conflict, Forbidden) as err:
            return _refused(task_id, err)
        flash(f"已请 {task['assignee']} 先行签署; 签署后任务回到您这里", "success")
        return redirect(url_for("clerk.task", task_id=task_id))
    to, reason = form.get("countersign_to"), form.get("countersign_reason")
    schema = _task_context(task_id)["schema"]
    try:
        data, file_errors = kept_form.parse_page_form(
            schema, form, request.files, svc.limits.attachment_bytes
        )
    except Invalid as err:
        return _render_task(task_id, None, {}, [_invalid_text(err)], status=422)
    file_errors |= kept_form.resolve_held(schema, data, user.name)

    def refused(errors: dict[str, str], rest: list[str], status: int) -> Any:
        values, held = kept_form.held_for_page(schema, data, user.name)
        return _render_task(task_id, values, errors, rest, status=status, held=held)

    if file_errors:
        return refused(file_errors, [], 422)
    try:
        task = countersign.add_signer(svc, user, task_id, "after", to, reason, data)
    except Invalid as err:
        inline, rest = _split_errors(err, schema)
        return refused(inline, [f"加签未完成: {m}" for m in rest] or [], 422)
    except (Conflict, Forbidden) as err:
        flash(err.message, "error")
        return refused({}, [], err.status)
    flash(f"已提交, 待 {task['assignee']} 签署同意后办结", "success")
    return redirect(url_for("clerk.task", task_id=task_id))


@bp.post("/tasks/<task_id>/sign")
@role_required(Role.CLERK)
def sign(task_id: str) -> Any:
    form = request.form
    try:
        view = countersign.sign(
            services(), page_user(), task_id, form.get("decision"), form.get("opinion")
        )
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    if "tasks" in view:  # 后加签 agreed: the task is done
        flash("已签署同意, 任务已办结", "success")
    else:
        flash(f"已签署并交回 {view['assignee']}", "success")
    return redirect(url_for("clerk.worklist"))


@bp.post("/tasks/<task_id>/remove-signer")
@role_required(Role.CLERK)
def remove_signer(task_id: str) -> Any:
    try:
        countersign.remove_signer(services(), page_user(), task_id, request.form.get("reason"))
    except (Invalid, Conflict, Forbidden) as err:
        return _refused(task_id, err)
    flash("已减签, 任务回到您这里", "success")
    return redirect(url_for("clerk.task", task_id=task_id))
