"""A case's page: the diagram with what was done and what is open, the timeline, the clock, the
certificates issued; and, for signed-in staff, the printable certificate, its PDF and the
补正告知书 (the same content the bearer-token API routes give)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from engine.domain.users import Role
from engine.services import (
    case_pages,
    case_record,
    certificates,
    copies,
    intake,
    procedure_notice,
    verifications,
)

from ..api.certificates import view_of
from ..auth import page_user, role_required
from ..responses import STORED_POLICY, content_disposition
from ..state import services

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/<int:case_id>")
@role_required(Role.CLERK, Role.AUDITOR)
def case(case_id: int) -> Any:
    copies.record_reading(services(), page_user(), case_id)  # 抄送: the reader opened it (18 · 6)
    found = case_pages.case_page(services(), page_user(), case_id)
    record = case_record.labelled_data(services(), page_user(), case_id)
    user = page_user()  # auditors and admins see the stored verifications (issue 20)
    checks = (
        verifications.history(services(), user, case_id)
        if user.has_role(Role.AUDITOR, Role.ADMIN)
        else None
    )
    return render_template(
        "cases/case.html", page=found, case=found["case"], record=record, verifications=checks
    )


@bp.get("/<int:case_id>/attachments/<int:seq>/<field>")
@role_required(Role.CLERK, Role.AUDITOR)
def attachment(case_id: int, seq: int, field: str) -> Any:
    """A file stored in the case (the application's or a step's): downloaded, never rendered
    on our origin (images and PDF keep their type; anything else is bytes)."""
    kind, name, content = case_record.attachment(services(), page_user(), case_id, seq, field)
    response = Response(content, mimetype=kind)
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    response.headers["Content-Security-Policy"] = STORED_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/<number>")
@role_required(Role.CLERK, Role.AUDITOR)
def certificate_page(number: str) -> Any:
    """The certificate, printable (as GET /api/v1/certificates/<number>/print)."""
    from engine.certificates.rendering import render_html

    cert = certificates.certificate(services(), page_user(), number)
    return Response(render_html(view_of(cert)), mimetype="text/html")


@bp.get("/certificates/<number>.pdf")
@role_required(Role.CLERK, Role.AUDITOR)
def certificate_pdf(number: str) -> Any:
    """The certificate as PDF (as GET /api/v1/certificates/<number>/pdf)."""
    from engine.certificates.rendering import render_pdf

    cert = certificates.certificate(services(), page_user(), number)
    response = Response(render_pdf(view_of(cert)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition("inline", f"{cert.number}.pdf")
    return response


@bp.get("/<int:case_id>/correction-notice")
@role_required(Role.CLERK, Role.AUDITOR)
def correction_notice(case_id: int) -> Any:
    """The latest 补正告知书, printable (as the API's correction-notice/print)."""
    notice = intake.correction_notice(services(), page_user(), case_id)
    return Response(render_template("correction_notice.html", n=notice), mimetype="text/html")


@bp.get("/<int:case_id>/special-procedure-notice/<int:seq>")
@role_required(Role.CLERK, Role.AUDITOR)
def special_procedure_notice(case_id: int, seq: int) -> Any:
    """特别程序告知书 (Art. 45) of the clock's pause begun by event `seq`, printable."""
    n = procedure_notice.notice(services(), page_user(), case_id, seq)
    return Response(render_template("special_procedure_notice.html", n=n), mimetype="text/html")
