"""一次性告知: the materials checklist, and the 补正告知书 listing in one go everything the
applicant must correct, with the number of correction rounds so far."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.bundles import BundleVersion
from engine.domain.model import EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound

from .queries import parties_of

if TYPE_CHECKING:
    from .context import Services

INTAKE_DEFAULTS = {
    "element": "intake",
    "decision_field": "intake_decision",
    "missing_field": "missing_materials",
    "correct_value": "correct",
}


def intake_config(version: BundleVersion) -> dict[str, str]:
    return {**INTAKE_DEFAULTS, **version.metadata.get("intake", {})}


def checklist(version: BundleVersion) -> list[dict[str, Any]]:
    """The bundle's materials (一次性告知 list), as bundle.json gives them."""
    return [
        {
            "code": m["code"],
            "name": m["name"],
            "required": m.get("required", True),
            "deferrable": m.get("deferrable", False),
            "note": m.get("note", ""),
        }
        for m in version.metadata.get("materials", [])
    ]


def correction_notice(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """The latest 补正告知书 of a case: which materials, in which round, decided when and by whom."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看补正告知书")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
    config = intake_config(version)
    corrections = [
        e
        for e in events
        if e.type == EventType.TASK_COMPLETED
        and e.element == config["element"]
        and e.data.get("form", {}).get(config["decision_field"]) == config["correct_value"]
    ]
    if not corrections:
        raise NotFound(f"办件 {case_id} 没有补正告知")
    latest = corrections[-1]
    by_code = {m["code"]: m for m in checklist(version)}
    missing = latest.data["form"].get(config["missing_field"], [])
    return {
        "case_id": case_id,
        "bundle": version.name,
        "issuer": version.metadata.get("issuer") or version.name,
        "round": len(corrections),
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
