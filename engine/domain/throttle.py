"""Throttling guesses at a secret (a password, a receipt code): the rules, without storage.

Each subject (an account, an address, a case) has a counter per scope. An attempt is counted
*before* the secret is checked, so attempts sent in parallel cannot slip past the limit while
the first ones are still being checked; a success gives its attempt back (`Counter.succeed`).
Once `failures` attempts in one `window` have failed, the subject is refused for `block`; each
further block in a row lasts twice as long, up to `max_block`. A subject left alone for `forget`
starts afresh.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine.errors import ServiceError


class TooManyAttempts(ServiceError):
    """Refused for now: too many failed attempts. `retry_after` is in whole seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta
    block: timedelta
    max_block: timedelta
    forget: timedelta = timedelta(days=1)

    def block_for(self, blocks_before: int) -> timedelta:
        """The length of the next block after `blocks_before` blocks in a row."""
        length: timedelta = self.block * 2 ** min(blocks_before, 20)
        return min(length, self.max_block)

    @classmethod
    def parse(cls, text: str) -> Limit:
        """`failures/window/block/max_block`, durations like `15m`, `1h`, `30s`, `1d`:
        e.g. `5/15m/5m/1h`."""
        parts = text.strip().split("/")
        if len(parts) != 4 or not parts[0].strip().isdigit() or int(parts[0]) < 1:
            raise ValueError(
                f"a limit is failures/window/block/max_block, e.g. 5/15m/5m/1h: {text!r}"
            )
        window, block, longest = (_duration(p) for p in parts[1:])
        if longest < block:
            raise ValueError(f"the longest block is shorter than the first: {text!r}")
        return cls(int(parts[0]), window, block, longest)

    def __str__(self) -> str:
        return "/".join(
            [str(self.failures)] + [_text(d) for d in (self.window, self.block, self.max_block)]
        )


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    found = re.fullmatch(r"\s*(\d{1,6})\s*([smhd])\s*", text)
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"a duration is a positive number and s, m, h or d, e.g. 15m: {text!r}")
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])


def _text(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Counter:
    """One subject's state in one scope."""

    failures: int
    window_start: datetime
    blocked_until: datetime | None
    blocks: int
    updated_at: datetime

    @classmethod
    def fresh(cls, now: datetime) -> Counter:
        return cls(0, now, None, 0, now)

    def current(self, limit: Limit, now: datetime) -> Counter:
        """This counter as of `now`: forgotten after a quiet `forget`, its window restarted
        once the window has passed (the count of blocks in a row stays)."""
        if now - self.updated_at >= limit.forget:
            return Counter.fresh(now)
        if self.blocked_until is None and now - self.window_start >= limit.window:
            return replace(self, failures=0, window_start=now)
        if self.blocked_until is not None and now >= self.blocked_until:
            return replace(self, failures=0, window_start=now, blocked_until=None)
        return self

    def refused_until(self, now: datetime) -> datetime | None:
        if self.blocked_until is not None and now < self.blocked_until:
            return self.blocked_until
        return None

    def attempt(self, limit: Limit, now: datetime) -> Counter:
        """Count an attempt about to be checked (the caller has made sure it is not refused).
        Attempts already in flight up to the limit block the subject before this one runs."""
        if self.failures >= limit.failures:
            return self._blocked(limit, now)
        return replace(self, failures=self.failures + 1, updated_at=now)

    def fail(self, limit: Limit, now: datetime) -> Counter:
        """The counted attempt failed: the limit's last failure blocks the subject."""
        if self.refused_until(now) is None and self.failures >= limit.failures:
            return self._blocked(limit, now)
        return replace(self, updated_at=now)

    def succeed(self, now: datetime) -> Counter:
        """The counted attempt succeeded: it is given back."""
        return replace(self, failures=max(0, self.failures - 1), updated_at=now)

    def _blocked(self, limit: Limit, now: datetime) -> Counter:
        return Counter(
            failures=0,
            window_start=now,
            blocked_until=now + limit.block_for(self.blocks),
            blocks=self.blocks + 1,
            updated_at=now,
        )


# The scopes (at most 20 characters: the column's width).
SIGN_IN_ACCOUNT = "sign-in:account"
SIGN_IN_ADDRESS = "sign-in:address"
CODE_CASE = "code:case"
CODE_ADDRESS = "code:address"
SCOPES = (SIGN_IN_ACCOUNT, SIGN_IN_ADDRESS, CODE_CASE, CODE_ADDRESS)


@dataclass(frozen=True)
class Limits:
    """The limit of each scope; each may be set by `LIANBAN_THROTTLE_<SCOPE>` (`from_env`)."""

    sign_in_account: Limit = Limit(
        5, timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=1)
    )
    sign_in_address: Limit = Limit(
        50, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=1)
    )
    code_case: Limit = Limit(10, timedelta(hours=1), timedelta(minutes=15), timedelta(hours=4))
    code_address: Limit = Limit(
        20, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=4)
    )

    def of(self, scope: str) -> Limit:
        return {
            SIGN_IN_ACCOUNT: self.sign_in_account,
            SIGN_IN_ADDRESS: self.sign_in_address,
            CODE_CASE: self.code_case,
            CODE_ADDRESS: self.code_address,
        }[scope]

    @property
    def longest_forget(self) -> timedelta:
        return max(self.of(scope).forget for scope in SCOPES)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """The defaults, with any limit the environment gives (`5/15m/5m/1h`) instead."""
        given = {}
        for name, attribute in ENV_NAMES.items():
            text = env.get(name)
            if text:
                try:
                    given[attribute] = Limit.parse(text)
                except ValueError as err:
                    raise ValueError(f"{name}: {err}") from None
        return cls(**given)


ENV_NAMES = {
    "LIANBAN_THROTTLE_SIGN_IN_ACCOUNT": "sign_in_account",
    "LIANBAN_THROTTLE_SIGN_IN_ADDRESS": "sign_in_address",
    "LIANBAN_THROTTLE_CODE_CASE": "code_case",
    "LIANBAN_THROTTLE_CODE_ADDRESS": "code_address",
}
