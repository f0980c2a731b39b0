"""The user commands and the demo password: obvious passwords refused, the demo one only for
the demo users, every earlier session ended by a new password."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.domain.passwords import DEMO_PASSWORD
from engine.persistence.db import make_engine
from engine.persistence.tables import users
from engine.services import Services
from engine.services.accounts import sign_in
from tests.e2e.server import run_cli


def test_user_password_refuses_the_obvious_and_the_demo_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    made = run_cli("user", "create", "zhaoliu", "--role", "clerk", db_url=url, check=True)
    assert "lianban user password zhaoliu" in made.stderr
    assert DEMO_PASSWORD in made.stderr and "演示" in made.stderr
    assert len(made.stdout.strip().splitlines()[-1]) >= 32  # the token, alone on the last line
    # each rule is tested in tests/unit/test_passwords.py; here, what the command says
    refusals = {"zhaoliu2026": "用户名", DEMO_PASSWORD: "demo-users"}
    for password, reason in refusals.items():
        refused = run_cli("user", "password", "zhaoliu", "--password", password, db_url=url)
        assert refused.returncode == 1 and reason in refused.stderr, (password, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert (
        run_cli(
            "user", "password", "zhaoliu", "--password", "窗口受理2026春", db_url=url
        ).returncode
        == 0
    )


def test_demo_users_get_the_demo_password_with_a_warning(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    demo = run_cli("demo-users", db_url=url, check=True)
    assert DEMO_PASSWORD in demo.stderr and "只用于演示" in demo.stderr
    engine = make_engine(url)
    try:
        svc = Services(engine, None)
        assert sign_in(svc, "front_desk", DEMO_PASSWORD).name == "front_desk"
        with engine.connect() as conn:
            before = (
                conn.execute(users.select().where(users.c.name == "front_desk"))
                .one()
                .session_version
            )
        # a real password for a demo user: the demo one stops working, sessions end
        run_cli(
            "user", "password", "front_desk", "--password", "a real one now", db_url=url, check=True
        )
        with engine.connect() as conn:
            after = conn.execute(users.select().where(users.c.name == "front_desk")).one()
        assert after.session_version == before + 1
        assert sign_in(svc, "front_desk", "a real one now").name == "front_desk"
    finally:
        engine.dispose()


def test_user_unblock_lets_a_locked_out_user_try_again(tmp_path: Path) -> None:
    from engine.domain.throttle import TooManyAttempts
    from engine.errors import Unauthorized

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("demo-users", db_url=url, check=True)
    engine = make_engine(url)
    try:
        svc = Services(engine, None)
        for _ in range(4):
            with pytest.raises(Unauthorized):
                sign_in(svc, "auditor", "wrong password", "192.0.2.1")
        with pytest.raises(TooManyAttempts):
            sign_in(svc, "auditor", "wrong password", "192.0.2.1")
        done = run_cli("user", "unblock", "auditor", db_url=url, check=True)
        assert done.stdout == "auditor 的登录限制已解除\n"
        assert sign_in(svc, "auditor", DEMO_PASSWORD, "192.0.2.1").name == "auditor"
        again = run_cli("user", "unblock", "auditor", db_url=url, check=True)
        assert again.stdout == "auditor 没有登录限制\n"
    finally:
        engine.dispose()
