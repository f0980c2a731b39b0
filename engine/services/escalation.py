"""督办: escalating a passed limit to the bundle's supervisor group (a task and a
notification), used by the case and task limits (deadlines.py) and the lower level's
preliminary review (preliminary.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, EventType, HumanTask, TaskKind
from engine.persistence.unit_of_work import UnitOfWork

from .messages import supervision
from .notify import notify

SYSTEM = "system"


def escalate(
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    about: str,
    fallback: tuple[str, ...],
    now: datetime,
) -> None:
    """督办: a task for the bundle's supervisor group, and a notification to it; a bundle that
    names no supervisor group gets the notification alone, sent to the groups concerned."""
    group = version.time_policy.escalation_group
    subject = f"办件 {case.id} ({version.name}) 超期: {about}"
    for recipient in [group] if group else sorted(set(fallback)):
        notify(
            uow, case.id, "overdue", f"group:{recipient}", subject, f"{subject}\n请尽快督办。", now
        )
    if group is None:
        return
    task = HumanTask(
        id=str(uuid.uuid4()),
        case_id=case.id,
        element="supervision",
        name=f"督办: {about}",
        groups=(group,),
        form=None,
        kind=TaskKind.SUPERVISION,
        created_at=now,
    )
    uow.tasks.add(task)
    supervision(uow, case, version.name, task, about, now)  # the message centre
    case.record(EventType.SUPERVISION_OPENED, SYSTEM, now, task, {"about": about, "group": group})
