"""What every engine step shares: retrying lost races, and recording the step's outcome.

A step locks its case row (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so
two clerks completing parallel tasks of one case queue rather than overwrite each other; the
case's revision is checked again on write, and a lost race is retried from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from engine.bpmn.assignment import task_assignee, task_groups
from engine.bpmn.errors import StepFailed
from engine.bpmn.functions import working_days
from engine.bpmn.ids import task_ids
from engine.domain.audit import canonical_data
from engine.domain.bundle_versions import HumanTaskInfo
from engine.domain.jobs import JobKind
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.errors import Conflict, Invalid
from engine.persistence.db import TransientError
from engine.persistence.unit_of_work import UnitOfWork
from engine.persistence.writes import StaleWrite

from . import hearing_rights, intake_limit
from .context import Services, Step
from .deadlines import schedule_task_check, task_limit, update_clock
from .messages import tasks_opened
from .multi_sign import instance_people, item_reference, signs_ended
from .queries import case_view

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


def _assignee(info: HumanTaskInfo, case: Case) -> str | None:
    """Who a task opening now is assigned to (engine/bpmn/assignment.py): a step that would
    open a task nobody can work is refused."""
    try:
        return task_assignee(info, case.data, case.created_by)
    except StepFailed as err:
        raise step_failed(err) from None


def _groups(info: HumanTaskInfo, case: Case) -> tuple[str, ...]:
    """The groups of a task opening now (engine/bpmn/assignment.py): `${...}` evaluated on the
    case data; a step that would open a task nobody can work is refused."""
    try:
        return task_groups(info, case.data, case.created_by)
    except StepFailed as err:
        raise step_failed(err) from None


def _sync_tasks(
    step: Step,
    stored_open: list[HumanTask] | None = None,
    assign: Mapping[str, str] | None = None,
) -> tuple[list[HumanTask], list[HumanTask]]:
    """Make the task table match the engine: add newly ready tasks, cancel vanished ones.

    `stored_open`: the case's open tasks as stored now, when the caller has them (read under
    the case lock, in `open_for_case` order, without those this transaction closed); else they
    are read. `assign`: assignees of tasks this step opens, by task id (a task 退回 to whoever
    did it before). Returns the tasks opened by this step and all the case's open tasks after it."""
    uow, case, version, now = step.uow, step.case, step.version, step.now
    ready = {t.id: t for t in step.workflow.ready_tasks()}
    if stored_open is None:
        stored_open = uow.tasks.open_for_case(case.id)
    stored = {t.id: t for t in stored_open}
    opened = []
    for task_id, ready_task in ready.items():
        if task_id in stored:
            continue
        info = version.human_tasks.get(ready_task.element)
        # 会签/或签: an instance's signer or group comes from its item (services/multi_sign.py)
        groups, signer = instance_people(info, ready_task.item, ready_task.element)
        if groups is None and info and ready_task.item is not None:
            groups = info.groups  # an instance whose item names no group: the task's own
        if (
            signer is None
            and info
            and not (assign and assign.get(task_id))
            and not (item_reference(info.assignee) and ready_task.item is not None)
        ):
            signer = _assignee(info, case)  # a user name, or `${reviewer}` on the case data
        # its own limit: a deadline date, and for an hour limit (`4h`) the due moment too
        deadline, due_at = task_limit(
            step.svc, version, ready_task.element, case.data, now, step.calendar
        )
        task = HumanTask(
            id=task_id,
            case_id=case.id,
            element=ready_task.element,
            name=info.name if info else ready_task.name,
            groups=groups if groups is not None else (_groups(info, case) if info else ()),
            form=info.form if info else None,
            assignee=(assign or {}).get(task_id) or signer,
            candidate_users=info.candidate_users if info else (),
            created_at=now,
            deadline=deadline,
            due_at=due_at,
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


def _schedule_timers(step: Step) -> None:
    for timer in step.workflow.pending_timers():
        step.uow.jobs.schedule(
            JobKind.TIMER,
            f"timer:{timer.task_id}",
            timer.due,
            step.now,
            step.case.id,
            {"element": timer.element},
        )


def record_step(
    step: Step,
    event: EventType,
    task: HumanTask | None = None,
    data: dict[str, Any] | None = None,
    then: Callable[[], None] | None = None,
    stored_open: list[HumanTask] | None = None,
    assign: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """After the engine moved: sync tasks, schedule timers, append the event(s), store the case.

    Returns the case as the API shows it. The caller commits. `stored_open`, `assign`: see
    `_sync_tasks`."""
    svc, uow, case, workflow, now = step.svc, step.uow, step.case, step.workflow, step.now
    # what business rule tasks decided in the step, kept in canonical key order like all case data
    case.data = canonical_data({**case.data, **workflow.decisions()})
    case.updated_at = now
    ended = workflow.signs_ended()  # 会签/或签 ended early: their unsigned instances go
    if ended and stored_open is None:
        stored_open = uow.tasks.open_for_case(case.id)
    open_before = {t.id: t.element for t in stored_open or ()} if ended else {}
    opened, open_tasks = _sync_tasks(step, stored_open, assign)
    tasks_opened(uow, case, step.version.name, opened, step.actor, workflow.element_completed)
    for new_task in opened:
        schedule_task_check(
            svc, uow, new_task, step.calendar, now, step.version.time_policy.warning, step.version
        )
        intake_limit.schedule(step, new_task)  # Art. 32: answered within 5 days
    _schedule_timers(step)
    record = {**(data or {}), "opened": [t.element for t in opened]}
    if ended:
        record["signs_ended"] = signs_ended(ended, open_before, open_tasks)
    case.record(event, step.actor, now, task, record)
    # 听证权利告知 when a decision task opens (Art. 47), after the step's own event
    hearing_rights.rights_notified(step, opened)
    if then is not None:
        then()  # what the step sets off besides the engine (issuing certificates...)
    try:
        finished = workflow.is_finished()
    except StepFailed as err:
        raise step_failed(err) from None
    if finished:
        case.status = CaseStatus.COMPLETED
        case.ended_at = now
        end = workflow.end_reached()
        case.outcome = {"element": end[0], "name": end[1]} if end else None
    update_clock(step, open_tasks)
    if finished:
        case.record(EventType.CASE_COMPLETED, step.actor, now, data={"outcome": case.outcome})
    case.state = workflow.dump()
    save(uow, case)
    # a case that was running when this step began cannot have been rated (only a concluded
    # case can be, under its row lock): no need to look
    return case_view(svc, uow, step.calendar, case, open_tasks, now, read_rating=False)
