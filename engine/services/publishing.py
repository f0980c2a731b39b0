"""Publishing bundles: a good upload becomes the bundle's next immutable version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.bundles.compiler import CompiledBundle, compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.bundle_versions import BundleVersion
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid

if TYPE_CHECKING:
    from .context import Services


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def require_designer(user: User) -> None:
    if not user.has_role(Role.DESIGNER, Role.ADMIN):
        raise Forbidden("只有流程设计员和管理员可以上传事项包")


def deploy(
    svc: Services,
    source: BundleSource,
    actor: User | str,
    skip_unchanged: bool = False,
    replace: bool = False,
) -> dict[str, Any]:
    """Check the upload completely, then store it as the bundle's next version.

    With `skip_unchanged` (the CLI's redeploy of `processes/`), an upload identical to the
    latest version stores nothing and returns that version. An upload that would drop what the
    latest version has (its bundle.json, forms, certificates) is refused with what it drops
    (409) unless `replace` confirms it.
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
        dropped = dropped_content(latest, compiled) if latest is not None else []
        if dropped and not replace:
            raise Conflict(
                f"新版本将不再包含第 {latest.version if latest else 0} 版的部分内容: "
                "确认替换请勾选确认 (API: replace=true) 后重新上传",
                errors=dropped,
            )
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


def dropped_content(latest: BundleVersion, compiled: CompiledBundle) -> list[dict[str, Any]]:
    """What the latest version has and an upload would drop: its bundle.json (items, materials,
    time limits, certificates), forms, certificates. Each a problem with its file."""
    dropped: list[dict[str, Any]] = []

    def lost(message: str, file: str | None) -> None:
        dropped.append({"message": message, "element": None, "line": None, "file": file})

    if latest.metadata and not compiled.metadata:
        lost(
            "上传中没有 bundle.json: 事项、材料清单、时限、申请人和证照设置都将不再适用",
            "bundle.json",
        )
    for key in sorted(set(latest.forms) - set(compiled.forms)):
        lost(f"表单 {key} 将不再使用: 用到它的任务将没有表单", key)
    kinds = {s.kind for s in BundleMetadata.from_dict(compiled.metadata).certificates}
    for spec in latest.meta.certificates:
        if spec.kind not in kinds:
            lost(f"证照「{spec.title}」({spec.kind}) 将不再发放", "bundle.json")
    return dropped
