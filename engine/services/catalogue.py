"""The bundle catalogue as people read it: versions, their details, differences and public guides."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Any

from engine.bpmn.xml import XmlProblem
from engine.bundles.diff import VersionContent, diff_versions, read_elements
from engine.bundles.guide import (
    MATERIAL_FILE_KEYS,
    in_upload,
    material_files,
    media_type,
    path_problem,
)
from engine.bundles.libraries import LIBRARY_REFUSAL, is_library
from engine.bundles.metadata import METADATA_FILE
from engine.domain.bundle_lifecycle import (
    Action,
    BundleState,
    BundleStatus,
    VersionStatus,
    start_refusal,
)
from engine.domain.bundle_versions import BundleVersion
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, NotFound

from .intake import checklist

if TYPE_CHECKING:
    from .context import Services


def _sees_drafts(actor: User | None) -> bool:
    """Designers, administrators and auditors see drafts and retired bundles; clerks see what
    can be worked (None: the engine itself, which sees everything)."""
    return actor is None or actor.has_role(Role.DESIGNER, Role.ADMIN, Role.AUDITOR)


def _state(status: BundleStatus, latest_version: int) -> dict[str, Any]:
    return {
        "state": status.state.value,
        "published_version": status.published_version,
        "latest_version": latest_version,
        "retired": status.retired,
    }


def list_bundles(svc: Services, actor: User, with_retired: bool = False) -> list[dict[str, Any]]:
    """Each bundle with its state. Clerks: the bundles they may start cases on, each at its
    published version (`with_retired`: also retired ones, whose running cases they still work).
    Others: every bundle, at its published version, else its latest draft."""
    with svc.uow() as uow:
        if not _sees_drafts(actor):
            return [
                {
                    **v.summary(),
                    "status": VersionStatus.PUBLISHED.value,
                    **_state(BundleStatus(v.version, retired), v.version),
                }
                for v, retired in uow.bundles.list_published()
                if (with_retired or not retired) and not is_library(v.metadata)
            ]
        rows = uow.bundles.list_versions()
    shown: dict[str, dict[str, Any]] = {}
    for row in rows:  # newest version first
        status = BundleStatus(row["published_version"], row["retired_at"] is not None)
        if row["key"] in shown and row["version"] != status.published_version:
            continue
        shown[row["key"]] = {
            "key": row["key"],
            "version": row["version"],
            "name": row["name"],
            "description": row["description"],
            "process": row["process_id"],
            "deployed_by": row["deployed_by"],
            "deployed_at": row["deployed_at"].isoformat(),
            "checksum": row["checksum"],
            "status": row["status"],
            **_state(status, row["latest_version"]),
        }
    return list(shown.values())


def startable_bundles(svc: Services, actor: User) -> list[dict[str, Any]]:
    """The bundles new cases may start on (published, not retired), at their published version:
    the clerk's 收件 list, whoever looks at it."""
    with svc.uow() as uow:  # a 公用子流程库 is called by other bundles, never started
        shared = {v.key for v, _ in uow.bundles.list_published() if is_library(v.metadata)}
    return [
        b
        for b in list_bundles(svc, actor)
        if b["state"] == BundleState.PUBLISHED and b["key"] not in shared
    ]


def _version(
    svc: Services, key: str, version: int | None, actor: User | None = None
) -> tuple[BundleVersion, dict[str, Any]]:
    """A version with its lifecycle. `version` None: the published version (for those who see
    drafts, else the latest). A clerk sees only versions that were published."""
    with svc.uow() as uow:
        status = uow.bundles.lifecycle(key)
        found: BundleVersion | None = None
        if status is not None:
            number = version if version is not None else status.published_version
            if number is not None:
                found = uow.bundles.get(key, number)
            elif _sees_drafts(actor):
                found = uow.bundles.latest(key)
        version_status = uow.bundles.version_status(key, found.version) if found else None
        latest = uow.bundles.latest(key) if found else None
    hidden = version_status in (VersionStatus.DRAFT, VersionStatus.DISCARDED)
    if found is None or status is None or (hidden and not _sees_drafts(actor)):
        raise NotFound(f"事项包 '{key}'" + (f" 第 {version} 版" if version else "") + " 不存在")
    latest_version = latest.version if latest else found.version
    return found, {"status": str(version_status), **_state(status, latest_version)}


def bundle_detail(
    svc: Services, actor: User | None, key: str, version: int | None = None
) -> dict[str, Any]:
    """A version with its state (`version` None: the published one)."""
    found, state = _version(svc, key, version, actor)
    return {**found.detail(), **state}


def bundle_page(
    svc: Services, actor: User | None, key: str, version: int | None = None
) -> dict[str, Any]:
    """`bundle_detail` with its bundle.json typed, as `meta` (BundleMetadata): for the pages."""
    found, state = _version(svc, key, version, actor)
    return {**found.detail(), **state, "meta": found.meta}


