"""Designer pages: the bundle list with versions, uploads (a draft or published), a version's
page with its lifecycle (publish, discard; retire and restore for admins), two versions compared."""

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
from ..responses import content_disposition, stored_file
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
    publish = request.form.get("mode") == "publish"  # the page's default: a draft
    try:
        source = from_upload(name, upload_file.read())
        deployed = publishing.deploy(services(), source, user, replace=replace, publish=publish)
    except BundleInvalid as err:
        return _refused(name, source, [p.to_dict() for p in err.problems])
    except Invalid as err:
        return _refused(name, source, err.errors)
    except Conflict as err:  # it would drop what the latest version has: ask to confirm
        confirm = {"name": name, "message": err.message, "problems": err.details["errors"]}
        page = render_template(
            "designer/upload.html", refused=None, confirm=confirm, publish=publish
        )
        return page, 409
    key, number = deployed["key"], deployed["version"]
    if publish:
        flash(f"已发布「{deployed['name']}」第 {number} 版: 新办件将按此版本办理", "success")
    else:
        flash(
            f"已将「{deployed['name']}」第 {number} 版保存为草稿: "
            "发布前不会出现在办事指南和收件列表中",
            "success",
        )
    _flash_warnings(deployed.get("warnings", []))
    if number > 1:
        previous = catalogue.bundle_detail(services(), user, key, number - 1)
        if previous["checksum"] == deployed["checksum"]:
            flash(f"注意: 本次上传与第 {number - 1} 版内容完全相同", "warning")
    return redirect(url_for("designer.version", key=key, version=number))


# Warnings travel to the version page in the session cookie: only the first few.
MAX_FLASHED_WARNINGS = 5


def _flash_warnings(warnings: list[dict[str, Any]]) -> None:
    """The upload's warnings (stored anyway) as flash messages on the page it redirects to."""
    for w in warnings[:MAX_FLASHED_WARNINGS]:
        where = f" (元素 {w['element']})" if w.get("element") else ""
        flash(f"检查提醒: {w['message']}{where}", "warning")
    if len(warnings) > MAX_FLASHED_WARNINGS:
        more = len(warnings) - MAX_FLASHED_WARNINGS
        flash(
            f"另有 {more} 条检查提醒: 上传前可用 校验 (POST /api/v1/bundles/validate) 查看全部",
            "warning",
        )


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
    user = page_user()
    found = catalogue.version_overview(services(), user, key, version)
    checks = publishing.version_checks(services(), user, key, version)
    can_retire = user.has_role(Role.ADMIN)
    libraries = publishing.library_uses(services(), key, version)
    return render_template(
        "designer/version.html", v=found, checks=checks, can_retire=can_retire, libraries=libraries
    )


@bp.post(f"/bundles/<key>/<{VERSION}:version>/publish")
@role_required(Role.DESIGNER)
def publish(key: str, version: int) -> Any:
    if not _confirmed():
        return redirect(url_for("designer.version", key=key, version=version))
    try:
        done = publishing.publish(services(), page_user(), key, version)
    except Conflict as err:
        flash(err.message, "error")
        return redirect(url_for("designer.version", key=key, version=version))
    message = f"已发布第 {version} 版: 新办件将按此版本办理"
    if done["superseded_version"] is not None:
        message += f"; 第 {done['superseded_version']} 版上的办件继续按原版本办理"
    if done["retired"]:
        message += "。注意: 事项包仍处于停用状态, 恢复后才能新建办件"
    flash(message, "success")
    return redirect(url_for("designer.version", key=key, version=version))


@bp.post(f"/bundles/<key>/<{VERSION}:version>/discard")
@role_required(Role.DESIGNER)
def discard(key: str, version: int) -> Any:
    if not _confirmed():
        return redirect(url_for("designer.version", key=key, version=version))
    try:
        publishing.discard(services(), page_user(), key, version)
    except Conflict as err:
        flash(err.message, "error")
    else:
        flash(f"已放弃第 {version} 版草稿: 它不会被发布, 仍保留供查阅", "success")
    return redirect(url_for("designer.version", key=key, version=version))


@bp.post("/bundles/<key>/retire")
@role_required(Role.ADMIN)
def retire(key: str) -> Any:
    return _bundle_change(
        key, publishing.retire, "已停用事项包: 不再受理新办件, 进行中的办件照常办理"
    )


@bp.post("/bundles/<key>/restore")
@role_required(Role.ADMIN)
def restore(key: str) -> Any:
    return _bundle_change(key, publishing.restore, "已恢复事项包: 可以重新受理新办件")


def _confirmed() -> bool:
    """The lifecycle forms carry a required 确认 box; a POST without it changes nothing."""
    if request.form.get("confirm") == "yes":
        return True
    flash("请勾选确认后再提交", "warning")
    return False


def _bundle_change(key: str, change: Any, message: str) -> Any:
    back = request.form.get("version") or ""
    number = parse_id(back, MAX_VERSION) if back else None
    if not _confirmed():
        return _back_to(key, number)
    try:
        change(services(), page_user(), key)
    except Conflict as err:
        flash(err.message, "error")
    else:
        flash(message, "success")
    return _back_to(key, number)


def _back_to(key: str, version: int | None) -> Any:
    if version is None:
        return redirect(url_for("designer.bundles", _anchor=f"bundle-{key}"))
    return redirect(url_for("designer.version", key=key, version=version))


@bp.get(f"/bundles/<key>/<{VERSION}:version>/bundle.zip")
@role_required(Role.DESIGNER, Role.AUDITOR)
def bundle_zip(key: str, version: int) -> Response:
    """A version as the .zip of its files (下载), as the API gives it."""
    data = catalogue.bundle_zip(services(), page_user(), key, version)
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"{key}-v{version}.zip"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/bundles/<key>/compare")
@role_required(Role.DESIGNER)
def compare(key: str) -> Any:
    user = page_user()
    latest = catalogue.bundle_detail(services(), user, key)["latest_version"]
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
