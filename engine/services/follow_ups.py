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
from engine.domain.form_fields import field_schema
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.ratings import RatingLevel
from engine.domain.throttle import CODE_ADDRESS, CODE_CASE, TooManyAttempts
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.forms import validate_form_data
from engine.forms.limits import value_problems
from engine.persistence.unit_of_work import UnitOfWork

from . import messages, throttle
from .case_access import require_window
from .deadlines import schedule_task_check
from .queries import load_case_view
from .submissions import INVALID, check_values

if TYPE_CHECKING:
    from .context import Services

DEFAULT_FOLLOW_UP_WORKDAYS = 5

# The forms of the tasks the engine opens for a bad rating (no diagram declares them): rendered
# by the task page's form macro like any form, checked here on completion (page and API alike).
RECTIFICATION_FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "差评整改",
    "description": "针对申请人的差评查明原因、落实整改, 写明整改措施和结果; 整改后转回访。",
    "type": "object",
    "properties": {
        "measures": {"type": "string", "title": "整改措施", "minLength": 1, "maxLength": 2000},
        "result": {"type": "string", "title": "整改结果", "minLength": 1, "maxLength": 2000},
        "attachment": {
            "type": "string",
            "format": "data-url",
            "title": "整改材料",
            "description": "整改报告、照片等, 2 MB 以内",
        },
    },
    "required": ["measures", "result"],
    "additionalProperties": True,  # other fields: refused by name (_check_engine_form)
}
FOLLOW_UP_FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "整改回访",
    "description": "向申请人回访整改情况, 记录申请人是否满意和申请人的原话。",
    "type": "object",
    "properties": {
        "applicant_satisfied": {
            "type": "boolean",
            "title": "回访结果",
            "oneOf": [{"const": True, "title": "满意"}, {"const": False, "title": "不满意"}],
        },
        "applicant_answer": {
            "type": "string",
            "title": "申请人意见",
            "description": "申请人的原话; 不满意时必填",
            "x-show": "always",  # asked whatever the answer, required when 不满意
            "minLength": 1,
            "maxLength": 2000,
        },
        "visited_on": {"type": "string", "format": "date", "title": "回访日期"},
    },
    "required": ["applicant_satisfied"],
    "allOf": [
        {
            "if": {
                "properties": {"applicant_satisfied": {"const": False}},
                "required": ["applicant_satisfied"],
            },
            "then": {"required": ["applicant_answer"]},  # 不满意: what they said
        }
    ],
    "additionalProperties": True,  # other fields: refused by name (_check_engine_form)
}
_ENGINE_FORMS = {
    TaskKind.RECTIFICATION: RECTIFICATION_FORM,
    TaskKind.FOLLOW_UP: FOLLOW_UP_FORM,
}


def engine_form(kind: object) -> dict[str, Any] | None:
    """The form of an engine task of `kind` (整改, 回访); None for 督办 and diagram tasks."""
    return next((f for k, f in _ENGINE_FORMS.items() if str(k) == str(kind)), None)


def _check_engine_form(task: HumanTask, data: dict[str, Any], svc: Services) -> None:
    schema = engine_form(task.kind)
    if schema is None:
        check_values(data, task.element, svc.limits)
        return
    declared = schema["properties"]
    problems = [
        {"field": key, "element": task.element, "message": "本表单没有此字段, 不能填写"}
        for key in data
        if key not in declared
    ]
    problems += [
        {"field": p.field, "element": task.element, "message": p.message}
        for p in value_problems(
            {k: v for k, v in data.items() if k in declared},
            lambda name: field_schema(schema, name),
            svc.limits,
        )
    ]
    reported = {p["field"] for p in problems}
    problems += [
        e.to_dict() | {"element": task.element}
        for e in validate_form_data(schema, data)
        if e.field not in reported
    ]
    if problems:
        raise Invalid(INVALID, problems)


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
    messages.tasks_opened(uow, case, "", [task], "system")  # the group's 消息中心 (issue 17 · G)
    schedule_task_check(svc, uow, task, calendar, now)
    case.record(event, "system", now, task, {"group": group, "deadline": str(task.deadline)})
    return task


def posted_level(raw: str | None) -> object:
    """A level as a page posts it: the digit of the radio button ("1"–"5") as the number."""
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) == 1 else text


def rate(
    svc: Services,
    case_id: int,
    level: object,
    comment: object,
    *,
    user: User | None = None,
    code: object = None,
    code_checked: bool = False,
) -> dict[str, Any]:
    """Record the rating of a concluded case: by the applicant (with the receipt code) or at
    the window by a clerk (the evaluation pad). `code_checked`: the caller verified the
    applicant's code already (the public progress page, within its sign-in-free session)."""
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
        if user is None and not code_checked:
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
    """Complete a 督办, 整改 or 回访 task; a finished 整改 opens the 回访. 整改 and 回访 have
    forms (`engine_form`); a 督办 takes any object."""
    _check_engine_form(task, data, svc)
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


def complaint(svc: Services, case_id: int) -> dict[str, Any] | None:
    """What a 整改 or 回访 task answers: the latest bad rating of the case (level, comment,
    channel, when) and, once done, the 整改 as recorded."""
    with svc.uow() as uow:
        events = uow.cases.events(case_id)
    bad = [
        e
        for e in events
        if e.type == EventType.RATED
        and (level := RatingLevel.parse(e.data.get("level"))) is not None
        and level.is_bad
    ]
    if not bad:
        return None
    rated = bad[-1]
    done = [
        e.data.get("form") or {}
        for e in events
        if e.type == EventType.TASK_COMPLETED
        and e.data.get("kind") == str(TaskKind.RECTIFICATION)
        and e.seq > rated.seq
    ]
    return {
        "level": rated.data.get("level"),
        "label": rated.data.get("label"),
        "comment": rated.data.get("comment") or "",
        "channel": rated.data.get("channel"),
        "at": rated.at.isoformat(),
        "rectified": None
        if not done
        else {k: done[-1].get(k) for k in ("measures", "result") if done[-1].get(k)},
    }
