"""Scheduled jobs: timers and every other piece of work due at a given time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # gave up after repeated errors; kept for an operator to look at


class JobKind(StrEnum):
    TIMER = "timer"  # a BPMN timer event of a case is due
    CASE_WARNING = "case_warning"  # a case comes within its warning margin (预警)
    CASE_DEADLINE = "case_deadline"  # a case's deadline has passed (超期)
    TASK_DEADLINE = "task_deadline"  # a task's own limit has passed
    NOTIFY = "notify"  # send one notification from the outbox
    CERTIFICATE_REMINDER = "certificate_reminder"  # 无感续证: a certificate expires soon
    INTAKE_WARNING = "intake_warning"  # Art. 32: the intake limit is near
    INTAKE_DEADLINE = "intake_deadline"  # Art. 32: not answered in time: deemed accepted
    TASK_WARNING = "task_warning"  # a task's own limit is near (预警)
    PRELIMINARY_DEADLINE = "preliminary_deadline"  # Art. 43: the lower level's limit passed
    HEARING_REQUEST_DEADLINE = "hearing_request_deadline"  # Art. 47: the 5 days to ask passed
    VERIFY_CASE = "verify_case"  # one case of an auditor's batch verification (issue 20)


@dataclass
class Job:
    id: int
    kind: str
    key: str
    due_at: datetime
    case_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