def start_page(svc: Services, actor: User, key: str) -> dict[str, Any]:
    """`bundle_page` of the version a new case of `key` starts on; a draft or retired bundle
    is refused (409) as `cases.start_case` refuses it."""
    with svc.uow() as uow:
        found = uow.bundles.start_version(key)
    if found is None:
        raise NotFound(f"事项包 '{key}' 不存在")
    name, status, _ = found
    refusal = start_refusal(name, status)
    if refusal is not None:
        raise Conflict(refusal)
    page = bundle_page(svc, actor, key, status.published_version)
    if is_library(page["metadata"]):
        raise Conflict(LIBRARY_REFUSAL)
    return page


def bundle_files(svc: Services, key: str, version: int) -> dict[str, str]:
    """A version's uploaded files (path -> text): BPMN, DMN, forms and bundle.json."""
    with svc.uow() as uow:
        files = uow.bundles.files(key, version)
    if files is None:
        raise NotFound(f"事项包 '{key}' 第 {version} 版不存在")
    return files


def bundle_zip(svc: Services, actor: User, key: str, version: int) -> bytes:
    """A version as a .zip of its stored files (what was uploaded, as accepted): for designers,
    administrators and auditors. Each file dated with the version's deployment time."""
    if not actor.has_role(Role.DESIGNER, Role.ADMIN, Role.AUDITOR):
        raise Forbidden("只有流程设计员、管理员和审计人员可以下载事项包")
    found, files = _stored(svc, key, version)
    with svc.uow() as uow:
        attachments = uow.bundles.attachments(key, found.version)
    contents = {**{p: t.encode("utf-8") for p, t in files.items()}, **attachments}
    stamp = found.deployed_at.astimezone(svc.tz).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(contents.items()):
            info = zipfile.ZipInfo(path, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def diagram_xml(svc: Services, key: str, version: int) -> str:
    """The BPMN file of a version that holds its main process (what the diagram viewer shows)."""
    found = bundle_detail(svc, None, key, version)
    files = bundle_files(svc, key, version)
    bpmn = {p: t for p, t in files.items() if p.lower().endswith((".bpmn", ".xml"))}
    for text in bpmn.values():
        if f'id="{found["process"]}"' in text:
            return text
    if bpmn:
        return next(iter(bpmn.values()))
    raise NotFound(f"事项包 '{key}' 第 {version} 版没有 BPMN 文件")


# The designer's pages and the public 办事指南 ------------------------------------------------


def list_versions(svc: Services, actor: User) -> list[dict[str, Any]]:
    """Every bundle with all its versions, newest first; times in the local time zone."""
    with svc.uow() as uow:
        rows = uow.bundles.list_versions()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        status = BundleStatus(row["published_version"], row["retired_at"] is not None)
        entry = found.setdefault(
            row["key"], {"key": row["key"], **_state(status, row["latest_version"]), "versions": []}
        )
        if row["version"] == row["latest_version"]:
            entry["name"] = row["name"]
            entry["description"] = row["description"]
        entry["versions"].append({**row, "deployed_at": row["deployed_at"].astimezone(svc.tz)})
    for entry in found.values():
        entry.setdefault("name", entry["versions"][0]["name"])
        entry.setdefault("description", entry["versions"][0]["description"])
    return list(found.values())


def _stored(svc: Services, key: str, version: int | None) -> tuple[BundleVersion, dict[str, str]]:
    """A version and its files; `version` None: the public one (published, not retired)."""
    with svc.uow() as uow:
        if version is None:
            status = uow.bundles.lifecycle(key)
            found = uow.bundles.published(key) if status and status.startable else None
        else:
            found = uow.bundles.get(key, version)
        files = uow.bundles.files(key, found.version) if found is not None else None
    if found is None or files is None:
        raise NotFound(f"事项包 '{key}'" + (f" 第 {version} 版" if version else "") + " 不存在")
    return found, files


def _history(svc: Services, key: str) -> list[dict[str, Any]]:
    """A bundle's lifecycle transitions, newest first, in local time."""
    with svc.uow() as uow:
        rows = uow.bundles.transitions(key)
    return [
        {**r, "at": r["at"].astimezone(svc.tz), "label": Action(r["action"]).label}
        for r in reversed(rows)
    ]


def _element_names(svc: Services, key: str, version: int) -> dict[str, str]:
    """Element id -> name of a version's main diagram (ids where it has no name)."""
    try:
        elements = read_elements(diagram_xml(svc, key, version).encode("utf-8"))
    except (XmlProblem, NotFound):
        return {}
    return {i: e.name or i for i, e in elements.items()}


def _decision_options(version: BundleVersion) -> list[dict[str, str]]:
    """The 一窗受理 decisions the intake form offers (受理, 补正, 容缺受理, 告知承诺...)."""
    intake = version.meta.intake
    form = version.form_for(intake.element) or {}
    field_schema = (form.get("properties") or {}).get(intake.decision_field) or {}
    options = field_schema.get("oneOf") or field_schema.get("anyOf") or []
    found = [
        {"value": str(o["const"]), "title": str(o.get("title", o["const"]))}
        for o in options
        if isinstance(o, dict) and "const" in o
    ]
    found += [{"value": str(v), "title": str(v)} for v in field_schema.get("enum", [])]
    return found


def _policy(version: BundleVersion, names: dict[str, str]) -> dict[str, Any]:
    """The time limits of a version, said the way the pages show them."""
    policy = version.time_policy
    tasks = version.human_tasks.values()
    return {
        "limit": policy.limit,
        "statutory_limit": policy.statutory_limit,
        "starts_at": policy.starts_at,
        "starts_at_name": names.get(policy.starts_at or "", policy.starts_at),
        "warning": policy.warning,
        "escalation_group": policy.escalation_group,
        "pausing_tasks": [t.name for t in tasks if t.properties.get("clock") == "pause"],
        "issuing_tasks": [
            t.name for t in tasks if t.properties.get("certificate_action") == "issue"
        ],
    }


def _materials(version: BundleVersion) -> list[dict[str, Any]]:
    return checklist(version)


def version_overview(svc: Services, actor: User, key: str, version: int) -> dict[str, Any]:
    """A version as its designer page shows it: tasks with their forms, time limits, materials,
    the 一窗受理 decisions offered, the uploaded files, and the bundle's other versions."""
    found, files = _stored(svc, key, version)
    with svc.uow() as uow:
        numbers = [r["version"] for r in uow.bundles.list_versions() if r["key"] == key]
        status = uow.bundles.lifecycle(key) or BundleStatus(None, retired=False)
        version_status = uow.bundles.version_status(key, version) or VersionStatus.DRAFT
        attachments = uow.bundles.attachment_sizes(key, version)
    names = _element_names(svc, key, version)
    tasks = []
    # in the order the BPMN lists them (PostgreSQL's JSONB does not keep the stored order)
    ordered = sorted(found.human_tasks.values(), key=lambda t: (t.line is None, t.line or 0))
    for info in ordered:
        props = info.properties
        form = found.forms.get(info.form) if info.form else None
        tasks.append(
            {
                "element": info.element,
                "name": info.name,
                "lane": info.lane,
                "groups": list(info.groups),
                "candidate_users": list(info.candidate_users),
                "assignee": info.assignee,
                "form": info.form,
                "form_title": (form or {}).get("title") or info.form,
                "schema": form,
                "time_limit": props.get("time_limit"),
                "pauses_clock": props.get("clock") == "pause",
                "certificate_action": props.get("certificate_action"),
            }
        )
    decisions = _decision_options(found)
    values = {d["value"] for d in decisions}
    return {
        **found.summary(),
        "deployed_at": found.deployed_at.astimezone(svc.tz),
        "metadata": found.metadata,
        "issuer": found.meta.issuer,
        "matters": found.meta.items,
        "materials": _materials(found),
        "policy": _policy(found, names),
        "decisions": decisions,
        "allows_gaps": "accept_with_gaps" in values,
        "allows_commitment": "commitment" in values,
        "tasks": tasks,
        "start_form": found.start_form,
        "start_schema": found.forms.get(found.start_form) if found.start_form else None,
        "files": [
            {"path": p, "size": len(t.encode("utf-8")), "kind": _file_kind(p)}
            for p, t in sorted(files.items())
        ]
        + [{"path": p, "size": n, "kind": "办事指南附件"} for p, n in attachments.items()],
        "versions": numbers,
        **_state(status, max(numbers) if numbers else found.version),
        "status": version_status.value,
        "public": status.startable and version_status is VersionStatus.PUBLISHED,
        "history": _history(svc, key),
    }


def _file_kind(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".bpmn", ".bpmn20.xml", ".xml")):
        return "BPMN 流程图"
    if lower.endswith(".dmn"):
        return "DMN 决策表"
    if lower.rsplit("/", 1)[-1] == "bundle.json":
        return "事项包元数据"
    if lower.endswith(".json"):
        return "表单"
    return "其他"


