"""Throttled secrets on both databases: sign-in per account and per address, receipt codes per
case and per address, counters shared by every process (two Services on one database stand
for two server processes), the same for known and unknown names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.domain.throttle import SIGN_IN_ACCOUNT, SIGN_IN_ADDRESS, Limit, Limits, TooManyAttempts
from engine.errors import Forbidden, Unauthorized
from engine.persistence.db import make_engine
from engine.services import Services, accounts, cases, progress, publishing
from engine.services.accounts import set_password, sign_in
from tests.conftest import FORMS
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.fixtures.concurrency import simultaneously

PASSWORD = "correct horse"
ADDRESS = "192.0.2.10"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def svc(db_url: str, clock: FakeClock) -> Iterator[Services]:
    engine = make_engine(db_url)
    services = Services(engine, FORMS, clock=clock)
    accounts.create_user(services, "front_desk", "clerk", ["front_desk"])
    set_password(services, "front_desk", PASSWORD)
    yield services
    engine.dispose()


def _wrong(svc: Services, name: str = "front_desk", address: str = ADDRESS) -> Exception:
    try:
        sign_in(svc, name, "wrong password", address)
    except (Unauthorized, TooManyAttempts) as err:
        return err
    raise AssertionError("a wrong password signed in")


def test_five_failures_refuse_the_account_for_a_growing_time(
    svc: Services, clock: FakeClock
) -> None:
    for _ in range(4):
        assert isinstance(_wrong(svc), Unauthorized)
    fifth = _wrong(svc)
    assert isinstance(fifth, TooManyAttempts) and fifth.status == 429
    assert fifth.retry_after == 300
    assert fifth.message == "用户名或密码不正确。登录失败次数过多, 请 5 分钟后再试 (17:05 以后)"
    # refused now even with the right password, and from another address
    with pytest.raises(TooManyAttempts) as refused:
        sign_in(svc, "front_desk", PASSWORD, "198.51.100.7")
    assert refused.value.message == "登录失败次数过多, 请 5 分钟后再试 (17:05 以后)"
    clock.advance(minutes=4, seconds=30)
    with pytest.raises(TooManyAttempts) as refused:
        sign_in(svc, "front_desk", PASSWORD, ADDRESS)
    assert refused.value.retry_after == 30 and "30 秒" in refused.value.message
    clock.advance(seconds=30)
    for _ in range(4):
        assert isinstance(_wrong(svc), Unauthorized)
    second = _wrong(svc)
    assert isinstance(second, TooManyAttempts) and second.retry_after == 600  # twice as long
    clock.advance(minutes=10)
    assert sign_in(svc, "front_desk", PASSWORD, ADDRESS).name == "front_desk"


def test_a_success_resets_the_accounts_counter(svc: Services) -> None:
    for _ in range(4):
        _wrong(svc)
    sign_in(svc, "front_desk", PASSWORD, ADDRESS)
    with svc.uow() as uow:
        assert uow.throttles.get(SIGN_IN_ACCOUNT, "front_desk") is None
        address = uow.throttles.get(SIGN_IN_ADDRESS, ADDRESS)
    assert address is not None and address.failures == 4  # the success gave its own back
    for _ in range(4):
        assert isinstance(_wrong(svc), Unauthorized)


def test_an_unknown_name_is_throttled_and_hashed_like_a_known_one(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same scrypt work (same parameters) and the same answers, whether the name exists."""
    accounts.create_user(svc, "token_only", "clerk", [])  # an API user without a password
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counted(password: bytes, *, salt: bytes, n: int, r: int, p: int, **kw: Any) -> bytes:
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kw)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    answers = {}
    for name in ("front_desk", "nobody", "token_only"):
        calls.clear()
        answers[name] = [type(_wrong(svc, name)).__name__ for _ in range(5)]
        assert calls == [(2**14, 8, 1)] * 5, name
    assert set(map(tuple, answers.values())) == {("Unauthorized",) * 4 + ("TooManyAttempts",)}


def test_an_address_has_its_own_higher_bound(db_url: str, clock: FakeClock) -> None:
    limits = Limits(
        sign_in_address=Limit(8, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=1))
    )
    engine = make_engine(db_url)
    svc = Services(engine, FORMS, clock=clock, throttle_limits=limits)
    try:
        # one address trying many names: no account reaches its 5, the address reaches its 8
        answers = [type(_wrong(svc, f"user{i}")).__name__ for i in range(8)]
        assert answers == ["Unauthorized"] * 7 + ["TooManyAttempts"]
        assert isinstance(_wrong(svc, "user9"), TooManyAttempts)
        assert isinstance(_wrong(svc, "user9", "198.51.100.7"), Unauthorized)  # elsewhere
    finally:
        engine.dispose()


def test_processes_share_the_counters_and_parallel_guesses_cannot_slip_past(
    db_url: str, svc: Services, clock: FakeClock
) -> None:
    """Ten guesses at once through two Services (two connection pools, as two server
    processes): at most five get their password checked, the rest are refused."""
    other_engine = make_engine(db_url)
    other = Services(other_engine, FORMS, clock=clock)
    try:
        answers = simultaneously(*[lambda s=s: _wrong(s) for s in [svc, other] * 5])
        with pytest.raises(TooManyAttempts):
            sign_in(other, "front_desk", PASSWORD, ADDRESS)
    finally:
        other_engine.dispose()
    results = [a.message for a in answers]
    # an answer starting so had its password checked; the others were refused before
    checked = [m for m in results if m.startswith("用户名或密码不正确")]
    assert len(checked) <= 5, results


def test_receipt_codes_are_throttled_per_case_and_per_address(
    svc: Services, clock: FakeClock
) -> None:
    publishing.deploy(svc, from_upload("p.bpmn", bpmn.linear()), "test")
    user = accounts.authenticate(svc, accounts.create_user(svc, "desk", "clerk", ["front_desk"])[1])
    case = cases.start_case(svc, user, "p", {"applicant_name": "李四"})
    right, wrong = case["access_code"], "2222-3333-4444"
    assert right != wrong
    for i in range(9):  # nine addresses, one wrong code each: the case's limit is 10
        with pytest.raises(Forbidden):
            progress.public_progress(svc, case["id"], wrong, f"198.51.100.{i}")
    with pytest.raises(TooManyAttempts) as blocked:
        progress.public_progress(svc, case["id"], wrong, "198.51.100.99")
    assert (
        blocked.value.retry_after == 15 * 60 and "查询码验证失败次数过多" in blocked.value.message
    )
    with pytest.raises(TooManyAttempts):  # the right code waits too
        progress.public_progress(svc, case["id"], right, "203.0.113.1")
    clock.advance(minutes=15)
    assert progress.public_progress(svc, case["id"], right, "203.0.113.1")["id"] == case["id"]
    # per address: 20 wrong codes for unknown case numbers, then this address waits
    for number in range(1000, 1019):
        with pytest.raises(Forbidden):
            progress.public_progress(svc, number, wrong, ADDRESS)
    with pytest.raises(TooManyAttempts):
        progress.public_progress(svc, 1019, wrong, ADDRESS)
    with pytest.raises(TooManyAttempts):
        progress.public_progress(svc, case["id"], right, ADDRESS)
    assert progress.public_progress(svc, case["id"], right, "203.0.113.2")["id"] == case["id"]
