"""`lianban user create --display-name --department` and `lianban user profile`: the name
printed documents sign with, recorded as an account change."""

from __future__ import annotations

from pathlib import Path

from engine.persistence.db import make_engine
from engine.services import Services, accounts
from tests.e2e.server import run_cli


def test_the_user_commands_set_the_display_name_and_department(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli(
        "user", "create", "zhangmin", "--role", "clerk", "--display-name", "张敏",
        "--department", "综合窗口", db_url=url, check=True,
    )  # fmt: skip
    moved = run_cli("user", "profile", "zhangmin", "--department", "审批科", db_url=url)
    assert moved.returncode == 0 and moved.stdout == "zhangmin 在文书上署名: 张敏 (审批科)\n"
    cleared = run_cli("user", "profile", "zhangmin", "--display-name", "", db_url=url)
    assert cleared.stdout == "zhangmin 在文书上署名: zhangmin (审批科)\n"
    long = run_cli("user", "profile", "zhangmin", "--display-name", "张" * 101, db_url=url)
    assert long.returncode == 1 and "姓名不超过 100 个字符" in long.stderr
    assert "Traceback" not in long.stderr
    unknown = run_cli("user", "profile", "nobody", "--display-name", "某", db_url=url)
    assert unknown.returncode == 1 and "用户 nobody 不存在" in unknown.stderr
    engine = make_engine(url)
    try:
        svc = Services(engine)
        user = next(u for u in accounts.list_users(svc) if u.name == "zhangmin")
        assert (user.display_name, user.department) == (None, "审批科")
        with svc.uow() as uow:
            changes = uow.users.changes(subject="zhangmin")
        assert [c["action"] for c in changes] == ["edit", "edit", "create"]
        assert changes[-1]["after"]["display_name"] == "张敏"
        assert changes[0]["after"] == {
            "role": "clerk", "groups": [], "display_name": None, "department": "审批科",
        }  # fmt: skip
    finally:
        engine.dispose()
