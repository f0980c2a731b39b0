"""Throttled checks of a secret: count the attempt, check, then record how it went.

`begin` refuses (TooManyAttempts) while any of the attempt's subjects is blocked and otherwise
counts the attempt for each; `failed` records a failure (and says whether it blocked a subject
now); `succeeded` gives the attempt back, and clears the counters of the scopes named (a
success resets the account's counter). Each is its own short transaction, so a failure stays
counted whatever happens to the step that follows, and no lock is held while a password hash is
computed. The rules are in engine.domain.throttle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from engine.domain.throttle import TooManyAttempts

if TYPE_CHECKING:
    from .context import Services

# A subject is kept to the column's width (longer ones cannot be real names or addresses).
SUBJECT_WIDTH = 200
Key = tuple[str, str]


def keys(*pairs: tuple[str, object]) -> list[Key]:
    """(scope, subject) pairs in the order rows are locked (always the same: no deadlock)."""
    return sorted({(scope, (str(subject) or "-")[:SUBJECT_WIDTH]) for scope, subject in pairs})


def begin(svc: Services, attempt: Iterable[Key], what: str) -> None:
    """Count an attempt, or refuse it while a subject is blocked (then nothing is counted)."""
    now = svc.clock()
    with svc.uow(write=True) as uow:
        counters = {
            (scope, subject): uow.throttles.locked(scope, subject, now).current(
                svc.throttle_limits.of(scope), now
            )
            for scope, subject in attempt
        }
        refused = _latest(c.refused_until(now) for c in counters.values())
        if refused is None:
            counted = {k: c.attempt(svc.throttle_limits.of(k[0]), now) for k, c in counters.items()}
            # attempts still in flight may have reached a limit: that subject is blocked now
            refused = _latest(c.refused_until(now) for c in counted.values())
            counters = (
                counted
                if refused is None
                else {k: c if c.refused_until(now) else counters[k] for k, c in counted.items()}
            )
        for (scope, subject), counter in counters.items():
            uow.throttles.save(scope, subject, counter)
        uow.commit()
    if refused is not None:
        raise too_many(svc, what, refused, now)


def _latest(times: Iterable[datetime | None]) -> datetime | None:
    found = [t for t in times if t is not None]
    return max(found) if found else None


def failed(svc: Services, attempt: Iterable[Key]) -> datetime | None:
    """Record that the counted attempt failed; the end of the block it started, if any."""
    now = svc.clock()
    blocked: datetime | None = None
    with svc.uow(write=True) as uow:
        for scope, subject in attempt:
            limit = svc.throttle_limits.of(scope)
            before = uow.throttles.locked(scope, subject, now).current(limit, now)
            after = before.fail(limit, now)
            uow.throttles.save(scope, subject, after)
            if before.refused_until(now) is None and (until := after.refused_until(now)):
                blocked = until if blocked is None else max(blocked, until)
        uow.throttles.prune(now - svc.throttle_limits.longest_forget, now)
        uow.commit()
    return blocked


def succeeded(svc: Services, attempt: Iterable[Key], reset: frozenset[str]) -> None:
    """The counted attempt succeeded: give it back; clear the counters of the `reset` scopes."""
    now = svc.clock()
    with svc.uow(write=True) as uow:
        for scope, subject in attempt:
            if scope in reset:
                uow.throttles.clear(scope, subject)
            else:
                counter = uow.throttles.locked(scope, subject, now)
                uow.throttles.save(scope, subject, counter.succeed(now))
        uow.commit()


def too_many(svc: Services, what: str, until: datetime, now: datetime) -> TooManyAttempts:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    local = until.astimezone(svc.tz)
    clock = (
        local.strftime("%H:%M")
        if local.date() == now.astimezone(svc.tz).date()
        else (local.strftime("%m月%d日 %H:%M"))
    )
    return TooManyAttempts(
        f"{what}失败次数过多, 请 {wait_text(seconds)}后再试 ({clock} 以后)", seconds
    )


def wait_text(seconds: int) -> str:
    """`45 秒`, `5 分钟`, `2 小时 10 分钟`: rounded up to the minute from a minute on."""
    if seconds < 60:
        return f"{seconds} 秒"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")
