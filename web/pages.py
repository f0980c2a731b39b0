"""The pages of the web app. For now a home page pointing at the API; the worklists, designer
and auditor pages build on it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from engine.errors import NotFound
from engine.services import Services, certificates

pages = Blueprint("pages", __name__)


@pages.get("/")
def home() -> str:
    return render_template("home.html")


@pages.get("/verify/<number>")
def verify(number: str) -> tuple[str, int]:
    """The page a certificate's QR code opens: no sign-in, only what a verifier needs."""
    svc: Services = current_app.extensions["lianban"]
    try:
        found = certificates.verify(svc, number)
    except NotFound:
        return render_template("verify.html", number=number, cert=None), 404
    return render_template("verify.html", number=number, cert=found), 200
