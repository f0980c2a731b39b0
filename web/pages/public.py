"""Public pages, no sign-in: certificate verification (what a certificate's QR code opens), the
bundles' 办事指南 and the applicant's progress lookup."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from engine.certificates.rendering import qr_svg
from engine.errors import NotFound
from engine.services import bundles as bundle_service
from engine.services import certificates

from .common import services

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
    return render_template("public/guides.html", guides=bundle_service.public_guides(services()))


@bp.get("/guide/<key>")
def guide(key: str) -> Any:
    found = bundle_service.public_guide(services(), key)
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    address = base.rstrip("/") + url_for("public.guide", key=key)
    return render_template("public/guide.html", g=found, address=address, qr=qr_svg(address))


@bp.get("/guide/<key>/diagram.bpmn")
def guide_diagram(key: str) -> Response:
    """The latest version's BPMN for the guide's flow chart (no sign-in: the guide is public)."""
    xml = bundle_service.public_diagram_xml(services(), key)
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "max-age=300"})


# 办件进度查询: the applicant follows a case with its number and the code on the receipt ----------


@bp.route("/progress", methods=["GET", "POST"])
def progress() -> Any:
    """POST (with the CSRF token), so the code stays out of addresses and logs. A wrong code and
    an unknown case number get the same answer: nobody learns which case numbers exist."""
    from engine.errors import Forbidden
    from engine.services import case_pages, follow_ups

    if request.method == "GET":
        return render_template("public/progress.html", number="", error=None, found=None)
    number = request.form.get("number", "").strip().lstrip("#")
    code = request.form.get("code", "").strip()
    if not number or not code:
        error = "请填写办件编号和查询码"
        return render_template("public/progress.html", number=number, error=error, found=None), 422
    try:
        if not number.isdigit() or len(number) > 18:
            raise Forbidden("办件编号或查询码不正确")
        found = follow_ups.public_progress(services(), int(number), code)
    except Forbidden as err:
        page = render_template("public/progress.html", number=number, error=err.message, found=None)
        return page, 403
    found["received_at"] = case_pages.local_time(services(), found["received_at"])
    response = Response(
        render_template(
            "public/progress.html",
            number=number,
            error=None,
            found=found,
            status_labels=case_pages.STATUS_LABELS,
            clock_labels=case_pages.CLOCK_LABELS,
        ),
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
