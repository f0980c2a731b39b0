"""The designer's editor: one bundle edited in the browser as a set of files (the BPMN in a
bpmn-js Modeler, the forms, bundle.json) and saved as a NEW DRAFT version.

Pages: the editor on a copy of a version's files, and on the blank template (一窗受理 → 并联审批 →
统一发证) after a small form asks the new bundle's key and name. JSON (same session, CSRF token in
the X-CSRFToken header): the files to edit, the checks of a deploy storing nothing, and the save.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from engine import untrusted_json
from engine.bundles.template import check_key_and_name
from engine.domain.users import Role
from engine.errors import Invalid, ServiceError
from engine.services import catalogue, drafting

from ..auth import page_user, role_required
from ..inputs import VERSION
from ..state import services

bp = Blueprint("designer_editor", __name__, url_prefix="/designer")


# The other tabs' scripts, in this order, each once its owner has written it.
TAB_SCRIPTS = (
    "js/form_editor.js",
    "js/settings_editor.js",
    "js/test_run.js",
    "js/form_conditions.js",  # the form preview's conditional fields (issue 17 · D)
)


def _editor(key: str, name: str, base_version: int | None, files_url: str) -> Any:
    static = Path(current_app.static_folder or "")
    return render_template(
        "designer/editor.html",
        key=key,
        name=name,
        base_version=base_version,
        files_url=files_url,
        urls=_urls(key if base_version else None, base_version),
        tab_scripts=[s for s in TAB_SCRIPTS if (static / s).is_file()],
    )


def _urls(base_key: str | None, base_version: int | None) -> dict[str, str]:
    return {
        "save": url_for("designer_editor.save"),
        "validate": url_for("designer_editor.validate"),
        "bundles": url_for("designer.bundles"),
        "base": url_for("designer.version", key=base_key, version=base_version)
        if base_key and base_version
        else "",
    }


@bp.get(f"/bundles/<key>/<{VERSION}:version>/edit")
@role_required(Role.DESIGNER)
def edit(key: str, version: int) -> Any:
    """The editor on a copy of a version's files: saving makes a new draft, the version stays."""
    found = catalogue.bundle_detail(services(), page_user(), key, version)
    files_url = url_for("designer_editor.files", key=key, version=version)
    return _editor(key, found["name"], version, files_url)


@bp.route("/new", methods=["GET"])
@role_required(Role.DESIGNER)
def new() -> Any:
    """事项编码 and 事项名称, then the editor on the blank template's files."""
    key = (request.args.get("key") or "").strip()
    name = (request.args.get("name") or "").strip()
    if not request.args:
        return render_template("designer/new_bundle.html", key="", name="", errors=[])
    try:
        check_key_and_name(key, name)
    except Invalid as err:
        page = render_template("designer/new_bundle.html", key=key, name=name, errors=err.errors)
        return page, 422
    return _editor(key, name, None, url_for("designer_editor.blank_files", key=key, name=name))


@bp.get(f"/bundles/<key>/<{VERSION}:version>/files.json")
@role_required(Role.DESIGNER)
def files(key: str, version: int) -> Any:
    return _answer(lambda: drafting.version_files(services(), page_user(), key, version))


@bp.get("/templates/blank/files.json")
@role_required(Role.DESIGNER)
def blank_files() -> Any:
    key = request.args.get("key") or ""
    name = request.args.get("name") or ""
    return _answer(lambda: drafting.template_files(page_user(), key, name))


@bp.post("/drafts")
@role_required(Role.DESIGNER)
def save() -> Any:
    def saved() -> Any:
        body = _body()
        replace = isinstance(body, dict) and body.get("replace") is True
        done = drafting.save_draft(services(), page_user(), _files(body), replace)
        url = url_for("designer.version", key=done["key"], version=done["version"])
        body = {"key": done["key"], "version": done["version"], "url": url}
        return {**body, "name": done["name"], "warnings": done["warnings"]}

    return _answer(saved, 201)


@bp.post("/drafts/validate")
@role_required(Role.DESIGNER)
def validate() -> Any:
    return _answer(lambda: drafting.check_draft(services(), page_user(), _files(_body())))


def _problem(message: str) -> Invalid:
    return Invalid(message, [{"message": message, "element": None, "file": None, "line": None}])


def _body() -> Any:
    """The request's JSON (None without a body)."""
    raw = request.get_data(cache=True)
    try:
        return untrusted_json.loads(raw) if raw else None
    except untrusted_json.JsonRefused as err:
        raise _problem(f"请求内容不可接受: {err.message}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _problem("请求体必须是 UTF-8 编码的 JSON 对象") from None


def _files(body: Any) -> dict[str, str]:
    """The body's {"files": {path: text}}, every path and text a string."""
    found = body.get("files") if isinstance(body, dict) else None
    if not isinstance(found, dict) or not all(
        isinstance(p, str) and isinstance(t, str) for p, t in found.items()
    ):
        raise _problem('请求体必须是 {"files": {文件路径: 文件内容}}, 路径和内容都是文本')
    return found


def _answer(make: Any, status: int = 200) -> Any:
    """The use case's answer as JSON; a refusal as JSON too (the page's script shows it)."""
    try:
        body = make()
    except ServiceError as err:
        answer: dict[str, Any] = {"message": err.message, "errors": []}
        answer.update(err.details)
        answer["errors"] = [
            {"severity": "error", **e} for e in answer.get("errors") or [] if isinstance(e, dict)
        ]
        response = jsonify(answer)
        response.status_code = err.status
        return response
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response
