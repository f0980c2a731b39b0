"""What the designer's editor's properties panel asks the server (JSON, designers only, the
session's CSRF token in the X-CSRFToken header of each POST):

- GET  /designer/panel/groups  -> [{"name", "members"}]: the groups that exist, with members;
- POST /designer/panel/fields  {"files": {path: text}, "element": id}
       -> {"fields": [{"name", "title", "type", "form"}], "complete", "reached"}: what a
       condition at that element of the draft may read;
- POST /designer/panel/check   {"expression", "fields": [name] | null}
       -> {"ok", "error": {"message", "offset", "hint"} | null, "unknown": [{"name", "suggestion"}]}.

A refused request is a 422 {"message", "errors": [{"field", "message"}]}."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from engine.domain.users import Role
from engine.errors import ServiceError
from engine.services import authoring

from ..api.common import json_body
from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("designer_panel", __name__, url_prefix="/designer/panel")


def _refused(err: ServiceError) -> Any:
    body: dict[str, Any] = {"message": err.message, "errors": err.details.get("errors", [])}
    response = jsonify(body)
    response.status_code = err.status
    return response


@bp.get("/groups")
@role_required(Role.DESIGNER)
def groups() -> Any:
    try:
        return jsonify(authoring.groups(services(), page_user()))
    except ServiceError as err:
        return _refused(err)


@bp.post("/fields")
@role_required(Role.DESIGNER)
def fields() -> Any:
    try:
        body = json_body()
        found = authoring.fields(services(), page_user(), body.get("files"), body.get("element"))
    except ServiceError as err:
        return _refused(err)
    return jsonify(found)


@bp.post("/check")
@role_required(Role.DESIGNER)
def check() -> Any:
    try:
        body = json_body()
        return jsonify(authoring.check(body.get("expression"), body.get("fields")))
    except ServiceError as err:
        return _refused(err)
