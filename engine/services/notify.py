"""The notification outbox: written in the step's transaction, sent by the worker after it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.domain.jobs import Job, JobKind
from engine.persistence.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from .context import Services


def notify(
    uow: UnitOfWork,
    case_id: int | None,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
) -> int:
    """Queue a notification; it is sent only if the step that queued it commits."""
    notification_id = uow.notifications.add(case_id, kind, recipient, subject, body, now)
    uow.jobs.schedule(JobKind.NOTIFY, str(notification_id), now, now, case_id)
    return notification_id


MAX_ATTEMPTS = 5


def send_notification(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """The worker's half: hand the notification to the sender. A failure is written on the
    outbox row, and another attempt is scheduled with a growing delay, up to MAX_ATTEMPTS."""
    notification_id = int(job.key.split(":")[0])
    row = uow.notifications.get(notification_id)
    if row is None or row.status == "sent":
        return
    try:
        svc.sender.send(row.recipient, row.subject, row.body)
    except Exception as err:
        attempt = row.attempts + 1
        retrying = attempt < MAX_ATTEMPTS
        # "retrying": another attempt is scheduled; "failed": given up, for an operator to see
        status = "retrying" if retrying else "failed"
        uow.notifications.mark(row.id, status, None, f"{type(err).__name__}: {err}")
        if retrying:
            retry = now + timedelta(seconds=2**attempt)
            uow.jobs.schedule(JobKind.NOTIFY, f"{row.id}:{attempt}", retry, now, row.case_id)
        return
    uow.notifications.mark(row.id, "sent", now, None)
