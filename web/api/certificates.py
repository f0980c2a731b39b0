"""Certificates (证照) for staff; the public verification behind each certificate's QR code;
renewal (无感续证); ratings (好差评)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, request

from engine.certificates.rendering import CertificateView, render_html, render_pdf
from engine.domain.certificates import Certificate
from engine.errors import ServiceError
from engine.services import cases, certificates, follow_ups, progress

from ..auth import client_address
from ..responses import content_disposition
from ..state import services
from ..urls import public_base_url
from . import api
from .common import current_user, json_body


def verify_url(number: str) -> str:
    """The certificate's public verification page, under the configured public address."""
    return f"{public_base_url()}/verify/{quote(number, safe='')}"


def view_of(cert: Certificate) -> CertificateView:
    today = services().today()
    return CertificateView(
        number=cert.number,
        kind=cert.kind,
        title=cert.title,
        holder=cert.holder,
        fields=tuple(cert.fields),
        issuer=cert.issuer,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        status=str(cert.status_on(today)),
        verify_url=verify_url(cert.number),
    )


@api.get("/certificates/<number>")
def certificate(number: str) -> Any:
    return certificates.certificate(services(), current_user(), number).to_dict(services().today())


@api.get("/certificates/<number>/print")
def certificate_page(number: str) -> Any:
    cert = certificates.certificate(services(), current_user(), number)
    return Response(render_html(view_of(cert)), mimetype="text/html")


@api.get("/certificates/<number>/pdf")
def certificate_pdf(number: str) -> Any:
    cert = certificates.certificate(services(), current_user(), number)
    response = Response(render_pdf(view_of(cert)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition("inline", f"{cert.number}.pdf")
    return response


@api.post("/certificates/<number>/renew")
def renew_certificate(number: str) -> Any:
    return cases.renew(services(), current_user(), number), 201


@api.get("/public/certificates/<number>")
def verify_certificate(number: str) -> Any:
    """No sign-in: what anyone scanning the QR code may see."""
    return certificates.verify(services(), number)


@api.post("/cases/<int:case_id>/rating")
def rate_at_window(case_id: int) -> Any:
    body = json_body()
    return follow_ups.rate(
        services(), case_id, body.get("level"), body.get("comment"), user=current_user()
    ), 201


# The applicant's routes, no sign-in: the receipt code comes in the JSON body (`code`) or the
# X-Access-Code header, never in the address (which lands in access logs); failed codes are
# throttled per case and per address (429 with Retry-After).

CODE_HEADER = "X-Access-Code"


def _access_code(body: dict[str, Any] | None = None) -> object:
    if "code" in request.args:
        raise ServiceError(
            "查询码不能放在网址中 (网址会被记入访问日志)",
            errors=[
                {
                    "message": f"请放在请求头 {CODE_HEADER} 中, 或用 POST 提交 JSON 请求体的 code 字段",
                    "field": "code",
                }
            ],
        )
    given = (body or {}).get("code")
    return given if given is not None else request.headers.get(CODE_HEADER)


@api.post("/public/cases/<int:case_id>/rating")
def rate_online(case_id: int) -> Any:
    """No sign-in: the applicant rates with the code printed on the receipt."""
    body = json_body()
    code = _access_code(body)
    follow_ups.verify_access(services(), case_id, code, client_address())
    return follow_ups.rate(
        services(), case_id, body.get("level"), body.get("comment"), code=code
    ), 201


@api.get("/public/cases/<int:case_id>")
def case_progress(case_id: int) -> Any:
    """No sign-in: the applicant follows the case, the code in the X-Access-Code header."""
    code = _access_code()
    return progress.public_progress(services(), case_id, code, client_address())


@api.post("/public/cases/<int:case_id>")
def case_progress_posted(case_id: int) -> Any:
    """No sign-in: the applicant follows the case, the code in the JSON body."""
    code = _access_code(json_body())
    return progress.public_progress(services(), case_id, code, client_address())