def compare_versions(svc: Services, actor: User, key: str, a: int, b: int) -> dict[str, Any]:
    """What changed from version `a` to version `b` of a bundle (engine/bundles/diff.py)."""
    old, old_files = _stored(svc, key, a)
    new, new_files = _stored(svc, key, b)
    diff = diff_versions(
        VersionContent(old_files, old.forms, old.metadata),
        VersionContent(new_files, new.forms, new.metadata),
    )
    with svc.uow() as uow:
        numbers = [r["version"] for r in uow.bundles.list_versions() if r["key"] == key]
    return {
        "key": key,
        "name": new.name,
        "a": {**old.summary(), "deployed_at": old.deployed_at.astimezone(svc.tz)},
        "b": {**new.summary(), "deployed_at": new.deployed_at.astimezone(svc.tz)},
        "diff": diff,
        "versions": numbers,
    }


def public_guides(svc: Services) -> list[dict[str, Any]]:
    """The 办事指南 list: each bundle's published version (not retired), no sign-in needed."""
    with svc.uow() as uow:
        latest = [
            v
            for v, retired in uow.bundles.list_published()
            if not retired and not is_library(v.metadata)
        ]
    return [
        {
            "key": v.key,
            "name": v.name,
            "description": v.description,
            "limit": v.time_policy.limit,
            "statutory_limit": v.time_policy.statutory_limit,
            "matters": [i.name for i in v.meta.items],
        }
        for v in latest
    ]


