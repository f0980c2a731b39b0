"""Starting cases and working their tasks: each call is one transaction with its event
(see `steps` for the locking and what every step records)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.bpmn.errors import StepFailed
from engine.bundles.libraries import LIBRARY_REFUSAL, is_library
from engine.domain.audit import canonical_data
from engine.domain.bundle_lifecycle import start_refusal
from engine.domain.bundle_metadata import (
    CANCELS_CERTIFICATE,
    CANCELS_KINDS,
    CERTIFICATE_ITEMS,
    item_codes,
)
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case, CaseStatus, EventType, HumanTask, TaskKind, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.unit_of_work import UnitOfWork

from . import certificates, extension, follow_ups, hearing, incidents, intake, messages, multi_sign
from .case_access import require_canceller
from .context import Services, Step
from .queries import case_view, parties_of
from .steps import engine_step, record_step, retrying, save, step_failed
from .submissions import check_case_data, check_submission, check_values
from .suspended import require_workable


def _require_clerk(user: User) -> None:
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口和审批人员可以办理办件")


def _require_object(data: Any, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Invalid(
            f"{what}必须是 JSON 对象", [{"message": f"{what}必须是 JSON 对象", "field": "data"}]
        )
    return data


def start_case(
    svc: Services, user: User, bundle_key: Any, data: Any, renewal_of: str | None = None
) -> dict[str, Any]:
    """A new case with the start form's data. `renewal_of` (无感续证 only): the certificate the
    case renews, a field the engine sets and no form may."""
    _require_clerk(user)
    if not isinstance(bundle_key, str) or not bundle_key:
        raise Invalid("缺少事项包", [{"message": "请给出事项包标识 bundle", "field": "bundle"}])
    data = _require_object(data, "申请数据")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            found = uow.bundles.start_version(bundle_key)
            if found is None:
                raise NotFound(f"事项包 '{bundle_key}' 不存在")
            name, lifecycle, published = found
            refusal = start_refusal(name, lifecycle)
            if refusal is not None or published is None:  # a draft or a retired bundle
                raise Conflict(refusal or f"事项包「{name}」尚未发布, 不能新建办件")
            version, runtime = svc.runtimes.get(uow, published)
            if is_library(version.metadata):  # its processes are called, not started
                raise Conflict(LIBRARY_REFUSAL)
            check_submission(version, version.start_form, data, version.start_event, svc.limits)
            given = data if renewal_of is None else {**data, "renewal_of": renewal_of}
            check_case_data(version, given, version.start_event, svc.limits)
            signers = multi_sign.diagram_signers(version, runtime)  # 会签 fixed in the diagram
            given = {**given, **signers} if signers else given
            now = svc.clock()
            start_data = canonical_data(given)
            case = Case(
                id=0,
                bundle_key=version.key,
                bundle_version_id=version.id,
                version=version.version,
                status=CaseStatus.RUNNING,
                data=start_data,
                state="",
                revision=0,
                last_seq=0,
                created_by=user.name,
                created_at=now,
                updated_at=now,
            )
            uow.cases.add(case)
            try:
                with engine_step(svc, uow, case):
                    workflow = runtime.start(start_data, at=now)
            except StepFailed as err:
                if not incidents.is_incident(err):
                    raise step_failed(err) from None
                # the process's fault: no case is kept (nothing to retry, the applicant is still
                # at the window); the administrators are told after this rollback
                raise incidents.StartFailed(version.key, version.version, user.name, err) from None
            code = follow_ups.new_access_code()
            case.access_hash = follow_ups.access_hash(svc, case.id, code)
            parties = parties_of(version, given)
            started = {"bundle": version.key, "version": version.version, "data": given}
            if parties["agent"] is not None:  # 帮办代办: the log says who filed for whom
                started["on_behalf_of"] = parties["applicant"]
                started["agent"] = parties["agent"]
            view = record_step(
                Step(svc, uow, case, version, workflow, user.name, now),
                EventType.CASE_STARTED,
                data=started,
                stored_open=[],  # a new case has no tasks yet
            )
            uow.commit()
            svc.live.keep(case, workflow)
            # Shown once, on the receipt: with the case number it lets the applicant follow
            # and rate the case without an account. Only its hash is stored.
            view["access_code"] = code
            return view

    try:
        return retrying(step)
    except incidents.StartFailed as failed:
        raise incidents.start_refused(svc, failed) from None


def _locked(uow: UnitOfWork, task_id: str) -> tuple[Case, HumanTask, list[HumanTask] | None]:
    """The task and its case, with the case row locked for this transaction; and, when the
    task is open, all the case's open tasks (the task among them), read in one statement."""
    found = uow.cases.get_for_task(task_id)  # found through the task, locked, with open tasks
    if found is None:
        raise NotFound(f"任务 {task_id} 不存在")
    case, open_now = found  # read under the lock: they may have changed while we waited
    open_tasks: list[HumanTask] | None = open_now
    task = next((t for t in open_now if t.id == task_id), None)
    if task is None:  # no longer open: read it alone
        open_tasks, task = None, uow.tasks.get(task_id)
    if task is None:
        raise NotFound(f"任务 {task_id} 不存在")
    return case, task, open_tasks


