"""Public pages, no sign-in: certificate verification (what a certificate's QR code opens), the
bundles' 办事指南 and the applicant's progress lookup."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine.errors import NotFound
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
