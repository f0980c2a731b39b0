"""What every engine step shares: retrying lost races, and recording the step's outcome.

A step locks its case row (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so
two clerks completing parallel tasks of one case queue rather than overwrite each other; the
case's revision is checked again on write, and a lost race is retried from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from engine.bpmn.functions import working_days
from engine.bpmn.ids import task_ids
from engine.bpmn.runtime import (
    ProcessRuntime,
    StepFailed,
    decision_outputs,
    end_reached,
    is_finished,
    pending_timers,
    ready_human_tasks,
)
from engine.calendar import WorkdayCalendar
from engine.domain.audit import canonical_data
from engine.domain.bundles import BundleVersion
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.errors import Conflict, Invalid
from engine.persistence.db import TransientError
from engine.persistence.unit_of_work import UnitOfWork
from engine.persistence.writes import StaleWrite

from .deadlines import schedule_task_check, task_deadline, update_clock
from .queries import case_view

if TYPE_CHECKING:
    from .context import Services

T = TypeVar("T")
ATTEMPTS = 5


class Stale(Exception):
    """The case changed under us; the whole step is retried."""


def retrying(step: Callable[[], T]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return step()
        except (Stale, StaleWrite):  # the case changed under us: start the step again
            if attempt == ATTEMPTS - 1:
                raise Conflict("办件正被他人同时办理, 请稍后重试") from None
        except TransientError as err:  # deadlock / lock timeout / serialization failure
            if attempt == ATTEMPTS - 1:
                raise Conflict("数据库繁忙, 请稍后重试") from err
    raise AssertionError("unreachable")


@contextmanager
def engine_step(svc: Services, uow: UnitOfWork, case: Case) -> Iterator[None]:
    """What the engine may read while it runs one step of `case`: the working-day calendar,
    and task ids seeded by the step's first event, so a replay recreates them exactly."""
    with working_days(svc.calendars.get(uow), svc.tz), task_ids(f"{case.id}:{case.last_seq + 1}"):
        yield


def step_failed(err: StepFailed) -> Invalid:
    return Invalid(err.message, [{"message": err.message, "element": err.element}])


def save(uow: UnitOfWork, case: Case) -> None:
    try:
        uow.cases.save(case)
    except Conflict:
        raise Stale() from None


def _sync_tasks(
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    workflow: Any,
    now: datetime,
    today: date,
    calendar: WorkdayCalendar,
    stored_open: list[HumanTask] | None = None,
) -> tuple[list[HumanTask], list[HumanTask]]:
    """Make the task table match the engine: add newly ready tasks, cancel vanished ones.

    `stored_open`: the case's open tasks as stored now, when the caller has them (read under
    the case lock, in `open_for_case` order, without those this transaction closed); else they
    are read. Returns the tasks opened by this step and all the case's open tasks after it."""
    ready = {t.id: t for t in ready_human_tasks(workflow)}
    if stored_open is None:
        stored_open = uow.tasks.open_for_case(case.id)
    stored = {t.id: t for t in stored_open}
    opened = []
    for task_id, ready_task in ready.items():
        if task_id in stored:
            continue
        info = version.human_tasks.get(ready_task.element)
        task = HumanTask(
            id=task_id,
            case_id=case.id,
            element=ready_task.element,
            name=info.name if info else ready_task.name,
            groups=info.groups if info else (),
            form=info.form if info else None,
            assignee=info.assignee if info else None,
            created_at=now,
            deadline=task_deadline(version, ready_task.element, case.data, today, calendar),
        )
        opened.append(task)
    uow.tasks.add_many(opened)  # one INSERT per table for all of them
    still_open = []
    for task_id, task in stored.items():
        if task.kind != TaskKind.BPMN or task_id in ready:
            still_open.append(task)
        else:
            task.end(TaskStatus.CANCELLED, None, now)
            uow.tasks.save(task)
    return opened, still_open + sorted(opened, key=lambda t: t.id)  # as open_for_case orders


def _schedule_timers(uow: UnitOfWork, case: Case, workflow: Any, now: datetime) -> None:
    for timer in pending_timers(workflow):
        uow.jobs.schedule(
            JobKind.TIMER,
            f"timer:{timer.task_id}",
            timer.due,
            now,
            case.id,
            {"element": timer.element},
        )


def record_step(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    workflow: Any,
    event: EventType,
    actor: str,
    now: datetime,
    task: HumanTask | None = None,
    data: dict[str, Any] | None = None,
    then: Callable[[], None] | None = None,
    stored_open: list[HumanTask] | None = None,
) -> dict[str, Any]:
    """After the engine moved: sync tasks, schedule timers, append the event(s), store the case.

    Returns the case as the API shows it. The caller commits. `stored_open`: see `_sync_tasks`."""
    # what business rule tasks decided in the step, kept in canonical key order like all case data
    case.data = canonical_data({**case.data, **decision_outputs(workflow)})
    case.updated_at = now
    calendar = svc.calendars.get(uow)
    opened, open_tasks = _sync_tasks(
        uow, case, version, workflow, now, svc.today(now), calendar, stored_open
    )
    for new_task in opened:
        schedule_task_check(svc, uow, new_task, calendar, now)
    _schedule_timers(uow, case, workflow, now)
    case.record(event, actor, now, task, {**(data or {}), "opened": [t.element for t in opened]})
    if then is not None:
        then()  # what the step sets off besides the engine (issuing certificates...)
    try:
        finished = is_finished(workflow)
    except StepFailed as err:
        raise step_failed(err) from None
    if finished:
        case.status = CaseStatus.COMPLETED
        case.ended_at = now
        end = end_reached(workflow)
        case.outcome = {"element": end[0], "name": end[1]} if end else None
    update_clock(svc, uow, case, version, workflow, open_tasks, calendar, now)
    if finished:
        case.record(EventType.CASE_COMPLETED, actor, now, data={"outcome": case.outcome})
    case.state = ProcessRuntime.dump(workflow)
    save(uow, case)
    # a case that was running when this step began cannot have been rated (only a concluded
    # case can be, under its row lock): no need to look
    return case_view(svc, uow, calendar, case, open_tasks, now, read_rating=False)
