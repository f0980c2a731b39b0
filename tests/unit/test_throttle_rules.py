"""The throttle's rules without a database: counting, blocking, growing blocks, forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.domain.throttle import Counter, Limit, Limits

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIMIT = Limit(5, timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=1))


def _fail(counter: Counter, now: datetime, limit: Limit = LIMIT) -> Counter:
    counter = counter.current(limit, now)
    assert counter.refused_until(now) is None
    return counter.attempt(limit, now).fail(limit, now)


def test_the_fifth_failure_blocks_and_blocks_grow_up_to_the_longest() -> None:
    counter, now = Counter.fresh(T0), T0
    for _ in range(4):
        counter = _fail(counter, now)
        assert counter.refused_until(now) is None
    counter = _fail(counter, now)
    assert counter.refused_until(now) == now + timedelta(minutes=5)
    lengths = []
    for _ in range(6):
        now = counter.refused_until(now) or now
        for _ in range(5):
            counter = _fail(counter, now)
        until = counter.refused_until(now)
        assert until is not None
        lengths.append(until - now)
    assert lengths == [timedelta(minutes=m) for m in (10, 20, 40, 60, 60, 60)]


def test_failures_outside_the_window_do_not_add_up_and_a_quiet_day_forgets() -> None:
    counter, now = Counter.fresh(T0), T0
    for _ in range(4):
        counter = _fail(counter, now)
    now += timedelta(minutes=15)
    counter = _fail(counter, now)
    assert counter.refused_until(now) is None and counter.failures == 1
    for _ in range(4):
        counter = _fail(counter, now)
    assert counter.blocks == 1
    now = (counter.refused_until(now) or now) + timedelta(days=1)
    assert counter.current(LIMIT, now) == Counter.fresh(now)


def test_attempts_in_flight_count_before_they_are_checked() -> None:
    """Five attempts started together use up the limit; the sixth is blocked at once."""
    counter = Counter.fresh(T0)
    for _ in range(5):
        counter = counter.attempt(LIMIT, T0)
    assert counter.refused_until(T0) is None
    assert counter.attempt(LIMIT, T0).refused_until(T0) == T0 + timedelta(minutes=5)
    # a success gives its attempt back
    assert counter.succeed(T0).failures == 4


def test_limits_are_read_from_the_environment() -> None:
    assert str(Limits().sign_in_account) == "5/15m/5m/1h"
    limits = Limits.from_env({"LIANBAN_THROTTLE_CODE_CASE": "3/1h/30s/2d"})
    assert limits.code_case == Limit(
        3, timedelta(hours=1), timedelta(seconds=30), timedelta(days=2)
    )
    assert limits.sign_in_account == Limits().sign_in_account
    for bad in ("5/15m/5m", "0/1m/1m/1m", "5/15x/5m/1h", "5/15m/1h/5m"):
        with pytest.raises(ValueError, match="LIANBAN_THROTTLE_SIGN_IN_ADDRESS"):
            Limits.from_env({"LIANBAN_THROTTLE_SIGN_IN_ADDRESS": bad})
