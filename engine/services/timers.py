"""Firing a case's due BPMN timers: the step a worker runs for a `timer` job."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from engine.bpmn.runtime import pending_timers
from engine.domain.jobs import Job
from engine.domain.model import CaseStatus, EventType
from engine.persistence.unit_of_work import UnitOfWork

from .steps import engine_step, record_step

if TYPE_CHECKING:
    from .context import Services

SYSTEM = "system"  # the actor of steps nobody asked for


def fire_timer(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """Fire the job's timer if its case still waits on it; otherwise there is nothing to do."""
    if job.case_id is None:
        return
    case = uow.cases.get(job.case_id, lock=True)
    if case is None or case.status != CaseStatus.RUNNING:
        return
    version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    workflow = runtime.load(case.state)
    task_id = job.key.removeprefix("timer:")
    waiting = {t.task_id: t for t in pending_timers(workflow)}
    if task_id not in waiting:
        return  # the task it was attached to finished first, or the case moved on
    with engine_step(svc, uow, case):
        runtime.fire_timers(workflow, max(now, waiting[task_id].due))
    fired = [
        t.element
        for t in waiting.values()
        if t.task_id not in {p.task_id for p in pending_timers(workflow)}
    ]
    record_step(
        svc,
        uow,
        case,
        version,
        workflow,
        EventType.TIMER_FIRED,
        SYSTEM,
        now,
        data={"timers": fired, "due": waiting[task_id].due.isoformat()},
    )
