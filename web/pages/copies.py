"""抄送我的 and the 抄送 / 评论 forms of the case and task pages (issue 18 · 6 and 9), on the
clerk blueprint (/work/...).

- GET /work/copies: the cases copied to me, unread first; each opens the case page, which
  records the reading (web/pages/cases.py calls `copies.record_reading`).
- POST /work/cases/ID/copies: 抄送 from the case or task page (templates/cases/_copy.html).
- POST /work/cases/ID/comments: 评论 with attachments (templates/cases/_comment.html); the files
  are kept as the forms keep theirs (data URLs, web/forms_render.py).

The navigation's 抄送我的 badge and the partials' data come from a context processor, each
read at most once a request, only on pages that show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Forbidden, Invalid
from engine.services import comments, copies

from ..auth import page_user, role_required, safe_next, signed_in
from ..forms_render import AttachmentTooLarge, _data_url
from ..state import services
from .clerk import bp


def _cached(key: str, make: Any) -> Any:
    store = g.setdefault("copies_cache", {})
    if key not in store:
        store[key] = make()
    return store[key]


def _unread_copies() -> int:
    user = signed_in()
    if user is None or not user.has_role(Role.CLERK, Role.ADMIN):
        return 0
    return int(_cached("unread", lambda: copies.unread_badge(services(), user)))


def _may_copy(case_id: int) -> bool:
    user = signed_in()
    if user is None:
        return False
    return bool(_cached(f"may:{case_id}", lambda: copies.may_copy(services(), user, case_id)))


def _may_comment() -> bool:
    user = signed_in()
    return user is not None and user.has_role(Role.CLERK, Role.ADMIN)


def _copy_choices() -> dict[str, Any]:
    return dict(_cached("choices", lambda: copies.choices(services())))


def _case_comments(case_id: int) -> dict[int, dict[str, Any]]:
    """{seq: comment} of the case, for the timeline's attachment links and the task page."""
    user = signed_in()
    if user is None:
        return {}

    def read() -> dict[int, dict[str, Any]]:
        return {c["seq"]: c for c in comments.comments(services(), user, case_id)}

    return dict(_cached(f"comments:{case_id}", read))


def _case_copy_list(case_id: int) -> list[dict[str, Any]]:
    user = signed_in()
    if user is None:
        return []
    return list(_cached(f"copies:{case_id}", lambda: copies.case_copies(services(), user, case_id)))


@bp.app_template_filter("file_size")
def file_size(size: int) -> str:
    """A file's size as the clerk reads it: 312 字节, 18.4 KB, 1.2 MB."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "unread_copies": _unread_copies,
        "may_copy_case": _may_copy,
        "may_comment": _may_comment,
        "copy_choices": _copy_choices,
        "case_comments": _case_comments,
        "case_copy_list": _case_copy_list,
        "comment_max_files": comments.MAX_FILES,
        "comment_max_chars": comments.TEXT_MAX_CHARS,
        "comment_max_mb": lambda: services().limits.attachment_bytes / 1024 / 1024,
    }


def _local(at: datetime | None) -> str:
    return at.astimezone(services().tz).strftime("%Y-%m-%d %H:%M") if at else ""


@bp.get("/copies")
@role_required(Role.CLERK)
def copies_page() -> Any:
    user = page_user()
    unread_only = request.args.get("unread") == "1"
    found = copies.my_copies(services(), user, unread_only=unread_only)
    return render_template(
        "clerk/copies.html",
        copies=found,
        unread_only=unread_only,
        count=copies.unread_count(services(), user),
        local=_local,
        people=_people({c.copied_by for c in found}),
    )


def _people(names: set[str]) -> dict[str, str]:
    from engine.services import documents

    return documents.staff_signatures(services(), names) if names else {}


def _back(case_id: int) -> str:
    return safe_next(request.form.get("next")) or url_for("cases.case", case_id=case_id)


def _refused(case_id: int, message: str, status: int) -> Any:
    """A refused 抄送 or 评论: the case's page again with why, and the 4xx status (a case that
    does not exist is the 404 page: NotFound is not caught)."""
    from .cases import case as case_page

    flash(message, "error")
    return case_page(case_id), status


@bp.post("/cases/<int:case_id>/copies")
@role_required(Role.CLERK)
def copy_case(case_id: int) -> Any:
    back = _back(case_id)
    try:
        made = copies.copy_case(
            services(), page_user(), case_id, request.form.getlist("to"), request.form.get("note")
        )
    except (Conflict, Forbidden, Invalid) as err:
        return _refused(case_id, f"抄送未成功: {err.message}", err.status)
    flash(f"已抄送 {len(made['readers'])} 人: {'、'.join(made['readers'])}", "success")
    return redirect(back)


@bp.post("/cases/<int:case_id>/comments")
@role_required(Role.CLERK)
def comment(case_id: int) -> Any:
    back = _back(case_id)
    limit = services().limits.attachment_bytes
    try:
        files = [
            _data_url(upload, "attachments", limit)
            for upload in request.files.getlist("attachments")
            if upload and upload.filename
        ]
        comments.comment(services(), page_user(), case_id, request.form.get("text"), files)
    except AttachmentTooLarge as err:
        return _refused(case_id, f"评论未发表: {err.message}", 413)
    except (Conflict, Forbidden, Invalid) as err:
        return _refused(case_id, f"评论未发表: {err.message}", err.status)
    flash("评论已发表", "success")
    return redirect(back + "#comments" if "#" not in back else back)
