"""听证 (Administrative Licensing Law Arts. 46–47): before a decision the bundle marks as
affecting major interests, the applicant is told of the right to ask for a hearing."""

from __future__ import annotations

from typing import Any

from engine.domain.model import Case, HumanTask
from engine.domain.users import User
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services


def require_decidable(svc: Services, uow: UnitOfWork, case: Case, task: HumanTask) -> None:
    """Refuse completing a decision task while the applicant may still ask for a hearing, or a
    hearing is under way."""
    return None  # issue 19 · 6, being written


def held(
    svc: Services, uow: UnitOfWork, case: Case, task: HumanTask, user: User, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a 听证 task (TaskKind.HEARING): the hearing was held; the clock resumes."""
    raise NotImplementedError  # issue 19 · 6, being written
