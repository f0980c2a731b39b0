"""Designer pages: the bundle list with versions, uploads, a version's page, two versions compared."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from engine.bpmn.xml import XmlProblem, parse_xml
from engine.bundles.diff import read_elements, type_name
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource, from_upload
from engine.domain.users import Role
from engine.errors import Conflict, Invalid
from engine.services import catalogue, publishing

from ..auth import page_user, role_required
from ..inputs import MAX_VERSION, VERSION, parse_id
from ..responses import stored_file
from ..state import services

bp = Blueprint("designer", __name__, url_prefix="/designer")

# At most this many diagrams of a refused upload are shown (a bundle usually has one).
MAX_UPLOAD_DIAGRAMS = 5


@bp.get("/bundles")
@role_required(Role.DESIGNER)
def bundles() -> Any:
    found = catalogue.list_versions(services(), page_user())
    return render_template("designer/bundles.html", bundles=found)


@bp.route("/upload", methods=["GET", "POST"])
@role_required(Role.DESIGNER)
def upload() -> Any:
    """Upload a .bpmn/.xml/.zip as the API does; a refused upload is shown with its problems
    placed on the uploaded diagram itself (nothing of it is stored)."""
    if request.method == "GET":
        return render_template("designer/upload.html", refused=None)
    user = page_user()
    publishing.require_designer(user)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        problem = {"message": "请选择要上传的 .bpmn、.xml 或 .zip 文件", "element": None}
        return _refused("", None, [problem])
    name = upload_file.filename
    source: BundleSource | None = None
    replace = request.form.get("replace") == "true"
    try:
        source = from_upload(name, upload_file.read())
        deployed = publishing.deploy(services(), source, user, replace=replace)
    except BundleInvalid as err:
        return _refused(name, source, [p.to_dict() for p in err.problems])
    except Invalid as err:
        return _refused(name, source, err.errors)
    except Conflict as err:  # it would drop what the latest version has: ask to confirm
        confirm = {"name": name, "message": err.message, "problems": err.details["errors"]}
        return render_template("designer/upload.html", refused=None, confirm=confirm), 409
    key, number = deployed["key"], deployed["version"]
    flash(f"已部署「{deployed['name']}」第 {number} 版", "success")
    if number > 1:
        previous = catalogue.bundle_detail(services(), user, key, number - 1)
        if previous["checksum"] == deployed["checksum"]:
            flash(f"注意: 本次上传与第 {number - 1} 版内容完全相同", "warning")
    return redirect(url_for("designer.version", key=key, version=number))


def _refused(name: str, source: BundleSource | None, problems: list[dict[str, Any]]) -> Any:
    """The upload page again, status 422: every problem, and each uploaded diagram with the
    elements in error marked."""
    diagrams = []
    elements: dict[str, dict[str, tuple[str, str]]] = {}  # file -> id -> (type, name)
    if source is not None:
        bpmn = source.by_suffix(".bpmn", ".bpmn20.xml")
        for index, (path, data) in enumerate(bpmn.items()):
            try:
                ids = {
                    str(node.get("id"))
                    for node in parse_xml(data).getroot().iter()
                    if isinstance(node.tag, str) and node.get("id")
                }
                found = read_elements(data)
            except XmlProblem:
                continue  # not even well-formed: its problems are listed without a diagram
            elements[path] = {i: (type_name(e.type), e.name) for i, e in found.items()}
            if len(diagrams) >= MAX_UPLOAD_DIAGRAMS:
                continue
            errors = sorted(
                {
                    str(p["element"])
                    for p in problems
                    if p.get("element") in ids and p.get("file") in (None, path)
                }
            )
            diagrams.append(
                {
                    "id": f"upload-diagram-{index + 1}",
                    "path": path,
                    "xml": data.decode("utf-8", errors="replace"),
                    "ids": ids,
                    "errors": errors,
                }
            )
    shown = []
    for problem in problems:
        element = problem.get("element")
        where = problem.get("file")
        kind, label = "", ""
        for path, known in elements.items():
            if element and element in known and where in (None, path):
                kind, label = known[element]
                where = where or path
                break
        diagram = next(
            (d["id"] for d in diagrams if element in d["ids"] and where in (None, d["path"])),
            None,
        )
        shown.append({**problem, "type": kind, "name": label, "diagram": diagram, "file": where})
    refused = {"name": name, "problems": shown, "diagrams": diagrams}
    return render_template("designer/upload.html", refused=refused), 422


def _version_number(value: str | None, default: int) -> int:
    if not value:
        return default
    number = parse_id(value, MAX_VERSION)  # digits within 32 bits, or no such version
    if number is None:
        abort(404)
    return number


@bp.get(f"/bundles/<key>/<{VERSION}:version>")
@role_required(Role.DESIGNER)
def version(key: str, version: int) -> Any:
    found = catalogue.version_overview(services(), page_user(), key, version)
    return render_template("designer/version.html", v=found)


@bp.get("/bundles/<key>/compare")
@role_required(Role.DESIGNER)
def compare(key: str) -> Any:
    user = page_user()
    latest = catalogue.bundle_detail(services(), user, key)["version"]
    b = _version_number(request.args.get("b"), latest)
    a = _version_number(request.args.get("a"), max(b - 1, 1))
    found = catalogue.compare_versions(services(), user, key, a, b)
    return render_template("designer/compare.html", c=found)


@bp.get(f"/bundles/<key>/<{VERSION}:version>/diagram.bpmn")
@role_required(Role.DESIGNER, Role.CLERK, Role.AUDITOR)
def diagram_xml(key: str, version: int) -> Response:
    """A version's BPMN, for the diagram viewer on designer, case and auditor pages."""
    xml = catalogue.diagram_xml(services(), key, version)
    return stored_file(xml, f"{key}-v{version}.bpmn", "private, max-age=3600")
