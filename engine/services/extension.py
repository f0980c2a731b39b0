"""延期 (Administrative Licensing Law Art. 42): a reviewer asks for more working days with a
reason; the office head's group approves or refuses it in a task of its own."""

from __future__ import annotations

from typing import Any

from engine.domain.model import Case, HumanTask
from engine.domain.users import User
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services


def decide(
    svc: Services, uow: UnitOfWork, case: Case, task: HumanTask, user: User, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a 延期审批 task (TaskKind.EXTENSION) with the approver's decision."""
    raise NotImplementedError  # issue 19 · 2, being written
