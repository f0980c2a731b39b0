"""Publishing bundles: a good upload becomes the bundle's next immutable version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.bpmn.assignment import group_choices
from engine.bundles.compiler import CompiledBundle, compile_bundle
from engine.bundles.guide import is_attachment
from engine.bundles.libraries import LibraryCatalogue, PublishedLibrary, is_library, uses
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource
from engine.domain import bundle_lifecycle as lifecycle
from engine.domain.bundle_lifecycle import Action, VersionStatus
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.bundle_versions import BundleVersion, HumanTaskInfo
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from .context import Services


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def require_designer(user: User) -> None:
    if not user.has_role(Role.DESIGNER, Role.ADMIN):
        raise Forbidden("只有流程设计员和管理员可以上传事项包")


def published_libraries(svc: Services) -> list[PublishedLibrary]:
    """The libraries (bundle.json `"library": true`) at their published version, not retired."""
    with svc.uow() as uow:
        found = []
        for version, retired in uow.bundles.list_published():
            if retired or not is_library(version.metadata):
                continue
            files = uow.bundles.files(version.key, version.version) or {}
            stored = {path: text.encode("utf-8") for path, text in files.items()}
            found.append(PublishedLibrary(version.key, version.version, stored))
    return found


def library_catalogue(svc: Services) -> LibraryCatalogue:
    """What an upload's call activities may call besides its own processes."""
    return LibraryCatalogue(lambda: published_libraries(svc))


def library_uses(svc: Services, key: str, version: int) -> list[dict[str, Any]]:
    """The library processes a version took a copy of, each with the library's published
    version of today (`newer`: a re-upload or a save of the bundle would take that one)."""
    with svc.uow() as uow:
        files = uow.bundles.files(key, version)
        if files is None:
            raise NotFound(f"事项包 '{key}' 第 {version} 版不存在")
        found = []
        for use in uses(files):
            status = uow.bundles.lifecycle(use.key)
            current = status.published_version if status and not status.retired else None
            found.append(
                {
                    "process": use.process,
                    "library": use.key,
                    "version": use.version,
                    "published_version": current,
                    "newer": current is not None and current > use.version,
                }
            )
    return found


def _compile(svc: Services, source: BundleSource) -> CompiledBundle:
    try:
        return compile_bundle(source, svc.forms, library_catalogue(svc))
    except BundleInvalid as err:
        raise Invalid(
            "事项包未通过检查, 没有保存任何内容", [p.to_dict() for p in err.problems]
        ) from None


def validate(svc: Services, source: BundleSource, actor: User) -> dict[str, Any]:
    """Every check of an upload, storing nothing: what the upload would be, and what it would
    drop of the bundle's latest version (an upload would need `replace` for that)."""
    require_designer(actor)
    compiled = _compile(svc, source)
    with svc.uow() as uow:
        latest = uow.bundles.latest(compiled.key)
        warnings = upload_warnings(uow, compiled)
    return {
        "valid": True,
        "key": compiled.key,
        "name": compiled.name,
        "description": compiled.description,
        "process": compiled.process_id,
        "checksum": compiled.checksum,
        "human_tasks": sorted(compiled.human_tasks),
        "forms": sorted(compiled.forms),
        "next_version": latest.version + 1 if latest is not None else 1,
        "dropped": dropped_content(latest, compiled) if latest is not None else [],
        "warnings": warnings,
    }


def version_checks(svc: Services, actor: User, key: str, version: int) -> dict[str, Any]:
    """A stored version checked again as it stands today: its upload's warnings and the groups
    that still have no members (memberships change after an upload, so this is computed, not
    stored). A version the checks of today refuse (the shared form library changed, a rule was
    added) lists those problems as errors."""
    require_designer(actor)
    with svc.uow() as uow:
        files = uow.bundles.files(key, version)
        attachments = uow.bundles.attachments(key, version)
    if files is None:
        raise NotFound(f"事项包 '{key}' 第 {version} 版不存在")
    stored = {path: text.encode("utf-8") for path, text in files.items()}
    source = BundleSource(key, {**stored, **attachments})
    try:
        compiled = compile_bundle(source, svc.forms)
    except BundleInvalid as err:
        return {"errors": [p.to_dict() for p in err.problems], "warnings": []}
    with svc.uow() as uow:
        return {"errors": [], "warnings": upload_warnings(uow, compiled)}


