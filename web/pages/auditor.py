"""Auditor pages: case search, a case's history with the step slider, replay verification, export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine.domain.users import Role

from ..auth import role_required

bp = Blueprint("auditor", __name__, url_prefix="/audit")


@bp.get("/")
@role_required(Role.AUDITOR)
def search() -> Any:
    return render_template("auditor/search.html")
