"""Getting a case out of an incident once its cause is fixed (administrators only):

- `retry`: the clerk's failed step (recorded with the incident) is carried out again, as the
  completion of the same task, with corrected values for fields of that task's form if given
  (checked like the clerk's): `task_completed` (actor the administrator, 代为重试 for the clerk)
  and `incident_resumed`, in one transaction; if it fails again the case stays in error with a
  new `incident_raised`, and the answer (409) names the error;
- `correct_data`: fields of the case's data set to corrected values (`case_data_corrected`, old
  and new values; re-executed by the audit); the case stays in error until retried or resumed;
- `check_migration` / `migrate`: the case moved to another (published or superseded) version
  of its bundle: every element it waits at, and every element still in its workflow tree, must
  map (same id unless the mapping says otherwise) to an element of the same kind there, checked
  before anything changes; then in one transaction its workflow is migrated
  (engine/bpmn/migration.py, SpiffWorkflow's own migration with the mapping's alignment), its
  open tasks re-synced, `case_migrated` {from, to, mapping} recorded, its status running again.
  The audit re-executes a migrated case across the move (engine/services/audit.py).
"""

from __future__ import annotations

from typing import Any

from engine.bpmn import migration
from engine.bpmn.assignment import is_expression
from engine.bpmn.errors import StepFailed
from engine.domain.audit import canonical_data
from engine.domain.bundle_lifecycle import VersionStatus
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.users import User
from engine.errors import Conflict, Invalid, NotFound
from engine.persistence.incident_queries import latest_events, retarget_task, set_case_version
from engine.persistence.unit_of_work import UnitOfWork

from . import incidents
from .cases import _certificate_action
from .context import Services, Step
from .steps import engine_step, record_step, retrying, save, step_failed
from .submissions import check_case_data, check_submission, check_values

RETRY_NOTE = "代为重试"


