"""The words the pages show for codes, in one place: Jinja globals (registered once, `register`).

A domain state names itself (`CaseStatus.label`, `ClockState.label`, `Timeliness.label`,
`CertificateStatus.label`, `RatingLevel.label`): the tables here are keyed by its value, as the
services' dicts carry it. The rest are the pages' own words.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.domain.bundle_lifecycle import Action, BundleState, VersionStatus
from engine.domain.certificates import CertificateStatus
from engine.domain.model import CaseStatus
from engine.domain.ratings import RatingLevel
from engine.domain.timelimits import ClockState, Timeliness

STATUS_LABELS = {str(s): s.label for s in CaseStatus}
CLOCK_LABELS = {str(s): s.label for s in ClockState}
# also the worklist's 预警/超期 filter
TIMELINESS_LABELS = {str(t): t.label for t in Timeliness}
CERTIFICATE_STATUS = {str(s): s.label for s in CertificateStatus}
RATING_LABELS = {int(level): level.label for level in RatingLevel}
# a bundle's lifecycle (engine/domain/bundle_lifecycle.py): a version, a bundle, a transition
VERSION_STATUS = {str(s): s.label for s in VersionStatus}
BUNDLE_STATES = {str(s): s.label for s in BundleState}
BUNDLE_ACTIONS = {str(a): a.label for a in Action}

# the clerk's view of a task
TASK_STATUS = {"open": "待办", "completed": "已办理", "cancelled": "已取消"}
# the worklist's filter by who holds a task
CLAIMED_LABELS = {"all": "全部", "mine": "我认领的", "unclaimed": "未认领"}
# each material of a case's checklist (engine.services.intake.material_states)
MATERIAL_STATES = {
    "pending": "待核对",
    "submitted": "已提交",
    "missing": "需补正",
    "corrected": "已补正",
    "deferred": "容缺 (待补齐)",
    "supplied": "已补齐",
    "optional": "按需提交",
}
ROLE_NAMES = {
    "designer": "流程设计员",
    "clerk": "窗口/审批人员",
    "auditor": "审计人员",
    "admin": "管理员",
}
# what an administrator did to an account (engine.services.accounts, table account_changes)
ACCOUNT_ACTIONS = {
    "create": "创建用户",
    "edit": "修改角色、分组或署名",
    "password": "重设登录密码",
    "token": "重新签发 API 令牌",
    "unblock": "解除登录锁定",
}
# why a case stopped as an incident (the `kind` of its incident_raised event)
INCIDENT_KINDS = {
    "expression": "表达式出错",
    "engine": "流程无法继续",
    "limit": "超出引擎上限",
    "timer_budget": "定时触发过快",
    "step_refused": "定时步骤被拒绝",
}

GLOBALS: dict[str, Any] = {
    "status_labels": STATUS_LABELS,
    "clock_labels": CLOCK_LABELS,
    "timeliness_labels": TIMELINESS_LABELS,
    "certificate_status": CERTIFICATE_STATUS,
    "rating_labels": RATING_LABELS,
    "version_status": VERSION_STATUS,
    "bundle_states": BUNDLE_STATES,
    "bundle_actions": BUNDLE_ACTIONS,
    "task_status": TASK_STATUS,
    "claimed_labels": CLAIMED_LABELS,
    "material_states": MATERIAL_STATES,
    "role_names": ROLE_NAMES,
    "account_actions": ACCOUNT_ACTIONS,
    "incident_kinds": INCIDENT_KINDS,
}


def register(app: Flask) -> None:
    """Every table above as a template global of the same (lower-case) name."""
    app.jinja_env.globals.update(GLOBALS)
