"""Read-only views: a case, a task, a worklist, a case's events.

Time-dependent marks (remaining working days, 预警/超期) are computed when read, from the
stored clock, today's date and the calendar: nothing needs rewriting as days pass.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from engine.calendar import WorkdayCalendar
from engine.domain.bundle_metadata import DEFAULT_WARNING_WORKDAYS, ApplicantFields
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, CaseStatus, HumanTask
from engine.domain.task_limits import (
    limit_kind,
    remaining_work_minutes,
    task_hours,
    warning_hours,
)
from engine.domain.timelimits import CaseClock, Timeliness
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.case_repository import WorklistFilter
from engine.persistence.unit_of_work import UnitOfWork

from . import hearing_rights
from .intake_limit import case_intake, task_marks, worse_flag
from .pauses import case_pauses
from .preliminary import status as preliminary_status
from .suspended import suspension_of

if TYPE_CHECKING:
    from .context import Services

MAX_PAGE = 200


def _clock_view(
    clock: CaseClock, today: date, calendar: WorkdayCalendar, warning: int
) -> dict[str, Any]:
    clock = clock.refreshed(calendar)
    return {
        "deadline": clock.deadline.isoformat() if clock.deadline else None,
        "statutory_deadline": clock.statutory_deadline.isoformat()
        if clock.statutory_deadline
        else None,
        "remaining_workdays": clock.remaining(today, calendar),
        "clock": str(clock.state),
        "clock_running": clock.state == "running",
        "deadline_provisional": clock.provisional,
        "statutory_deadline_provisional": clock.statutory_provisional,
        "timeliness": str(clock.timeliness(today, calendar, warning)),
        "time_limit": clock.to_dict(),
        "preliminary": preliminary_status(clock),  # 下级初审 (Art. 43), else None
    }


def _clock_summary(
    clock: CaseClock, warning: int, today: date, calendar: WorkdayCalendar
) -> dict[str, Any]:
    """What a worklist row shows of its case's clock (a part of `_clock_view`)."""
    clock = clock.refreshed(calendar)
    left = clock.remaining(today, calendar)
    return {
        "deadline": clock.deadline.isoformat() if clock.deadline else None,
        "deadline_provisional": clock.provisional,
        "remaining_workdays": left,
        "clock": str(clock.state),
        "timeliness": str(Timeliness.of(left, warning)),
        "preliminary": preliminary_status(clock),  # 下级初审 (Art. 43), else None
    }


def parties_of(version: BundleVersion | None, data: dict[str, Any]) -> dict[str, Any]:
    """The applicant and, for 帮办代办, the agent filing on their behalf, from the case data
    fields the bundle names (bundle.json `applicant`)."""
    fields = version.meta.applicant if version else ApplicantFields()

    def person(name_field: str, id_field: str) -> dict[str, Any] | None:
        name = data.get(name_field)
        return {"name": name, "id_number": data.get(id_field)} if name else None

    return {
        "applicant": person(fields.name_field, fields.id_field),
        "agent": person(fields.agent_field, fields.agent_id_field),
    }


def task_overdue(task: HumanTask, today: date, calendar: WorkdayCalendar) -> bool:
    """Past its own limit: a working day after its deadline has begun."""
    return task.deadline is not None and calendar.count(task.deadline, today).value > 0


def task_remaining(task: HumanTask, today: date, calendar: WorkdayCalendar) -> int | None:
    """Working days left until the task's own deadline (negative once past it)."""
    if task.deadline is None:
        return None
    if today <= task.deadline:
        return calendar.count(today, task.deadline).value
    return -calendar.count(task.deadline, today).value


