"""Deploying bundles (a new immutable version per good upload) and listing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.bundles.compiler import compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from .context import Services


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def require_designer(user: User) -> None:
    if not user.has_role(Role.DESIGNER, Role.ADMIN):
        raise Forbidden("只有流程设计员和管理员可以上传事项包")


def deploy(
    svc: Services, source: BundleSource, actor: User | str, skip_unchanged: bool
) -> dict[str, Any]:
    """Check the upload completely, then store it as the bundle's next version.

    With `skip_unchanged` (the CLI's redeploy of `processes/`), an upload identical to the
    latest version stores nothing and returns that version.
    """
    if isinstance(actor, User):
        require_designer(actor)
    actor_name = actor.name if isinstance(actor, User) else actor
    try:
        compiled = compile_bundle(source, svc.forms)
    except BundleInvalid as err:
        raise Invalid(
            "事项包未通过检查, 没有保存任何内容", [p.to_dict() for p in err.problems]
        ) from None
    with svc.uow(write=True) as uow:
        latest = uow.bundles.latest(compiled.key)
        if skip_unchanged and latest is not None and latest.checksum == compiled.checksum:
            return {**latest.summary(), "unchanged": True}
        now = svc.clock()
        number = uow.bundles.add_version(
            compiled.key,
            compiled.name,
            {
                "description": compiled.description,
                "process_id": compiled.process_id,
                "metadata": compiled.metadata,
                "specs": compiled.specs_json,
                "human_tasks": {k: v.to_dict() for k, v in compiled.human_tasks.items()},
                "start_form": compiled.start_form,
                "start_event": compiled.start_event,
                "forms": compiled.forms,
                "files": {p: _text(b) for p, b in compiled.files.items()},
                "checksum": compiled.checksum,
                "deployed_by": actor_name,
                "deployed_at": now,
            },
            now,
        )
        uow.commit()
    return {
        "key": compiled.key,
        "version": number,
        "name": compiled.name,
        "description": compiled.description,
        "process": compiled.process_id,
        "checksum": compiled.checksum,
        "human_tasks": sorted(compiled.human_tasks),
        "forms": sorted(compiled.forms),
        "unchanged": False,
    }


def list_bundles(svc: Services, actor: User) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return [v.summary() for v in uow.bundles.list_latest()]


def bundle_detail(
    svc: Services, actor: User | None, key: str, version: int | None
) -> dict[str, Any]:
    with svc.uow() as uow:
        found = uow.bundles.latest(key) if version is None else uow.bundles.get(key, version)
    if found is None:
        raise NotFound(f"事项包 '{key}'" + (f" 第 {version} 版" if version else "") + " 不存在")
    return found.detail()


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
