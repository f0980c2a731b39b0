"""Public pages, no sign-in: certificate verification (what a certificate's QR code opens), the
bundles' 办事指南 and the applicant's progress lookup."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from engine.certificates.rendering import qr_svg
from engine.domain.throttle import TooManyAttempts
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import case_pages, catalogue, certificates, follow_ups, tlog
from engine.services import progress as case_progress

from ..auth import client_address
from ..responses import content_disposition, stored_file
from ..state import services
from ..urls import public_base_url

bp = Blueprint("public", __name__)


@bp.get("/verify/<number>")
def verify(number: str) -> Any:
    try:
        found = certificates.verify(services(), number)
    except NotFound:
        return render_template("verify.html", number=number, cert=None), 404
    return render_template("verify.html", number=number, cert=found), 200


# 办事指南 (the designer pages' public side): a bundle's latest version for applicants ----------


@bp.get("/guide")
def guides() -> Any:
    return render_template(
        "public/guides.html",
        guides=catalogue.public_guides(services()),
        log_key=tlog.public_key_or_none(),  # issue 20: 日志公钥, when LIANBAN_LOG_KEY is set
    )


@bp.get("/guide/<key>")
def guide(key: str) -> Any:
    found = catalogue.public_guide(services(), key)
    address = public_base_url() + url_for("public.guide", key=key)
    return render_template("public/guide.html", g=found, address=address, qr=qr_svg(address))


@bp.get("/guide/<key>/diagram.bpmn")
def guide_diagram(key: str) -> Response:
    """The latest version's BPMN for the guide's flow chart (no sign-in: the guide is public)."""
    xml = catalogue.public_diagram_xml(services(), key)
    return stored_file(xml, f"{key}.bpmn", "max-age=300")


@bp.get("/guide/<key>/files/<path:path>")
def guide_file(key: str, path: str) -> Response:
    """A material's sample (样表) or blank form (空白表格) as the published version holds it, as a
    download: only files the guide's materials name, of the types a bundle may carry."""
    content, kind, name = catalogue.public_guide_file(services(), key, path)
    response = Response(content, mimetype=kind)
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "max-age=300"
    return response


# 办件进度查询: the applicant follows a case with its number and the code on the receipt ----------


@bp.route("/progress", methods=["GET", "POST"])
def progress() -> Any:
    """POST (with the CSRF token), so the code stays out of addresses and logs. A wrong code and
    an unknown case number get the same answer: nobody learns which case numbers exist. Failed
    codes are throttled per case and per address (429 with Retry-After)."""
    if request.method == "GET":
        return render_template("public/progress.html", number="", error=None, found=None)
    number = request.form.get("number", "").strip().lstrip("#")
    code = request.form.get("code", "").strip()

    def refused(message: str, status: int, headers: dict[str, str] | None = None) -> Any:
        page = render_template("public/progress.html", number=number, error=message, found=None)
        return page, status, headers or {}

    if not number or not code:
        return refused("请填写办件编号和查询码", 422)
    try:
        if not (number.isascii() and number.isdigit()) or len(number) > 18:  # not "¹", "١"
            raise Forbidden(follow_ups.WRONG_CODE)
        found = case_progress.public_progress(services(), int(number), code, client_address())
    except TooManyAttempts as err:
        return refused(err.message, 429, {"Retry-After": str(err.retry_after)})
    except Invalid as err:
        return refused(f"{err.message}: {follow_ups.CODE_SHAPE}", 422)
    except Forbidden as err:
        return refused(err.message, 403)
    _grant(found["id"])
    return _progress_page(number, found)


# The case whose code the applicant gave is theirs to follow (and rate) for a while in this browser,
# without the code again: the signed session holds the case number and until when, never the code.
PROGRESS_GRANT = "progress_case"
GRANT_SECONDS = 30 * 60


def _grant(case_id: int) -> None:
    session[PROGRESS_GRANT] = {"case": case_id, "until": int(time.time()) + GRANT_SECONDS}


def _granted(case_id: int) -> bool:
    grant = session.get(PROGRESS_GRANT)
    return (
        isinstance(grant, dict)
        and grant.get("case") == case_id
        and isinstance(grant.get("until"), int)
        and grant["until"] > time.time()
    )


def _progress_page(number: str, found: dict[str, Any], status: int = 200) -> Any:
    svc = services()
    found["received_at"] = case_pages.local_time(svc, found["received_at"])
    for step in found["timeline"]:
        step["at"] = case_pages.local_time(svc, step["at"])
    response = Response(
        render_template("public/progress.html", number=number, error=None, found=found),
        status=status,
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/progress/<int:case_id>")
def progress_case(case_id: int) -> Any:
    """The case just looked up (after a rating, the page it redirects to); without the session's
    grant, back to the lookup form."""
    if not _granted(case_id):
        flash("请输入办件编号和查询码查询", "error")
        return redirect(url_for("public.progress"))
    return _progress_page(str(case_id), case_progress.progress_view(services(), case_id))


@bp.post("/progress/<int:case_id>/rating")
def rate(case_id: int) -> Any:
    """好差评 by the applicant on the progress page, once the case has ended: once online, a 不满意
    or worse opens the 整改 (engine.services.follow_ups.rate)."""
    if not _granted(case_id):
        flash("查询已过期, 请重新输入办件编号和查询码", "error")
        return redirect(url_for("public.progress"))
    svc = services()
    try:
        follow_ups.rate(
            svc,
            case_id,
            follow_ups.posted_level(request.form.get("level")),
            request.form.get("comment", "").strip() or None,
            code_checked=True,
        )
    except (Invalid, Conflict) as err:
        found = case_progress.progress_view(svc, case_id)
        details = "; ".join(str(e.get("message")) for e in getattr(err, "errors", []) or [])
        found["rating_error"] = f"{err.message}: {details}" if details else err.message
        found["rating_values"] = {
            "level": request.form.get("level", ""),
            "comment": request.form.get("comment", ""),
        }
        return _progress_page(str(case_id), found, err.status)
    flash("感谢您的评价, 评价已提交", "success")
    return redirect(url_for("public.progress_case", case_id=case_id))
