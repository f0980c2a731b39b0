"""Firing a case's due BPMN timers: the step a worker runs for a `timer` job.

Nobody acts in a timer step, so it is where a case could spin on its own: before firing, the
case's timer budget is checked, and a step the engine refuses does not fail the job over and
over: either way the case stops as an incident (engine/services/incidents.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.bpmn.errors import StepFailed
from engine.bpmn.task_table import PendingTimer
from engine.domain.jobs import Job, JobKind
from engine.domain.model import CaseStatus, EventType
from engine.errors import Invalid
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services, Step
from .incidents import (
    SYSTEM,
    TIMER_KEY,
    budget_reason,
    raise_incident,
    timer_budget_left,
    timer_task_id,
)
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
    before = (case.data, case.updated_at)
    try:
        with uow.conn.begin_nested():  # a step that cannot open its tasks leaves no trace
            record_step(
                Step(svc, uow, case, version, workflow, SYSTEM, at),
                EventType.TIMER_FIRED,
                data={"timers": fired, "due": timer.due.isoformat()},
            )
    except Invalid as err:  # a task it opens has nobody to work it (an assignee found no one)
        case.data, case.updated_at = before
        element = next((e.get("element") for e in err.errors if e.get("element")), None)
        raise_incident(uow, case, now, err.message, element or timer.element, "step_refused")
        return
    _schedule_next_occurrences(uow, case.id, waiting, workflow.pending_timers(), now)


def _schedule_next_occurrences(
    uow: UnitOfWork,
    case_id: int,
    before: dict[str, PendingTimer],
    after: list[PendingTimer],
    now: datetime,
) -> None:
    """A cycle timer (`R3/PT1H`) that fired waits again on the same engine task with a later due
    time: its next occurrence gets a job of its own (the task's first job is done and a key is
    scheduled once)."""
    for pending in after:
        previous = before.get(pending.task_id)
        if previous is not None and pending.due != previous.due:
            uow.jobs.schedule(
                JobKind.TIMER,
                f"{TIMER_KEY}{pending.task_id}@{pending.due.isoformat()}",
                pending.due,
                now,
                case_id,
                {"element": pending.element},
            )
