"""Clerk pages: the worklist of the clerk's groups, a task's page, starting a case at the desk."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from engine.domain.users import Role

from ..auth import page_user, role_required
from .common import services

bp = Blueprint("clerk", __name__, url_prefix="/work")


@bp.get("/")
@role_required(Role.CLERK)
def worklist() -> Any:
    found = services().worklist(page_user())
    return render_template("clerk/worklist.html", page=found)