def _object(value: Any, what: str, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        message = f"{what}必须是 JSON 对象"
        raise Invalid(message, [{"message": message, "field": field}])
    return value


def _failed_step(uow: UnitOfWork, case: Case) -> dict[str, Any]:
    """The clerk's step whose failure the case's last incident records."""
    last = latest_events(uow.conn, case.id, (str(EventType.INCIDENT_RAISED),), 1)
    if not last or "task_id" not in last[0].data:
        raise Conflict(
            f"办件 {case.id} 的出错不是办理某个任务时发生的, 没有可重试的步骤; "
            "请查明原因后恢复办理或迁移到新版本"
        )
    return last[0].data


def retry(svc: Services, user: User | str, case_id: int, corrections: Any = None) -> dict[str, Any]:
    """Carry out the failed step again (see the module); the case as the API shows it."""
    actor = incidents.require_admin(user)
    corrected = _object(corrections, "更正的数据", "data")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = incidents.case_in_error(uow, case_id)
            failed = _failed_step(uow, case)
            task = uow.tasks.get(str(failed["task_id"]))
            if task is None or task.status != TaskStatus.OPEN or task.kind != TaskKind.BPMN:
                raise Conflict(f"出错时办理的任务 {failed['task_id']} 已不在待办中, 无法重试")
            version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            submitted = {**(failed.get("form") or {}), **corrected}
            check_submission(version, task.form, submitted, task.element, svc.limits)
            merged = canonical_data({**case.data, **submitted})
            check_case_data(version, merged, task.element, svc.limits)
            now = svc.clock()
            clerk = str(failed.get("clerk") or "")
            workflow = runtime.load(case.state)
            try:
                with engine_step(svc, uow, case):
                    workflow.complete(task.id, merged, at=now)
            except StepFailed as err:
                if not incidents.is_incident(err):
                    raise step_failed(err) from None
                incidents.step_incident(
                    uow, case, task, clerk, submitted, merged, err, now, retried_by=actor
                )
                uow.commit()
                raise Conflict(f"重试仍然失败, 办件仍为出错: {err.message}") from None
            case.data = merged
            case.status = CaseStatus.RUNNING
            task.end(TaskStatus.COMPLETED, actor, now)
            uow.tasks.save(task)
            this_step = Step(svc, uow, case, version, workflow, actor, now)

            def then() -> None:
                _certificate_action(this_step, task, submitted)
                case.record(
                    EventType.INCIDENT_RESUMED,
                    actor,
                    now,
                    data={"retried": task.element, "task_id": task.id},
                )

            stored = [t for t in uow.tasks.open_for_case(case.id) if t.id != task.id]
            view = record_step(
                this_step,
                EventType.TASK_COMPLETED,
                task,
                {
                    "form": submitted,
                    "retry": {"by": actor, "for": clerk, "note": RETRY_NOTE},
                    "corrected": sorted(corrected),
                },
                then=then,
                stored_open=stored,
            )
            incidents.reschedule_timers(uow, case, workflow.pending_timers(), now)
            uow.commit()
            return view

    return retrying(step)


def correct_data(svc: Services, user: User | str, case_id: int, fields: Any) -> dict[str, Any]:
    """Set fields of a case in error to corrected values (see the module)."""
    actor = incidents.require_admin(user)
    given = _object(fields, "更正的数据", "data")
    if not given:
        raise Invalid("请给出要更正的字段", [{"message": "请给出要更正的字段", "field": "data"}])
    check_values(given, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = incidents.case_in_error(uow, case_id)
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            merged = canonical_data({**case.data, **given})
            check_case_data(version, merged, None, svc.limits)
            changes = {
                k: {"old": case.data.get(k), "new": merged[k]}
                for k in sorted(given)
                if case.data.get(k) != merged[k] or k not in case.data
            }
            if not changes:
                return {"case_id": case.id, "changed": []}
            now = svc.clock()
            case.data = merged
            case.updated_at = now
            case.record(EventType.CASE_DATA_CORRECTED, actor, now, data={"fields": changes})
            save(uow, case)
            uow.commit()
            return {"case_id": case.id, "changed": sorted(changes), "data": case.data}

    return retrying(step)


def _mapping(value: Any) -> dict[str, str]:
    mapping = _object(value, "环节对应关系", "mapping")
    bad = [k for k, v in mapping.items() if not isinstance(v, str) or not v or len(v) > 200]
    if bad:
        message = f"环节对应关系中 {', '.join(map(str, bad))} 的目标应为环节标识 (文本)"
        raise Invalid(message, [{"message": message, "field": "mapping"}])
    return {str(k): str(v) for k, v in mapping.items()}


def _version_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        message = "请给出要迁移到的版本号 (正整数)"
        raise Invalid(message, [{"message": message, "field": "version"}])
    return value


def _plan(
    svc: Services, uow: UnitOfWork, case: Case, number: int, mapping: dict[str, str]
) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The target version, its runtime, the case's workflow and the check's answer."""
    if case.status not in (CaseStatus.RUNNING, CaseStatus.ERROR):
        raise Conflict(f"办件状态为{case.status.label}, 不能迁移")
    if number == case.version:
        raise Conflict(f"办件已在第 {number} 版上")
    target = uow.bundles.get(case.bundle_key, number)
    if target is None:
        raise NotFound(f"事项包 {case.bundle_key} 没有第 {number} 版")
    status = uow.bundles.version_status(case.bundle_key, number)
    _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    workflow = runtime.load(case.state)
    problems: list[dict[str, Any]] = []
    if status in (VersionStatus.DRAFT, VersionStatus.DISCARDED):
        shown = status.label if status is not None else "未知"
        problems.append(
            {"element": None, "message": f"第 {number} 版{shown}, 不能迁移到它 (须已发布)"}
        )
    _, new_runtime = svc.runtimes.get(uow, target.id)
    known = set(runtime.element_names()) | {a.element for a in migration.active_elements(workflow)}
    for old in sorted(mapping):
        if old not in known:
            problems.append({"element": old, "message": f"对应关系中的 {old} 不是本办件流程的环节"})
    problems += migration.check_migration(workflow, new_runtime.specs, mapping, number)
    answer = {
        "case_id": case.id,
        "from": {"version": case.version, "version_id": case.bundle_version_id},
        "to": {"version": number, "version_id": target.id},
        "mapping": mapping,
        "active": [a.to_dict() for a in migration.active_elements(workflow)],
        "problems": problems,
        "ok": not problems,
    }
    return target, new_runtime, workflow, answer


def check_migration(
    svc: Services, user: User | str, case_id: int, version: Any, mapping: Any = None
) -> dict[str, Any]:
    """Whether the case can move to `version` under `mapping`, and what it waits at; nothing
    changes."""
    incidents.require_admin(user)
    number, given = _version_number(version), _mapping(mapping)
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        return _plan(svc, uow, case, number, given)[3]


def migrate(
    svc: Services, user: User | str, case_id: int, version: Any, mapping: Any = None
) -> dict[str, Any]:
    """Move the case to `version` (see the module): refused (422, every problem listed) when
    the check finds any; else the case as the API shows it."""
    actor = incidents.require_admin(user)
    number, given = _version_number(version), _mapping(mapping)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            target, new_runtime, workflow, plan = _plan(svc, uow, case, number, given)
            if plan["problems"]:
                raise Invalid(
                    f"不能迁移到第 {number} 版: {plan['problems'][0]['message']}",
                    [{**p, "field": "mapping"} for p in plan["problems"]],
                )
            now = svc.clock()
            try:
                with engine_step(svc, uow, case):
                    migration.migrate(workflow, new_runtime.specs, given, now)
            except StepFailed as err:
                raise Conflict(f"迁移失败: {err.message}") from None
            set_case_version(uow.conn, case.id, target.id)
            case.bundle_version_id, case.version = target.id, target.version
            if case.status == CaseStatus.ERROR:
                case.status = CaseStatus.RUNNING
            stored = uow.tasks.open_for_case(case.id)
            _retarget(uow, target, workflow, stored)
            this_step = Step(svc, uow, case, target, workflow, actor, now)
            view = record_step(
                this_step,
                EventType.CASE_MIGRATED,
                data={"from": plan["from"], "to": plan["to"], "mapping": given},
                stored_open=stored,
            )
            incidents.reschedule_timers(uow, case, workflow.pending_timers(), now)
            uow.commit()
            return view

    return retrying(step)


def _retarget(uow: UnitOfWork, version: Any, workflow: Any, stored: list[HumanTask]) -> None:
    """Open tasks that stay ready keep their ids; their element and what the new version says
    of it (name, form, groups) are brought up to date."""
    ready = {t.id: t for t in workflow.ready_tasks()}
    for task in stored:
        now_ready = ready.get(task.id)
        if task.kind != TaskKind.BPMN or now_ready is None:
            continue
        info = version.human_tasks.get(now_ready.element)
        name = info.name if info else now_ready.name
        groups = tuple(info.groups) if info else ()
        if any(is_expression(g) for g in groups):
            groups = task.groups  # evaluated on the case data when the task opened: kept
        users = tuple(info.candidate_users) if info else ()
        form = info.form if info else None
        if (task.element, task.name, task.groups, task.candidate_users, task.form) == (
            now_ready.element,
            name,
            groups,
            users,
            form,
        ):
            continue
        retarget_task(uow.conn, task.id, now_ready.element, name, form, list(groups), list(users))
        task.element, task.name, task.groups, task.form = now_ready.element, name, groups, form
        task.candidate_users = users