def _claim_step(svc: Services, user: User, task_id: str, claim: bool) -> dict[str, Any]:
    _require_clerk(user)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, _ = _locked(uow, task_id)
            require_workable(uow, case)  # 挂起: nothing is worked until 恢复
            changed = task.claim(user) if claim else task.unclaim(user)
            if changed:
                case.updated_at = svc.clock()
                uow.tasks.save(task)
                kind = EventType.TASK_CLAIMED if claim else EventType.TASK_UNCLAIMED
                case.record(kind, user.name, case.updated_at, task)
                if not claim:  # back in its groups' queue: their other members are told
                    messages.task_returned(uow, case, task, user.name, case.updated_at)
                save(uow, case)
                uow.commit()
            return task.to_dict()

    return retrying(step)


def claim(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    return _claim_step(svc, user, task_id, True)


def unclaim(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    return _claim_step(svc, user, task_id, False)


def complete(svc: Services, user: User, task_id: str, data: Any) -> dict[str, Any]:
    _require_clerk(user)
    data = _require_object(data, "表单数据")

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case, task, open_tasks = _locked(uow, task_id)
            require_workable(uow, case)  # 挂起: nothing is worked until 恢复
            task.check_can_complete(user)
            if task.kind == TaskKind.EXTENSION:  # 延期审批 (Art. 42)
                view = extension.decide(svc, uow, case, task, user, data)
                uow.commit()
                return view
            if task.kind == TaskKind.HEARING:  # 听证 held (Arts. 46–47)
                view = hearing.held(svc, uow, case, task, user, data)
                uow.commit()
                return view
            if task.kind != TaskKind.BPMN:
                view = follow_ups.complete_engine_task(svc, uow, case, task, user, data)
                uow.commit()
                return view
            hearing.require_decidable(svc, uow, case, task)  # 听证 rights first (Art. 47)
            return finish_task(svc, uow, case, task, open_tasks, user.name, data)

    return retrying(step)


def finish_task(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    task: HumanTask,
    open_tasks: list[HumanTask] | None,
    actor: str,
    data: dict[str, Any],
    countersigned_by: str | None = None,
    then: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Complete the open BPMN task `task` in the engine for `actor` with the form `data`
    (checked here), record TASK_COMPLETED and commit; the case view. 后加签 runs it for the
    holder's kept form when the added signer agrees (`countersigned_by`; `then` records the
    signature after the step's events, so that it holds the state the step led to)."""
    case.require_running()
    version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    merged = check_task_form(svc, version, case, task, data)
    now = svc.clock()
    # the workflow as this process left it after the case's last step, if that is still
    # the stored state; else rebuilt from the state (see LiveWorkflows)
    workflow = svc.live.take(case.id, case.state) or runtime.load(case.state)
    try:
        with engine_step(svc, uow, case):
            workflow.complete(task.id, merged, at=now)
    except StepFailed as err:
        if not incidents.is_incident(err):
            raise step_failed(err) from None
        # the process's fault, not the form's: the case stops as an incident (nothing
        # of the failed step is kept; the moved workflow is dropped) and the clerk is
        # told so, with no form error to correct (engine/services/incidents.py)
        refusal = incidents.step_incident(uow, case, task, actor, data, merged, err, now)
        uow.commit()
        raise refusal from None
    case.data = merged
    task.end(TaskStatus.COMPLETED, actor, now)
    uow.tasks.save(task)
    assert open_tasks is not None  # the task was open (check_can_complete)
    this_step = Step(svc, uow, case, version, workflow, actor, now)
    completed: dict[str, Any] = {"form": data}

    def after() -> None:
        _certificate_action(this_step, task, data)
        if then is not None:
            then()

    if countersigned_by is not None:
        completed["countersigned_by"] = countersigned_by
    view = record_step(
        this_step,
        EventType.TASK_COMPLETED,
        task,
        completed,
        then=after,
        stored_open=[t for t in open_tasks if t is not task],
    )
    uow.commit()
    svc.live.keep(case, workflow)
    return view


def check_task_form(
    svc: Services, version: BundleVersion, case: Case, task: HumanTask, data: dict[str, Any]
) -> dict[str, Any]:
    """The form `data` for the BPMN task checked as completing it checks it; the case's data
    with the form merged in."""
    check_submission(version, task.form, data, task.element, svc.limits)
    intake.check_correction(version, task.element, data, case.data)
    merged = canonical_data({**case.data, **data})
    check_case_data(version, merged, task.element, svc.limits)
    return merged


def _certificate_action(step: Step, task: HumanTask, submitted: dict[str, Any]) -> None:
    """统一发证 or 撤销, when the completed task's element says so (`certificate_action`), of
    the items its `certificate_items` names, else of them all.

    Revocation covers every valid certificate of the case (a 告知承诺 decision stands or falls
    as a whole) unless `certificate_items` names some; its reason is the revoking form's
    `*reason` field, else the task's name. Only an issue of them all (统一发证) stops the clock.
    A task with `cancels_certificate` first cancels (注销) the certificate, issued by any case,
    whose number that case data field holds (`cancels_kinds`: of which kinds), for the reason
    the form's `*reason` field gives, else 注销登记; or refuses the step."""
    svc, uow, case, version, now = step.svc, step.uow, step.case, step.version, step.now
    info = version.human_tasks.get(task.element)
    action = info.properties.get("certificate_action") if info else None
    only = item_codes(info.properties.get(CERTIFICATE_ITEMS)) if info else ()
    reason = next((str(v) for k, v in submitted.items() if k.endswith("reason") and v), "")
    cancels = info.properties.get(CANCELS_CERTIFICATE) if info else None
    if info and cancels:  # 注销 of another case's certificate (before issuing: one may refuse)
        kinds = item_codes(info.properties.get(CANCELS_KINDS))
        certificates.cancel_named(
            svc, uow, case, version, cancels, kinds, reason or "注销登记", now
        )
    if action == "issue":
        certificates.issue(svc, uow, case, version, now, only)
        # 统一出件 ends the time limit, even if post-approval checks (批后核查) follow.
        if not only and case.clock.started_on is not None and case.clock.stopped_on is None:
            case.clock = case.clock.stop(step.today)
            case.record(EventType.CLOCK_STOPPED, "system", now, data={"by": "certificates_issued"})
    elif action == "revoke":
        certificates.revoke(svc, uow, case, version, reason or task.name, now, only)


def renew(svc: Services, user: User, number: str) -> dict[str, Any]:
    """无感续证: a new case from a certificate, with the original application as its data."""
    bundle, data = certificates.renewal_data(svc, user, number)
    return start_case(svc, user, bundle, data, renewal_of=number)


def cancel(svc: Services, user: User, case_id: int, reason: Any) -> dict[str, Any]:
    """Withdraw (撤回) a running case: every open task is cancelled."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        raise Forbidden("只有窗口人员和管理员可以撤销办件")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        message = "撤销原因应为不超过 2000 字的文本"
        raise Invalid(message, [{"message": message, "field": "reason"}])
    check_values({"reason": reason}, None, svc.limits)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
            require_canceller(uow, version, case, user)
            if case.status != CaseStatus.SUSPENDED:  # a suspended case may be withdrawn too
                case.require_running()
            workflow = runtime.load(case.state)
            case.updated_at = svc.clock()
            with engine_step(svc, uow, case):
                workflow.cancel(at=case.updated_at)
            for task in uow.tasks.open_for_case(case.id):
                task.end(TaskStatus.CANCELLED, user.name, case.updated_at)
                uow.tasks.save(task)
            case.status = CaseStatus.CANCELLED
            case.ended_at = case.updated_at
            case.record(
                EventType.CASE_CANCELLED, user.name, case.updated_at, data={"reason": reason or ""}
            )
            case.state = workflow.dump()
            case.clock = case.clock.stop(svc.today(case.updated_at))
            save(uow, case)
            view = case_view(svc, uow, svc.calendars.get(uow), case, [], case.updated_at)
            uow.commit()
            return view

    return retrying(step)
