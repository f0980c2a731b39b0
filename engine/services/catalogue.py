"""The bundle catalogue as people read it: versions, their details, differences and public guides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.bpmn.xml import XmlProblem
from engine.bundles.diff import VersionContent, diff_versions, read_elements
from engine.domain.bundle_versions import BundleVersion
from engine.domain.users import User
from engine.errors import NotFound

from .intake import checklist

if TYPE_CHECKING:
    from .context import Services


def list_bundles(svc: Services, actor: User) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return [v.summary() for v in uow.bundles.list_latest()]


def _version(svc: Services, key: str, version: int | None) -> BundleVersion:
    with svc.uow() as uow:
        found = uow.bundles.latest(key) if version is None else uow.bundles.get(key, version)
    if found is None:
        raise NotFound(f"事项包 '{key}'" + (f" 第 {version} 版" if version else "") + " 不存在")
    return found


def bundle_detail(
    svc: Services, actor: User | None, key: str, version: int | None = None
) -> dict[str, Any]:
    return _version(svc, key, version).detail()


def bundle_page(
    svc: Services, actor: User | None, key: str, version: int | None = None
) -> dict[str, Any]:
    """`bundle_detail` with its bundle.json typed, as `meta` (BundleMetadata): for the pages."""
    found = _version(svc, key, version)
    return {**found.detail(), "meta": found.meta}


def bundle_files(svc: Services, key: str, version: int) -> dict[str, str]:
    """A version's uploaded files (path -> text): BPMN, DMN, forms and bundle.json."""
    with svc.uow() as uow:
        files = uow.bundles.files(key, version)
    if files is None:
        raise NotFound(f"事项包 '{key}' 第 {version} 版不存在")
    return files


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
        entry = found.setdefault(
            row["key"],
            {"key": row["key"], "latest_version": row["latest_version"], "versions": []},
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
    with svc.uow() as uow:
        found = uow.bundles.latest(key) if version is None else uow.bundles.get(key, version)
        files = uow.bundles.files(key, found.version) if found is not None else None
    if found is None or files is None:
        raise NotFound(f"事项包 '{key}'" + (f" 第 {version} 版" if version else "") + " 不存在")
    return found, files


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
        ],
        "versions": numbers,
        "latest_version": max(numbers) if numbers else found.version,
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
    """The 办事指南 list: each bundle's latest version, no sign-in needed."""
    with svc.uow() as uow:
        latest = uow.bundles.list_latest()
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


def public_guide(svc: Services, key: str) -> dict[str, Any]:
    """The 办事指南 of a bundle's latest version: what it is for, the materials, the limits."""
    found, _ = _stored(svc, key, None)
    names = _element_names(svc, key, found.version)
    decisions = {d["value"] for d in _decision_options(found)}
    return {
        "key": found.key,
        "version": found.version,
        "name": found.name,
        "description": found.description,
        "issuer": found.meta.issuer,
        "matters": found.meta.items,
        "materials": _materials(found),
        "policy": _policy(found, names),
        "allows_gaps": "accept_with_gaps" in decisions,
        "allows_commitment": "commitment" in decisions,
        "deployed_at": found.deployed_at.astimezone(svc.tz),
        "steps": [
            {"name": t.name, "lane": t.lane, "time_limit": t.properties.get("time_limit")}
            for t in sorted(found.human_tasks.values(), key=lambda t: (t.line is None, t.line or 0))
        ],
    }


def public_diagram_xml(svc: Services, key: str) -> str:
    """The BPMN of a bundle's latest version, for the public 办事指南's flow chart."""
    found, _ = _stored(svc, key, None)
    return diagram_xml(svc, key, found.version)