def _task_view(
    task: HumanTask,
    today: date,
    calendar: WorkdayCalendar,
    version: BundleVersion | None = None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    view = task.to_dict()
    # where its own limit comes from: "own" (`time_limit`), "delivery" (送达, Art. 44), None
    view["limit_kind"] = limit_kind(version, task.element) if task.deadline else None
    view["overdue"] = task_overdue(task, today, calendar)
    # the task's own limit (整改, 回访, a step's time_limit), apart from its case's
    view["remaining_workdays"] = task_remaining(task, today, calendar)
    view["deadline_provisional"] = task.deadline is not None and not calendar.knows(task.deadline)
    # an hour limit (`time_limit: 4h`): due at `due_at`, overdue from that moment on
    view["limit_hours"] = view["remaining_work_minutes"] = None
    if task.due_at is not None and version is not None and now is not None and tz is not None:
        left = remaining_work_minutes(version, task.due_at, now, calendar, tz)
        view["limit_hours"] = task_hours(version, task.element)
        view["remaining_work_minutes"] = left
        view["overdue"] = now >= task.due_at
    return view


def case_view(
    svc: Services,
    uow: UnitOfWork,
    calendar: WorkdayCalendar,
    case: Case,
    open_tasks: list[HumanTask],
    now: datetime,
    read_rating: bool = True,
) -> dict[str, Any]:
    """The case as the API shows it. Only a completed case can have a rating (`follow_ups.rate`
    refuses others, and a case never leaves that status), so only then is it read; a caller
    that knows the case was not completed before its transaction began passes
    `read_rating=False`."""
    today = svc.today(now)
    version, _ = svc.runtimes.cached(case.bundle_version_id)
    warning = version.time_policy.warning if version else DEFAULT_WARNING_WORKDAYS

    def intake_marks(task: HumanTask) -> dict[str, Any]:
        return task_marks(svc, version, task, case.clock, today, calendar)

    return {
        "id": case.id,
        "bundle": case.bundle_key,
        "version": case.version,
        "status": str(case.status),
        "outcome": case.outcome,
        **parties_of(version, case.data),
        "data": case.data,
        "tasks": [  # the intake task with its Art. 32 limit while it runs (intake_limit.py)
            {**_task_view(t, today, calendar, version, now, svc.tz), **intake_marks(t)}
            for t in open_tasks
        ],
        **_clock_view(case.clock, today, calendar, warning),
        "certificates": [c.to_dict(today) for c in uow.certificates.for_case(case.id)]
        if case.has_certificates
        else [],
        "rating": uow.ratings.for_case(case.id)
        if read_rating and case.status == CaseStatus.COMPLETED
        else None,
        "created_by": case.created_by,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "ended_at": case.ended_at.isoformat() if case.ended_at else None,
        "suspension": suspension_of(uow, case),  # 挂起: why, by whom, since when; else None
        # Art. 32: the intake limit while it runs, or the deemed acceptance; else None
        "intake": case_intake(svc, version, case.clock, open_tasks, today, calendar),
    }


def load_case_view(svc: Services, uow: UnitOfWork, case: Case) -> dict[str, Any]:
    svc.runtimes.get(uow, case.bundle_version_id)
    return case_view(
        svc, uow, svc.calendars.get(uow), case, uow.tasks.open_for_case(case.id), svc.clock()
    )


def get_case(svc: Services, user: User, case_id: int, pauses: bool = False) -> dict[str, Any]:
    """The case as the API shows it; with `pauses`, its clock's pauses too (GET /cases/ID)."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        view = load_case_view(svc, uow, case)
        if pauses:  # 计时暂停记录: each pause of the clock, its kind and length (Art. 45)
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            view["pauses"] = case_pauses(uow.cases.events(case_id), version, svc.tz)
        return view


def get_task(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看任务")
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        case = uow.cases.get(task.case_id)
        version = svc.runtimes.get(uow, case.bundle_version_id)[0] if case else None
        now, calendar = svc.clock(), svc.calendars.get(uow)
        today = svc.today(now)
        view = _task_view(task, today, calendar, version, now, svc.tz)
        if case is not None:  # the intake task's Art. 32 limit while it runs
            view.update(task_marks(svc, version, task, case.clock, today, calendar))
        return view


FLAGS = ("normal", "warning", "overdue")
CLAIMED = ("all", "mine", "unclaimed")
# 预警/超期 need the working-day calendar and a name search has no index: SQL cannot pick those
# tasks. With either filter a page reads the worklist in batches and keeps the tasks that match,
# reading at most SCAN tasks; when it stops early, its `next` continues where the reading stopped.
SCAN = 2000
SCAN_BATCH = 250
MAX_SEARCH = 100
# the case data fields a worklist reads with its tasks (a bundle may name others: read then)
PARTY_COLUMNS = tuple(sorted(ApplicantFields().people))


def _worklist_filter(
    uow: UnitOfWork, bundle: str | None, element: str | None, claimed: str, case_id: int | None
) -> WorklistFilter | None:
    """The filter for the repository; None when nothing can match (an unknown bundle)."""
    versions: tuple[int, ...] | None = None
    if bundle:
        found = uow.tasks.bundle_versions(bundle)
        if not found:
            return None
        versions = tuple(found)
    return WorklistFilter(
        version_ids=versions, element=element or None, claimed=claimed, case_id=case_id
    )


def _matches(view: dict[str, Any], flag: str | None, name: str | None) -> bool:
    """Whether a worklist row has the flag and the applicant (or agent) asked for: part of the
    name, or the whole id number."""
    if flag is not None and view["flag"] != flag:
        return False
    if name is None:
        return True
    wanted = name.casefold()
    for party in (view["case"]["applicant"], view["case"]["agent"]):
        if party is None:
            continue
        if wanted in str(party.get("name") or "").casefold():
            return True
        if wanted == str(party.get("id_number") or "").casefold():
            return True
    return False


def worklist(
    svc: Services,
    user: User,
    limit: int = 50,
    after: str | None = None,
    bundle: str | None = None,
    element: str | None = None,
    flag: str | None = None,
    claimed: str = "all",
    search: str | None = None,
) -> dict[str, Any]:
    """The open tasks the user may work on, each with its case's deadline and 预警/超期 mark,
    narrowed by bundle key, task element, flag (normal/warning/overdue), claimed
    (all/mine/unclaimed) and a search (a case number, or part of the applicant's or agent's name,
    or an exact id number). With a flag or a name, `scanned` says how many tasks were read."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员有待办任务")
    problems = []
    if not 1 <= limit <= MAX_PAGE:
        problems.append({"message": f"limit 应在 1 到 {MAX_PAGE} 之间", "field": "limit"})
    if flag is not None and flag not in FLAGS:
        problems.append({"field": "flag", "message": "flag 应为 normal、warning 或 overdue"})
    if claimed not in CLAIMED:
        problems.append({"field": "claimed", "message": "claimed 应为 all、mine 或 unclaimed"})
    search = (search or "").strip() or None
    if search is not None and len(search) > MAX_SEARCH:
        problems.append({"field": "q", "message": f"查询内容不超过 {MAX_SEARCH} 个字"})
    if problems:
        raise Invalid(
            "分页大小无效" if problems[0]["field"] == "limit" else "筛选条件无效", problems
        )
    digits = search is not None and search.isascii() and search.isdigit()  # not "²", "١"
    case_id = int(search) if search and digits and len(search) <= 12 else None
    name = search if search and case_id is None else None
    scanning = flag is not None or name is not None
    now = svc.clock()
    items: list[dict[str, Any]] = []
    next_after: str | None = None
    scanned = 0
    with svc.uow() as uow:
        where = _worklist_filter(uow, bundle, element, claimed, case_id)
        calendar = svc.calendars.get(uow)
        cursor = after
        while where is not None:
            # the first read is a page's worth (most rows match), later ones bigger
            batch = max(limit + 1, SCAN_BATCH) if scanned else limit + 1
            tasks, cases = uow.tasks.worklist_with_cases(user, batch, cursor, where, PARTY_COLUMNS)
            views = _worklist_rows(svc, uow, calendar, now, tasks, cases)
            if not scanning:
                items = views[:limit]
                next_after = tasks[limit - 1].id if len(tasks) > limit else None
                break
            full = False
            for view in views:
                scanned += 1
                if not _matches(view, flag, name):
                    continue
                if len(items) == limit:  # one more exists: the page ends at the last shown
                    next_after, full = items[-1]["id"], True
                    break
                items.append(view)
            if full or len(tasks) < batch:
                break  # the page is full, or nothing more to read
            cursor = tasks[-1].id
            if scanned >= SCAN:
                next_after = cursor  # stopped reading: the next page continues from here
                break
    found: dict[str, Any] = {"tasks": items, "next": next_after}
    if scanning:
        found["scanned"] = scanned
    return found


