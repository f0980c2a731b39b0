"""The 特别程序告知书 (Administrative Licensing Law Art. 45): the written notice telling the
applicant which special procedure the case is in and how long it is expected to take. Kept
apart from special_procedures.py, which the clock calls and which therefore may not read the
case views (queries.py)."""

from __future__ import annotations

from typing import Any

from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound

from . import documents
from .context import Services
from .pauses import case_pauses
from .queries import parties_of
from .special_procedures import LAW, TITLE


def notice(svc: Services, user: User, case_id: int, seq: int) -> dict[str, Any]:
    """The 特别程序告知书 of the pause begun by the `clock_paused` event `seq`; NotFound unless
    that pause is a special procedure of Art. 45."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
        pause = next(
            (p for p in case_pauses(events, version, svc.tz) if p["seq"] == seq and p["art45"]),
            None,
        )
        event = next((e for e in events if e.seq == seq), None)
        if pause is None or event is None:
            raise NotFound(f"办件 {case_id} 没有这次特别程序")
        signer = documents.signed(svc, uow, event.actor, event.at)
    return {
        "title": TITLE,
        "case_id": case_id,
        "seq": seq,
        "bundle": version.name,
        "issuer": version.meta.issuer or version.name,
        "item_names": [i.name for i in version.meta.items],
        **parties_of(version, case.data),
        "received_on": svc.today(case.created_at).isoformat(),
        "kind": pause["kind"],
        "label": pause["label"],
        "since": pause["since"],
        "until": pause["until"],
        "workdays": pause["workdays"],
        "expected_workdays": pause["expected_workdays"],
        "expected_until": pause["expected_until"],
        "law": LAW,
        "dated": signer["signed_on"],
    }
