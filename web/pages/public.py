"""Public pages, no sign-in: certificate verification (what a certificate's QR code opens), the
bundles' 办事指南 and the applicant's progress lookup."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from engine.certificates.rendering import qr_svg
from engine.domain.throttle import TooManyAttempts
from engine.errors import Forbidden, Invalid, NotFound
from engine.services import case_pages, catalogue, certificates, follow_ups

from ..auth import client_address
from ..responses import stored_file
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
    return render_template("public/guides.html", guides=catalogue.public_guides(services()))


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
        found = follow_ups.public_progress(services(), int(number), code, client_address())
    except TooManyAttempts as err:
        return refused(err.message, 429, {"Retry-After": str(err.retry_after)})
    except Invalid as err:
        return refused(f"{err.message}: {follow_ups.CODE_SHAPE}", 422)
    except Forbidden as err:
        return refused(err.message, 403)
    found["received_at"] = case_pages.local_time(services(), found["received_at"])
    response = Response(
        render_template(
            "public/progress.html",
            number=number,
            error=None,
            found=found,
        ),
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