def _guide_materials(version: BundleVersion) -> list[dict[str, Any]]:
    """The checklist with each material's downloads (样表, 空白表格): the file's path in the
    bundle and its name, for the guide's links."""
    raw = [m for m in version.metadata.get("materials", []) if isinstance(m, dict)]
    by_code = {str(m.get("code")): m for m in raw}
    found = []
    for material in _materials(version):
        source = by_code.get(str(material.get("code")), {})
        files = [
            {"key": k, "label": label, "path": source[k], "name": source[k].rsplit("/", 1)[-1]}
            for k, label in MATERIAL_FILE_KEYS.items()
            if isinstance(source.get(k), str)
        ]
        found.append({**material, "files": files})
    return found


def _guide_facts(version: BundleVersion) -> dict[str, Any]:
    """bundle.json's `guide` (the 事项清单 facts) as the page reads it; each legal basis with the
    name of the item it is for."""
    raw = version.metadata.get("guide")
    guide = dict(raw) if isinstance(raw, dict) else {}
    items = {i.code: i.name for i in version.meta.items}
    guide["legal_basis"] = [
        {**b, "item_name": items.get(str(b.get("item")), b.get("item"))}
        for b in guide.get("legal_basis", [])
        if isinstance(b, dict)
    ]
    for key in ("places", "results", "conditions"):
        guide[key] = [v for v in guide.get(key, []) if v]
    guide.setdefault("phones", {})
    return guide


def public_guide(svc: Services, key: str) -> dict[str, Any]:
    """The 办事指南 of a bundle's published version: the 事项清单 facts (bundle.json's `guide`),
    what it is for, the materials with their downloads, the limits, the steps."""
    found, _ = _stored(svc, key, None)
    if is_library(found.metadata):  # a 公用子流程库 has no 办事指南
        raise NotFound(f"事项包 '{key}' 不存在")
    names = _element_names(svc, key, found.version)
    decisions = {d["value"] for d in _decision_options(found)}
    return {
        "key": found.key,
        "version": found.version,
        "name": found.name,
        "description": found.description,
        "issuer": found.meta.issuer,
        "guide": _guide_facts(found),
        "has_guide": isinstance(found.metadata.get("guide"), dict),
        "collection": found.metadata.get("collection") or {},
        "matters": found.meta.items,
        "materials": _guide_materials(found),
        "policy": _policy(found, names),
        "allows_gaps": "accept_with_gaps" in decisions,
        "allows_commitment": "commitment" in decisions,
        "deployed_at": found.deployed_at.astimezone(svc.tz),
        "steps": [
            {"name": t.name, "lane": t.lane, "time_limit": t.properties.get("time_limit")}
            for t in sorted(found.human_tasks.values(), key=lambda t: (t.line is None, t.line or 0))
        ],
    }


def public_guide_file(svc: Services, key: str, path: str) -> tuple[bytes, str, str]:
    """A sample or blank form the published version's guide offers: (content, Content-Type, file
    name). Only a file a material names is served, of a type on the list; else NotFound."""
    missing = NotFound(f"办事指南 '{key}' 没有文件 '{path[:300]}'")
    kind = media_type(path)
    if kind is None or path_problem(path) is not None:
        raise missing
    found, files = _stored(svc, key, None)
    if path not in {p for _, _, p in material_files(found.metadata)}:
        raise missing
    metadata_path = min((p for p in files if p.rsplit("/", 1)[-1] == METADATA_FILE), key=len)
    with svc.uow() as uow:
        content = uow.bundles.attachment(key, found.version, in_upload(metadata_path, path))
    if content is None:
        raise missing
    return content, kind, path.rsplit("/", 1)[-1]


def public_diagram_xml(svc: Services, key: str) -> str:
    """The BPMN of a bundle's published version, for the public 办事指南's flow chart."""
    found, _ = _stored(svc, key, None)
    return diagram_xml(svc, key, found.version)
