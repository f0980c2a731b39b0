"""消息中心 (issue 17 · G): the staff's messages, newest first, unread marked; opening one marks it
read and goes to its task (still open) or its case; mark all read. 催办 from the case page. The
unread count for the top bar comes from a context processor: one indexed COUNT, only on pages
that show it, at most once a request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import messages

from ..auth import page_user, role_required, signed_in
from ..state import services

bp = Blueprint("messages", __name__, url_prefix="/messages")

STAFF = (Role.CLERK, Role.DESIGNER, Role.AUDITOR)  # and administrators (role_required)


def _unread_messages() -> int:
    """The signed-in user's unread messages (0 for nobody), counted once per request."""
    if "unread_messages" not in g:
        user = signed_in()
        g.unread_messages = messages.unread_badge(services(), user) if user else 0
    return int(g.unread_messages)


def _may_urge(case_id: int) -> bool:
    user = signed_in()
    return user is not None and messages.may_urge_case(services(), user, case_id)


def _task_urges(task_id: str) -> list[dict[str, str]]:
    user = signed_in()
    return messages.task_urges(services(), user, task_id) if user else []


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "unread_messages": _unread_messages,
        "may_urge_case": _may_urge,
        "task_urges": _task_urges,
        "message_kinds": {k.value: k.label for k in messages.MessageKind},
    }


def _local(at: datetime | None) -> str:
    return at.astimezone(services().tz).strftime("%Y-%m-%d %H:%M") if at else ""


@bp.get("/")
@role_required(*STAFF)
def inbox() -> Any:
    unread_only = request.args.get("unread") == "1"
    user = page_user()
    found = messages.inbox(services(), user, unread_only=unread_only)
    return render_template(
        "messages/inbox.html",
        messages=found,
        unread_only=unread_only,
        local=_local,
        count=messages.unread_count(services(), user),
    )


@bp.post("/<int:message_id>/open")
@role_required(*STAFF)
def open_message(message_id: int) -> Any:
    # another user's message, or none: 404 (the error page), like any id that is not there
    message, task_open = messages.open_message(services(), page_user(), message_id)
    if message.task_id and task_open and page_user().has_role(Role.CLERK, Role.ADMIN):
        return redirect(url_for("clerk.task", task_id=message.task_id))
    if message.case_id is not None and page_user().has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        return redirect(url_for("cases.case", case_id=message.case_id))
    return redirect(url_for("messages.inbox"))


@bp.post("/<int:message_id>/read")
@role_required(*STAFF)
def mark_read(message_id: int) -> Any:
    messages.mark_read(services(), page_user(), message_id)
    return redirect(url_for("messages.inbox", **_keep_filter()))


@bp.post("/read-all")
@role_required(*STAFF)
def mark_all_read() -> Any:
    changed = messages.mark_read(services(), page_user())
    flash(f"已将 {changed} 条消息标为已读" if changed else "没有未读消息", "success")
    return redirect(url_for("messages.inbox"))


def _keep_filter() -> dict[str, str]:
    return {"unread": "1"} if request.form.get("unread") == "1" else {}


@bp.post("/urge")
@role_required(Role.CLERK)
def urge() -> Any:
    """催办 from the case page: the task, a message; back to the case with the outcome."""
    task_id = request.form.get("task_id", "")
    case_id = request.form.get("case_id", "")
    back = (
        url_for("cases.case", case_id=int(case_id))
        if case_id.isdigit()
        else url_for("messages.inbox")
    )
    try:
        done = messages.urge(services(), page_user(), task_id, request.form.get("message", ""))
    except (Conflict, Forbidden, Invalid, NotFound) as err:
        flash(f"催办未成功: {err.message}", "error")
        return redirect(back)
    holders = "、".join(h.removeprefix("group:") for h in done["to"]) or "办理人"
    flash(f"已催办, 已通知 {holders}", "success")
    return redirect(back)
