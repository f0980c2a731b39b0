"""好差评 and the tasks the engine itself opens (督办, 整改, 回访), outside the diagram.

Every service is rated on the national five levels after 办结; 有差评必整改: 不满意 and
非常不满意 open a rectification (整改) task with a deadline, and after it a follow-up (回访)
with the applicant. The applicant rates with the case number and the code on the receipt.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from engine.domain import access_codes
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.ratings import RatingLevel
from engine.domain.throttle import CODE_ADDRESS, CODE_CASE, TooManyAttempts
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

from . import throttle
from .case_access import require_window
from .deadlines import schedule_task_check
from .queries import load_case_view
from .submissions import check_values

if TYPE_CHECKING:
    from .context import Services

DEFAULT_FOLLOW_UP_WORKDAYS = 5


def new_access_code() -> str:
    """The code printed on the applicant's receipt: 12 characters in groups of four
    (engine.domain.access_codes)."""
    return access_codes.new_code()


def access_hash(svc: Services, case_id: int, code: str) -> str:
    """What is stored of a new code: keyed with the server secret, never the code itself."""
    return access_codes.keyed_hash(svc.secret_key, case_id, code)


WRONG_CODE = "办件编号或查询码不正确"
CODE_SHAPE = "查询码为受理回执上的 12 位字母和数字 (如 7KQM-X4TD-9HWN), 短横线和空格可省略"


def parse_code(code: object) -> str:
    """The code as given, checked for its shape: a missing or malformed code is a 422 (it
    says nothing about any case) and is not counted as a guess."""
    if not isinstance(code, str) or not code.strip():
        raise Invalid("请提供查询码", [{"message": CODE_SHAPE, "field": "code"}])
    normalised = access_codes.normalise(code)
    if len(code) > 64 or not access_codes.well_formed(normalised):
        raise Invalid("查询码格式不正确", [{"message": CODE_SHAPE, "field": "code"}])
    return normalised


def check_access(svc: Services, case: Case, code: object) -> None:
    if not isinstance(code, str) or not access_codes.matches(
        case.access_hash, svc.secret_key, case.id, code
    ):
        raise Forbidden(WRONG_CODE)


def verify_access(svc: Services, case_id: int, code: object, address: str) -> None:
    """The applicant's code for the case, throttled per case and per address
    (engine.services.throttle); an unknown case number fails like a wrong code, and counts
    alike, so nobody learns which numbers exist."""
    given = parse_code(code)
    attempt = throttle.keys((CODE_CASE, case_id), (CODE_ADDRESS, address))
    throttle.begin(svc, attempt, "查询码验证")
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
    stored = None if case is None else case.access_hash
    if not access_codes.matches(stored, svc.secret_key, case_id, given):
        blocked = throttle.failed(svc, attempt)
        if blocked is not None:
            refused = throttle.too_many(svc, "查询码验证", blocked, svc.clock())
            raise TooManyAttempts(f"{WRONG_CODE}。{refused.message}", refused.retry_after)
        raise Forbidden(WRONG_CODE)
    throttle.succeeded(svc, attempt, reset=frozenset())


def _rating_policy(version: BundleVersion) -> tuple[str, int]:
    rating = version.meta.rating
    group = rating.rectification_group or version.time_policy.escalation_group or "supervisors"
    return group, rating.rectification_workdays


def _open_task(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    kind: TaskKind,
    name: str,
    group: str,
    workdays: int,
    event: EventType,
) -> HumanTask:
    now = case.updated_at
    calendar = svc.calendars.get(uow)
    task = HumanTask(
        id=str(uuid.uuid4()),
        case_id=case.id,
        element=str(kind),
        name=name,
        groups=(group,),
        form=None,
        kind=kind,
        created_at=now,
        deadline=calendar.add(svc.today(now), workdays).value,
    )
    uow.tasks.add(task)
    schedule_task_check(svc, uow, task, calendar, now)
    case.record(event, "system", now, task, {"group": group, "deadline": str(task.deadline)})
    return task


def rate(
    svc: Services,
    case_id: int,
    level: object,
    comment: object,
    *,
    user: User | None = None,
    code: object = None,
) -> dict[str, Any]:
    """Record the rating of a concluded case: by the applicant (with the receipt code) or at
    the window by a clerk (the evaluation pad)."""
    parsed = RatingLevel.parse(level)
    if parsed is None:
        raise Invalid(
            "评价等级无效",
            [
                {
                    "field": "level",
                    "element": None,
                    "message": "应为 1–5 或 非常满意/满意/基本满意/不满意/非常不满意",
                }
            ],
        )
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise Invalid(
            "评价内容无效",
            [{"field": "comment", "element": None, "message": "应为不超过 2000 字的文本"}],
        )
    check_values({"comment": comment}, None, svc.limits)
    if user is not None and not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口人员可以代为登记评价")
    with svc.uow(write=True) as uow:
        case = uow.cases.get(case_id, lock=True)
        if case is None:
            if user is None:  # the public learns nothing about which numbers exist
                raise Forbidden("办件编号或查询码不正确")
            raise NotFound(f"办件 {case_id} 不存在")
        if user is None:
            check_access(svc, case, code)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        if user is not None:
            require_window(uow, version, case, user)
        if case.status != CaseStatus.COMPLETED:
            raise Conflict("办件办结后才能评价")
        # One rating a channel: the window's, recorded for the applicant at the evaluation
        # pad, never takes away the applicant's own, which then stands as the case's rating.
        rated = uow.ratings.channels(case_id)
        if user is None and "online" in rated:
            raise Conflict("该办件已评价")
        if user is not None and "online" in rated:
            raise Conflict("申请人已自行评价, 窗口不再登记评价")
        if user is not None and "window" in rated:
            raise Conflict("该办件已登记窗口评价")
        now = svc.clock()
        case.updated_at = now
        channel, by = ("window", user.name) if user else ("online", "applicant")
        uow.ratings.add(case_id, int(parsed), comment or "", channel, by, now)
        case.record(
            EventType.RATED,
            by,
            now,
            data={
                "level": int(parsed),
                "label": parsed.label,
                "comment": comment or "",
                "channel": channel,
            },
        )
        under_way = any(t.kind == TaskKind.RECTIFICATION for t in uow.tasks.open_for_case(case_id))
        if parsed.is_bad and not under_way:  # one rectification at a time covers both ratings
            group, days = _rating_policy(version)
            _open_task(
                svc,
                uow,
                case,
                TaskKind.RECTIFICATION,
                f"差评整改: {parsed.label}",
                group,
                days,
                EventType.RECTIFICATION_OPENED,
            )
        uow.cases.save(case)
        uow.commit()
    return {
        "case_id": case_id,
        "level": int(parsed),
        "label": parsed.label,
        "rectification": parsed.is_bad,
    }


def complete_engine_task(
    svc: Services, uow: UnitOfWork, case: Case, task: HumanTask, user: User, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a 督办, 整改 or 回访 task; a finished 整改 opens the 回访."""
    check_values(data, task.element, svc.limits)
    now = svc.clock()
    case.updated_at = now
    task.end(TaskStatus.COMPLETED, user.name, now)
    uow.tasks.save(task)
    case.record(
        EventType.TASK_COMPLETED,
        user.name,
        now,
        task,
        {"form": data, "opened": [], "kind": str(task.kind)},  # not a step of the diagram
    )
    if task.kind == TaskKind.RECTIFICATION:
        _open_task(
            svc,
            uow,
            case,
            TaskKind.FOLLOW_UP,
            "整改回访",
            task.groups[0],
            DEFAULT_FOLLOW_UP_WORKDAYS,
            EventType.FOLLOW_UP_OPENED,
        )
    uow.cases.save(case)
    return load_case_view(svc, uow, case)


def public_progress(svc: Services, case_id: int, code: object, address: str = "") -> dict[str, Any]:
    """办件进度 for the applicant: what stage, how long it may take, the certificates. No names
    of staff, no form data. The code is checked by `verify_access` (throttled)."""
    verify_access(svc, case_id, code, address)
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        view = load_case_view(svc, uow, case)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    return {
        "id": view["id"],
        "bundle": version.name,
        "status": view["status"],
        "outcome": view["outcome"],
        "received_at": view["created_at"],
        "steps": [t["name"] for t in view["tasks"] if t["kind"] == "bpmn"],
        "deadline": view["deadline"],
        "remaining_workdays": view["remaining_workdays"],
        "clock": view["clock"],
        "certificates": [
            {k: c[k] for k in ("number", "title", "status", "issued_on", "expires_on")}
            for c in view["certificates"]
        ],
        "rating": None
        if view["rating"] is None
        else {  # without the clerk's name
            k: v for k, v in view["rating"].items() if k != "rated_by"
        },
    }
