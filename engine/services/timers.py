"""Firing a case's due BPMN timers: the step a worker runs for a `timer` job.

Nobody acts in a timer step, so it is where a case could spin on its own: before firing, the
case's timer budget is checked, and a step the engine refuses does not fail the job over and
over: either way the case stops as an incident (engine/services/incidents.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.bpmn.errors import StepFailed
from engine.domain.jobs import Job
from engine.domain.model import CaseStatus, EventType
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services, Step
from .incidents import SYSTEM, budget_reason, raise_incident, timer_budget_left, timer_task_id
from .steps import engine_step, record_step

__all__ = ["SYSTEM", "fire_timer"]


def fire_timer(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """Fire the job's timer if its case still waits on it (and is running); otherwise there is
    nothing to do."""
    if job.case_id is None:
        return
    case = uow.cases.get(job.case_id, lock=True)
    if case is None or case.status != CaseStatus.RUNNING:
        return  # ended, or stopped as an incident: resuming schedules its timers again
    version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    workflow = runtime.load(case.state)
    task_id = timer_task_id(job.key)
    waiting = {t.task_id: t for t in workflow.pending_timers()}
    if task_id not in waiting:
        return  # the task it was attached to finished first, or the case moved on
    timer = waiting[task_id]
    if not timer_budget_left(uow, case, now):
        raise_incident(uow, case, now, budget_reason(), timer.element, "timer_budget")
        return
    # SpiffWorkflow fires a timer strictly after its due time: a job run at that very instant
    # fires it a microsecond later (and records that time, so re-execution fires it too)
    at = max(now, timer.due + timedelta(microseconds=1))
    try:
        with engine_step(svc, uow, case):
            workflow.fire_timers(at)
    except StepFailed as err:
        raise_incident(uow, case, now, err.message, err.element or timer.element, "step_refused")
        return
    fired = [
        t.element
        for t in waiting.values()
        if t.task_id not in {p.task_id for p in workflow.pending_timers()}
    ]
    record_step(
        Step(svc, uow, case, version, workflow, SYSTEM, at),
        EventType.TIMER_FIRED,
        data={"timers": fired, "due": timer.due.isoformat()},
    )
