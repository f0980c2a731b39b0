"""The pages of the web app. For now a home page pointing at the API; the worklists, designer
and auditor pages build on it."""

from __future__ import annotations

from flask import Blueprint, render_template

pages = Blueprint("pages", __name__)


@pages.get("/")
def home() -> str:
    return render_template("home.html")
