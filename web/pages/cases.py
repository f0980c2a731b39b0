"""A case's page: the diagram with what was done and what is open, the timeline, the clock, the
certificates issued."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine.domain.users import Role

from ..auth import page_user, role_required
from .common import services

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/<int:case_id>")
@role_required(Role.CLERK, Role.AUDITOR)
def case(case_id: int) -> Any:
    found = services().get_case(page_user(), case_id)
    return render_template("cases/case.html", case=found)