def _worklist_rows(
    svc: Services,
    uow: UnitOfWork,
    calendar: WorkdayCalendar,
    now: datetime,
    tasks: list[HumanTask],
    info: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Each task as the worklist shows it: the task, its case's clock, flag, bundle, applicant.
    `info`: its cases as TaskRepository.worklist_cases gives them, with PARTY_COLUMNS."""
    versions: dict[int, BundleVersion] = {}
    fields = set(PARTY_COLUMNS)
    case_ids = {t.case_id for t in tasks}
    wanted = set(fields)
    for vid in {i["version_id"] for i in info.values()}:
        versions[vid] = svc.runtimes.get(uow, vid)[0]
        wanted |= set(versions[vid].meta.applicant.people)
    if wanted != fields:  # a bundle keeps its applicant in other fields: read those too
        info = uow.tasks.worklist_cases(case_ids, tuple(sorted(wanted)))
    today = svc.today(now)
    warnings = {vid: v.time_policy.warning for vid, v in versions.items()}
    clocks: dict[tuple[CaseClock, int], dict[str, Any]] = {}  # cases of a page often share one
    rows = []
    for task in tasks:
        case = info[task.case_id]
        version = versions[case["version_id"]]
        view = _task_view(task, today, calendar, version, now, svc.tz)
        view.update(task_marks(svc, version, task, case["clock"], today, calendar))  # Art. 32
        if version.time_policy.hearing is not None:  # 听证 (Arts. 46–47): waiting on it?
            view["hearing"] = hearing_rights.task_mark(uow, version, task, today)
        key = (case["clock"], warnings[version.id])
        case_clock = clocks.get(key)
        if case_clock is None:
            case_clock = clocks[key] = _clock_summary(*key, today, calendar)
        parties = parties_of(version, case["fields"])
        view["case"] = {
            **case_clock,
            "id": task.case_id,
            "bundle": version.key,
            "bundle_name": version.name,
            "status": case["status"],
            "received_at": case["created_at"].isoformat(),
            **parties,
        }
        warning = warnings[version.id]
        view["flag"] = worse_flag(_task_flag(view, case_clock, warning, version).value, view)
        rows.append(view)
    return rows


def _task_flag(
    task: dict[str, Any], case_clock: dict[str, Any], warning: int, version: BundleVersion
) -> Timeliness:
    """The worse of the task's own limit and its case's; a stopped case clock (a 整改 or 回访
    task after 办结) does not count: the task's own limit is the one running. An hour limit's
    预警: at most `time_limits.warning_hours` working hours left."""
    if task["overdue"]:
        return Timeliness.OVERDUE
    minutes = task["remaining_work_minutes"]
    if minutes is not None:
        margin = warning_hours(version) * 60
        own = Timeliness.WARNING if margin and minutes <= margin else Timeliness.NORMAL
    else:
        own = Timeliness.of(task["remaining_workdays"], warning)
    if case_clock["clock"] == "stopped":
        return own
    flags = (own, Timeliness(case_clock["timeliness"]))
    for flag in (Timeliness.OVERDUE, Timeliness.WARNING):
        if flag in flags:
            return flag
    return Timeliness.NORMAL


def events(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以查看办件日志")
    with svc.uow() as uow:
        uow.cases.existing(case_id)
        return [e.to_dict() for e in uow.cases.events(case_id)]