def deploy(
    svc: Services,
    source: BundleSource,
    actor: User | str,
    skip_unchanged: bool = False,
    replace: bool = False,
    publish: bool = True,
) -> dict[str, Any]:
    """Check the upload completely, then store it as the bundle's next version: published at
    once (new cases start on it), or with `publish=False` a draft (engine/domain/bundle_lifecycle).

    With `skip_unchanged` (the CLI's redeploy of `processes/`), an upload identical to the
    latest version (published, or a draft when a draft is asked for) stores nothing and
    returns that version. An upload that would drop what the latest version has (its
    bundle.json, forms, certificates) is refused with what it drops (409) unless `replace`
    confirms it.
    """
    if isinstance(actor, User):
        require_designer(actor)
    actor_name = actor.name if isinstance(actor, User) else actor
    compiled = _compile(svc, source)
    with svc.uow(write=True) as uow:
        latest = uow.bundles.latest(compiled.key)
        warnings = upload_warnings(uow, compiled)
        if skip_unchanged and latest is not None and latest.checksum == compiled.checksum:
            status = uow.bundles.version_status(latest.key, latest.version)
            if status is VersionStatus.PUBLISHED or (not publish and status is VersionStatus.DRAFT):
                return {
                    **latest.summary(),
                    "status": str(status),
                    "unchanged": True,
                    "warnings": warnings,
                }
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
                "files": {p: _text(b) for p, b in compiled.files.items() if not is_attachment(p)},
                "checksum": compiled.checksum,
                "deployed_by": actor_name,
                "deployed_at": now,
                "status": VersionStatus.DRAFT.value,
            },
            now,
        )
        uow.bundles.add_attachments(
            compiled.key, number, {p: b for p, b in compiled.files.items() if is_attachment(p)}
        )
        status = VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT
        if publish:
            uow.bundles.publish(compiled.key, number)
        uow.bundles.add_transition(
            compiled.key, number, Action.UPLOAD, None, status, actor_name, now
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
        "status": status.value,
        "unchanged": False,
        "warnings": warnings,
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


# The lifecycle: publish or discard a draft, retire and restore a bundle ------------------------


def _actor(actor: User | str, action: Action) -> str:
    if isinstance(actor, User):
        lifecycle.require_role(action, actor.role)
        return actor.name
    return actor  # the CLI, run by whoever runs the server


def _bundle(uow: UnitOfWork, key: str, lock: bool = True) -> lifecycle.BundleStatus:
    found = uow.bundles.lifecycle(key, lock=lock)
    if found is None:
        raise NotFound(f"事项包 '{key}' 不存在")
    return found


def _version_status(uow: UnitOfWork, key: str, version: int) -> VersionStatus:
    found = uow.bundles.version_status(key, version)
    if found is None:
        raise NotFound(f"事项包 '{key}' 第 {version} 版不存在")
    return found


def publish(svc: Services, actor: User | str, key: str, version: int) -> dict[str, Any]:
    """Make a draft the version new cases start on; the version published before is superseded
    (its running cases keep it). A retired bundle stays retired."""
    name = _actor(actor, Action.PUBLISH)
    with svc.uow(write=True) as uow:
        bundle = _bundle(uow, key)
        status = _version_status(uow, key, version)
        lifecycle.check_publish(status, version, bundle)
        now = svc.clock()
        previous = uow.bundles.publish(key, version)
        uow.bundles.add_transition(
            key, version, Action.PUBLISH, status, VersionStatus.PUBLISHED, name, now
        )
        uow.commit()
    return {**_state(svc, key), "superseded_version": previous}


def discard(svc: Services, actor: User | str, key: str, version: int) -> dict[str, Any]:
    """Give up a draft: it stays stored (versions are immutable) but is never used."""
    name = _actor(actor, Action.DISCARD)
    with svc.uow(write=True) as uow:
        _bundle(uow, key)
        status = _version_status(uow, key, version)
        lifecycle.check_discard(status, version)
        uow.bundles.set_version_status(key, version, VersionStatus.DISCARDED)
        uow.bundles.add_transition(
            key, version, Action.DISCARD, status, VersionStatus.DISCARDED, name, svc.clock()
        )
        uow.commit()
    return _state(svc, key)


def retire(svc: Services, actor: User | str, key: str) -> dict[str, Any]:
    """No new cases on the bundle, and out of the public 办事指南; running cases finish."""
    name = _actor(actor, Action.RETIRE)
    with svc.uow(write=True) as uow:
        bundle = _bundle(uow, key)
        lifecycle.check_retire(bundle)
        now = svc.clock()
        uow.bundles.set_retired(key, now)
        to = lifecycle.BundleState.RETIRED
        uow.bundles.add_transition(key, None, Action.RETIRE, bundle.state, to, name, now)
        uow.commit()
    return _state(svc, key)


def restore(svc: Services, actor: User | str, key: str) -> dict[str, Any]:
    """Undo a retirement: the published version is startable again."""
    name = _actor(actor, Action.RESTORE)
    with svc.uow(write=True) as uow:
        bundle = _bundle(uow, key)
        lifecycle.check_restore(bundle)
        now = svc.clock()
        uow.bundles.set_retired(key, None)
        after = lifecycle.BundleStatus(bundle.published_version, retired=False)
        uow.bundles.add_transition(key, None, Action.RESTORE, bundle.state, after.state, name, now)
        uow.commit()
    return _state(svc, key)


def _state(svc: Services, key: str) -> dict[str, Any]:
    with svc.uow() as uow:
        bundle = _bundle(uow, key, lock=False)
    return {
        "key": key,
        "state": bundle.state.value,
        "published_version": bundle.published_version,
        "retired": bundle.retired,
    }


def upload_warnings(uow: UnitOfWork, compiled: CompiledBundle) -> list[dict[str, Any]]:
    """The upload's warnings (engine/bundles/rules), then each group nobody belongs to yet:
    its tasks would wait for ever (the members are in the database, so this is checked here)."""
    found = [w.to_dict() for w in compiled.warnings]
    sizes = uow.users.group_sizes()
    start = compiled.forms.get(compiled.start_form) if compiled.start_form else None
    where: dict[str, list[str]] = {}
    for info in sorted(compiled.human_tasks.values(), key=lambda i: i.line or 0):
        for group in _task_groups(info, start):
            where.setdefault(group, []).append(info.element)
    escalation = BundleMetadata.from_dict(compiled.metadata).time_policy.escalation_group
    if escalation:
        where.setdefault(escalation, [])
    for group, elements in where.items():
        if sizes.get(group, 0):
            continue
        task = compiled.human_tasks[elements[0]] if elements else None
        if task is None:
            what = "超期督办将无人接收"
        elif task.candidate_users or task.assignee:  # the people it names may still work it
            what = f"任务 '{task.name}' 只能由它指定的办理人或候选人办理"
        else:
            what = f"任务 '{task.name}' 将无人可以办理"
        found.append(
            {
                "message": f"办理组 '{group}' 还没有任何成员: {what}。{GROUP_MEMBERS_HINT}",
                "element": task.element if task else None,
                "line": task.line if task else None,
                "file": None if task else "bundle.json",
            }
        )
    return found


def _task_groups(info: HumanTaskInfo, start: dict[str, Any] | None = None) -> list[str]:
    """The groups a task's work goes to: a 会签's `${item}` stands for each of the signers fixed
    in the diagram (its `signers` property); a `${village_group}` for each value the start form's
    choice field of that name offers; one read from other case data is unknown here."""
    groups: list[str] = []
    for group in info.groups:
        if not group.startswith(("${", "#{")):
            groups.append(group)
        elif info.properties.get("signers"):
            groups += [s.strip() for s in info.properties["signers"].split(",") if s.strip()]
        else:
            groups += group_choices(group, start)
    return groups


GROUP_MEMBERS_HINT = (
    "管理员可在 用户与分组 页面或用 `lianban user groups 用户名 --group 组名` 添加成员"
)
