"""撤回 from the pages: who may withdraw a case (the rules of `case_access.require_canceller`),
and the withdrawal itself, which at the window always states its reason."""

from __future__ import annotations

from typing import Any

from engine.domain.model import CaseStatus
from engine.domain.users import User
from engine.errors import Forbidden, Invalid

from . import cases
from .case_access import require_canceller
from .context import Services


def can_withdraw(svc: Services, user: User, case_id: int) -> bool:
    """May `user` withdraw the case now (it is running and they hold, received or supervise it)?"""
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        if case.status not in (CaseStatus.RUNNING, CaseStatus.SUSPENDED):  # 挂起: may withdraw
            return False
        version, _runtime = svc.runtimes.get(uow, case.bundle_version_id)
        try:
            require_canceller(uow, version, case, user)
        except Forbidden:
            return False
    return True


def withdraw(svc: Services, user: User, case_id: int, reason: Any) -> dict[str, Any]:
    """撤回 with its reason (required): every open task is cancelled, the case ends 已撤回."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        message = "请填写撤回原因"
        raise Invalid(message, [{"field": "reason", "message": message}])
    return cases.cancel(svc, user, case_id, text)
