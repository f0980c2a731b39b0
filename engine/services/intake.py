"""一次性告知: the materials checklist, and the 补正告知书 listing in one go everything the
applicant must correct, with the number of correction rounds so far."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import CaseEvent, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound

from .queries import parties_of

if TYPE_CHECKING:
    from .context import Services


def checklist(version: BundleVersion) -> list[dict[str, Any]]:
    """The bundle's materials (一次性告知 list), as bundle.json gives them."""
    return [m.to_dict() for m in version.meta.materials]


def corrections(version: BundleVersion, events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """The 补正 decisions among a case's events, in order: its intake task completed with the
    decision meaning 补正 (bundle.json `intake`)."""
    intake = version.meta.intake
    return [
        e
        for e in events
        if e.type == EventType.TASK_COMPLETED
        and intake.is_correction(e.element, e.data.get("form", {}))
    ]


def material_states(meta: BundleMetadata, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checklist with what the case data says of each material, as `state`: pending (not
    yet decided), submitted, optional, missing (补正 asked), corrected, deferred (容缺受理) or
    supplied (a deferred one, brought later)."""
    intake = meta.intake
    decided = data.get(intake.decision_field)
    missing = set(data.get(intake.missing_field) or [])
    deferred = set(data.get("deferred_materials") or [])
    supplied = set(data.get("supplied_materials") or [])
    rows = []
    for m in meta.materials:
        if m.code in deferred:
            state = "supplied" if m.code in supplied else "deferred"
        elif m.code in missing and decided == intake.correct_value:
            state = "missing"
        elif m.code in missing:
            state = "corrected" if m.code in supplied else "missing"
        elif not m.required:
            state = "optional"
        elif decided is None:
            state = "pending"
        else:
            state = "submitted"
        rows.append({**m.to_dict(), "state": state})
    return rows


def correction_notice(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """The latest 补正告知书 of a case: which materials, in which round, decided when and by whom."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看补正告知书")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
    found = corrections(version, events)
    if not found:
        raise NotFound(f"办件 {case_id} 没有补正告知")
    latest = found[-1]
    by_code = {m["code"]: m for m in checklist(version)}
    missing = latest.data["form"].get(version.meta.intake.missing_field, [])
    return {
        "case_id": case_id,
        "bundle": version.name,
        "issuer": version.meta.issuer or version.name,
        "round": len(found),
        "decided_at": latest.at.isoformat(),
        "decided_by": latest.actor,
        **parties_of(version, case.data),
        "materials": [
            by_code.get(
                code,
                {
                    "code": code,
                    "name": str(code),
                    "note": "",
                    "required": True,
                    "deferrable": False,
                },
            )
            for code in (missing if isinstance(missing, list) else [missing])
        ],
        "opinion": latest.data["form"].get("intake_opinion", ""),
    }
