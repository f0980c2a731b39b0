"""The background worker: runs each due job exactly once, in the job's own transaction.

A job is claimed with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL; on SQLite the write
transaction itself is exclusive), its work and its "done" mark commit together, so a job runs
once even with several workers, and a worker killed half-way leaves the job to the next one.
A failing job is retried with a growing delay and given up after a few attempts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.domain.jobs import Job, JobKind
from engine.persistence.db import TransientError, is_transient
from engine.persistence.unit_of_work import UnitOfWork

from . import certificates, hearing, intake_limit, preliminary, stats_refresh, tlog, verifications
from .deadlines import (
    check_case_deadline,
    check_case_warning,
    check_task_deadline,
    check_task_warning,
)
from .notify import send_notification
from .timers import fire_timer

if TYPE_CHECKING:
    from .context import Services

log = logging.getLogger("lianban.worker")

Handler = Callable[["Services", UnitOfWork, Job, datetime], None]
HANDLERS: dict[str, Handler] = {
    JobKind.TIMER: fire_timer,
    JobKind.CASE_WARNING: check_case_warning,
    JobKind.CASE_DEADLINE: check_case_deadline,
    JobKind.TASK_DEADLINE: check_task_deadline,
    JobKind.TASK_WARNING: check_task_warning,  # 预警 of a task's own limit (送达, Art. 44)
    JobKind.INTAKE_WARNING: intake_limit.check_warning,  # Art. 32: 受理期限预警
    JobKind.INTAKE_DEADLINE: intake_limit.check_deadline,  # Art. 32: 视为受理
    JobKind.NOTIFY: send_notification,
    JobKind.CERTIFICATE_REMINDER: certificates.remind,
    JobKind.PRELIMINARY_DEADLINE: preliminary.check_deadline,  # 下级初审 (Art. 43)
    JobKind.HEARING_REQUEST_DEADLINE: hearing.expire_request,  # 听证: 5 days passed (Art. 47)
    JobKind.VERIFY_CASE: verifications.verify_job,  # a batch verification's case (issue 20)
}
MAX_ATTEMPTS = 5


def run_one(svc: Services) -> bool:
    """Run the most overdue job, if any is due; True when one was taken."""
    now = svc.clock()
    with svc.uow(write=True) as uow:
        claimed = uow.jobs.claim_due(now, limit=1)
        if not claimed:
            return False
        job = claimed[0]
        handler = HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            with uow.conn.begin_nested():
                handler(svc, uow, job, now)
        except Exception as err:
            if is_transient(err):
                raise  # the database itself failed: the whole transaction is retried later
            give_up = job.attempts + 1 >= MAX_ATTEMPTS
            retry_at = now + timedelta(seconds=2 ** (job.attempts + 1))
            log.exception("job %s (%s %s) failed", job.id, job.kind, job.key)
            uow.jobs.retry_later(job, f"{type(err).__name__}: {err}", retry_at, give_up)
        else:
            uow.jobs.finish(job, now)
        uow.commit()
    return True


def run_due(svc: Services, limit: int | None = None) -> int:
    """Run due jobs until none is left (or `limit` ran); returns how many ran."""
    count = 0
    while (limit is None or count < limit) and run_one(svc):
        count += 1
    return count


LOG_INTERVAL = 60.0  # seconds between two rounds of the transparency log (issue 20)


def log_round(svc: Services) -> None:
    """Sequence the new events into the transparency log and sign a checkpoint when it grew
    (engine.services.tlog); a failure is logged and retried at the next round."""
    try:
        tlog.run(svc)
    except Exception:
        log.exception("transparency log round failed; retrying at the next one")


STATS_INTERVAL = 30.0  # seconds between two refreshes of the dashboard's rollups (issue 21)


def stats_round(svc: Services) -> None:
    """Bring the dashboard's facts and day rollups up to the latest events
    (engine.services.stats_refresh); a failure is logged and retried at the next round."""
    try:
        stats_refresh.refresh(svc)
    except Exception:
        log.exception("dashboard rollup refresh failed; retrying at the next round")


def work(
    svc: Services,
    stop: threading.Event,
    poll: float = 0.5,
    log_every: float = LOG_INTERVAL,
    stats_every: float = STATS_INTERVAL,
) -> None:
    """Run jobs as they fall due until `stop` is set; sleeps at most `poll` seconds. Every
    `log_every` seconds (and at start) also runs a round of the transparency log, every
    `stats_every` seconds (and at start) a refresh of the dashboard's rollups."""
    next_log = next_stats = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_log:
            log_round(svc)
            next_log = time.monotonic() + log_every
        if time.monotonic() >= next_stats:
            stats_round(svc)
            next_stats = time.monotonic() + stats_every
        try:
            ran = run_due(svc, limit=100)
        except TransientError:
            log.exception("database error; retrying shortly")
            ran = 0
        if ran:
            continue
        with svc.uow() as uow:
            next_due = uow.jobs.next_due()
        wait = poll
        if next_due is not None:
            wait = min(poll, max(0.0, (next_due - svc.clock()).total_seconds()))
        stop.wait(wait)
