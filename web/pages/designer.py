"""Designer pages: the bundle list with versions, uploads, a version's page, two versions compared."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from engine.domain.users import Role
from engine.services.bundles import diagram_xml as version_diagram

from ..auth import page_user, role_required
from .common import services

bp = Blueprint("designer", __name__, url_prefix="/designer")


@bp.get("/bundles")
@role_required(Role.DESIGNER)
def bundles() -> Any:
    found = services().list_bundles(page_user())
    return render_template("designer/bundles.html", bundles=found)


@bp.get("/bundles/<key>/<int:version>/diagram.bpmn")
@role_required(Role.DESIGNER, Role.CLERK, Role.AUDITOR)
def diagram_xml(key: str, version: int) -> Response:
    """A version's BPMN, for the diagram viewer on designer, case and auditor pages."""
    xml = version_diagram(services(), key, version)
    return Response(
        xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"}
    )
