"""Who may act on a case as a whole (withdraw it, record the window's rating), beyond its tasks.

- The **holders**: the groups of the case's open tasks of the diagram.
- The **window** (综合窗口): the groups of the bundle's intake task (`bundle.json`
  `intake.element`), else the groups of the tasks the case opened when it started (一窗受理 is
  where a case comes in); a group written `${village_group}` is the one the case data names.
- The **supervisors** (督办): the bundle's escalation group (`time_limits.escalation_group`),
  `supervisors` when it names none.
Administrators may do all of it.
"""

from __future__ import annotations

from engine.bpmn.assignment import opening_groups
from engine.bpmn.errors import StepFailed
from engine.domain.bundle_versions import BundleVersion, HumanTaskInfo
from engine.domain.model import Case, TaskKind
from engine.domain.users import Role, User
from engine.errors import Forbidden
from engine.persistence.unit_of_work import UnitOfWork

DEFAULT_SUPERVISORS = "supervisors"


def holder_groups(uow: UnitOfWork, case: Case) -> frozenset[str]:
    return frozenset(
        g for t in uow.tasks.open_for_case(case.id) if t.kind == TaskKind.BPMN for g in t.groups
    )


def task_groups_of(info: HumanTaskInfo, case: Case) -> tuple[str, ...]:
    """A task's groups for this case: `${village_group}` read from its data (nothing when it
    cannot be read)."""
    try:
        return opening_groups(info.element, info.groups, case.data, case.created_by, info.initiator)
    except StepFailed:
        return ()


def window_groups(uow: UnitOfWork, version: BundleVersion, case: Case) -> frozenset[str]:
    intake = version.meta.intake
    if intake.element_given and intake.element in version.human_tasks:
        return frozenset(task_groups_of(version.human_tasks[intake.element], case))
    started = uow.cases.event(case.id, 1)
    opened = started.data.get("opened", []) if started is not None else []
    return frozenset(
        g
        for element in opened
        if element in version.human_tasks
        for g in task_groups_of(version.human_tasks[element], case)
    )


def supervisor_groups(version: BundleVersion) -> frozenset[str]:
    return frozenset({version.time_policy.escalation_group or DEFAULT_SUPERVISORS})


def require_canceller(uow: UnitOfWork, version: BundleVersion, case: Case, user: User) -> None:
    """撤回 belongs to the groups that hold the case, the window that received it, and the
    supervisors."""
    if user.has_role(Role.ADMIN):
        return
    if user.has_role(Role.CLERK):
        allowed = (
            holder_groups(uow, case)
            | window_groups(uow, version, case)
            | supervisor_groups(version)
        )
        if user.groups & allowed:
            return
    raise Forbidden("只有正在办理该办件的部门、受理窗口或督办人员可以撤销办件")


def require_window(uow: UnitOfWork, version: BundleVersion, case: Case, user: User) -> None:
    """A rating at the window (the evaluation pad) is recorded by the window that received
    the case."""
    if user.has_role(Role.CLERK) and user.groups & window_groups(uow, version, case):
        return
    raise Forbidden("只有受理该办件的窗口人员可以登记窗口评价")
