"""The designer's editor: a version's files (or the blank template's) to edit in the browser, and
the edited files checked or saved as a new draft version (publishing.deploy, publish=False)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from engine.bundles.form_sources import is_generated
from engine.bundles.metadata import read_metadata
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import MAX_FILES, BundleSource, from_zip
from engine.bundles.template import blank_template, bpmn_path
from engine.domain.users import User
from engine.errors import Invalid

from . import catalogue, publishing

if TYPE_CHECKING:
    from .context import Services

EDITOR_SOURCE = "editor"


def _has_form(files: dict[str, str], key: str) -> bool:
    """Whether the files hold form `key` as the compiler finds it (the path itself, under
    forms/, or a path ending in /<key>)."""
    if key in files or f"forms/{key}" in files:
        return True
    return any(path.endswith("/" + key) for path in files)


def main_bpmn(files: dict[str, str], process: str | None) -> str | None:
    """The path of the .bpmn file holding the main process (else the first .bpmn)."""
    bpmn = sorted(p for p in files if p.lower().endswith((".bpmn", ".bpmn20.xml")))
    for path in bpmn:
        if process and f'id="{process}"' in files[path]:
            return path
    return bpmn[0] if bpmn else None


def version_files(svc: Services, actor: User, key: str, version: int) -> dict[str, Any]:
    """A version's stored files plus every form it uses that is not among them (taken from the
    shared library at deployment and stored with the version) as `forms/<formKey>`."""
    publishing.require_designer(actor)
    detail = catalogue.bundle_detail(svc, actor, key, version)
    files = dict(catalogue.bundle_files(svc, key, version))
    for form_key, schema in sorted(detail.get("forms", {}).items()):
        if not _has_form(files, form_key) and not is_generated(form_key):  # made from the XML
            files[f"forms/{form_key}"] = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    with svc.uow() as uow:
        attachments = uow.bundles.attachment_sizes(key, version)
    return {
        "files": files,
        "bpmn": main_bpmn(files, detail.get("process")),
        "attachments": [{"path": p, "size": n} for p, n in attachments.items()],
    }


def template_files(actor: User, key: str, name: str) -> dict[str, Any]:
    """The blank template (一窗受理 → 并联审批 → 统一发证) for a new bundle `key` named `name`."""
    publishing.require_designer(actor)
    return {"files": blank_template(key, name), "bpmn": bpmn_path(key)}


def _source(files: dict[str, str]) -> BundleSource:
    """The editor's files as an upload, through the bounds and path checks of a .zip upload."""
    if not files:
        raise BundleInvalid([Problem("没有任何文件: 请至少提供一个 .bpmn 文件")])
    if len(files) > MAX_FILES:
        raise BundleInvalid([Problem(f"文件过多 ({len(files)} 个, 上限 {MAX_FILES})")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(files.items()):
            archive.writestr(path, text.encode("utf-8"))
    return from_zip(f"{EDITOR_SOURCE}.zip", buffer.getvalue())


def _with_attachments(svc: Services, source: BundleSource) -> BundleSource:
    """The editor edits text: the 办事指南's files (samples, blank forms) the draft does not carry
    come from the bundle's latest version (the key in its bundle.json), as they were uploaded."""
    meta, _ = read_metadata(source.files)
    if not meta.key:
        return source
    with svc.uow() as uow:
        latest = uow.bundles.latest(meta.key)
        stored = uow.bundles.attachments(meta.key, latest.version) if latest else {}
    carried = {p: c for p, c in stored.items() if p not in source.files}
    return BundleSource(source.name, {**source.files, **carried}) if carried else source


def _with_severity(problems: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    return [{**p, "severity": severity} for p in problems]


def check_draft(svc: Services, actor: User, files: dict[str, str]) -> dict[str, Any]:
    """Every check of a deploy on the edited files, storing nothing."""
    publishing.require_designer(actor)
    try:
        found = publishing.validate(svc, _with_attachments(svc, _source(files)), actor)
    except BundleInvalid as err:
        errors = [p.to_dict() for p in err.problems]
        return {"ok": False, "errors": _with_severity(errors, "error"), "warnings": []}
    except Invalid as err:
        return {"ok": False, "errors": _with_severity(err.errors, "error"), "warnings": []}
    warnings = _with_severity(found["warnings"], "warning")
    return {"ok": True, "errors": [], "warnings": warnings, "next_version": found["next_version"]}


def save_draft(
    svc: Services, actor: User, files: dict[str, str], replace: bool = False
) -> dict[str, Any]:
    """The edited files deployed as the bundle's next version, a draft (never published here).
    Refused (Invalid, 422) with every problem; a draft that drops what the latest version has
    is refused too (Conflict, 409), as an upload is, unless `replace` confirms it."""
    publishing.require_designer(actor)
    try:
        source = _with_attachments(svc, _source(files))
    except BundleInvalid as err:
        errors = _with_severity([p.to_dict() for p in err.problems], "error")
        raise Invalid("事项包未通过检查, 没有保存任何内容", errors) from None
    try:
        deployed = publishing.deploy(svc, source, actor, replace=replace, publish=False)
    except Invalid as err:
        raise Invalid(err.message, _with_severity(err.errors, "error")) from None
    deployed["warnings"] = _with_severity(deployed.get("warnings", []), "warning")
    return deployed
