"""The `lianban` command as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from engine.services import accounts, cases
from tests.conftest import PROCESSES
from tests.e2e.server import run_cli
from tests.fixtures import bpmn


def test_init_db_is_idempotent_and_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_cli("init-db", db_url=url).returncode == 0
    again = run_cli("init-db", db_url=url)
    assert again.returncode == 0, again.stderr
    import sqlite3

    tables = {
        r[0] for r in sqlite3.connect(tmp_path / "x.db").execute("select name from sqlite_master")
    }
    assert {"cases", "human_tasks", "case_events", "bundle_versions", "alembic_version"} <= tables


def test_deploy_user_create_and_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    deployed = run_cli("deploy", str(PROCESSES), db_url=url)
    assert deployed.returncode == 0, deployed.stderr
    assert "restaurant" in deployed.stdout and "第 1 版" in deployed.stdout
    # both shipped bundles: 我要开餐馆 and its 会签 variant
    assert "已部署 restaurant_joint 第 1 版 (我要开餐馆 (消防卫生会签))" in deployed.stdout
    again = run_cli("deploy", str(PROCESSES), db_url=url)
    assert again.returncode == 0 and "未变化" in again.stdout

    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(bpmn.decision("__import__('os').system('id')"))
    good = tmp_path / "good.bpmn"
    good.write_bytes(bpmn.linear())
    result = run_cli("deploy", str(bad), str(good), db_url=url)
    assert result.returncode == 1
    assert "yes" in result.stderr and "条件" in result.stderr
    assert "p" in result.stdout  # the good one is still deployed

    made = run_cli(
        "user",
        "create",
        "王五",
        "--role",
        "clerk",
        "--group",
        "front_desk",
        "--group",
        "food_safety",
        db_url=url,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    dup = run_cli("user", "create", "王五", "--role", "clerk", db_url=url)
    assert dup.returncode == 1 and "已存在" in dup.stderr
    assert run_cli("user", "create", "x", "--role", "boss", db_url=url).returncode != 0


def test_the_token_printed_works_against_the_server(tmp_path: Path) -> None:
    from tests.e2e.server import Server

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    token = run_cli(
        "user", "create", "d", "--role", "designer", db_url=url, check=True
    ).stdout.split()[-1]
    with Server(url, workers=1) as server:
        status, body = server.call("GET", "/bundles", token)
        # every bundle folder of processes/ (each named by its key), in key order
        shipped = sorted(p.name for p in PROCESSES.iterdir() if (p / "bundle.json").is_file())
        assert {"restaurant", "restaurant_joint"} <= set(shipped)
        assert status == 200 and [b["key"] for b in body["bundles"]] == shipped
        assert server.call("GET", "/bundles", "nope")[0] == 401
    json.dumps(body)


def test_passwords_set_by_the_command_sign_in_and_demo_users_share_one(tmp_path: Path) -> None:
    from engine.persistence.db import make_engine
    from engine.services import Services
    from engine.services.accounts import sign_in
    from web.cli import DEMO_PASSWORD

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("user", "create", "王五", "--role", "clerk", db_url=url, check=True)
    short = run_cli("user", "password", "王五", "--password", "short", db_url=url)
    assert short.returncode == 1 and "至少 8 个字符" in short.stderr
    assert (
        run_cli("user", "password", "王五", "--password", "long enough", db_url=url).returncode == 0
    )
    nobody = run_cli("user", "password", "nobody", "--password", "long enough", db_url=url)
    assert nobody.returncode == 1 and "不存在" in nobody.stderr
    demo = run_cli("demo-users", db_url=url, check=True)
    assert DEMO_PASSWORD in demo.stderr
    assert all(len(line.split()) == 4 for line in demo.stdout.splitlines())
    engine = make_engine(url)
    svc = Services(engine, None)
    assert sign_in(svc, "王五", "long enough").name == "王五"
    assert sign_in(svc, "front_desk", DEMO_PASSWORD).groups == {"front_desk"}
    engine.dispose()


def test_calendar_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    added = run_cli("calendar", "add", "2026-09-28", "5", db_url=url)
    assert added.returncode == 0 and added.stdout == "2026-10-10\n" and added.stderr == ""
    assert run_cli("calendar", "count", "2026-09-28", "2026-10-10", db_url=url).stdout == "5\n"
    provisional = run_cli("calendar", "add", "2026-12-25", "5", db_url=url)
    # 2027 is not published: 元旦 counts all the same (the 放假办法 fixes it), provisionally
    assert provisional.stdout == "2027-01-04\n" and "临时" in provisional.stderr
    run_cli("calendar", "set", "2027-01-01", "--holiday", "--name", "元旦", db_url=url, check=True)
    run_cli("calendar", "publish-year", "2027", db_url=url, check=True)
    final = run_cli("calendar", "add", "2026-12-25", "5", db_url=url)
    assert final.stdout == "2027-01-04\n" and final.stderr == ""
    assert run_cli("calendar", "set", "2027-01-02", db_url=url).returncode != 0


def test_service_errors_are_plain_messages_not_tracebacks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    skipped = run_cli("calendar", "publish-year", "2030", db_url=url)
    assert skipped.returncode == 1
    assert "Traceback" not in skipped.stderr and "2027" in skipped.stderr


def test_managing_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    first = run_cli("user", "create", "赵六", "--role", "clerk", db_url=url, check=True).stdout
    run_cli(
        "user",
        "groups",
        "赵六",
        "--group",
        "front_desk",
        "--group",
        "issuance",
        db_url=url,
        check=True,
    )
    listed = run_cli("user", "list", db_url=url, check=True).stdout
    assert "赵六" in listed and "front_desk,issuance" in listed
    second = run_cli("user", "token", "赵六", db_url=url, check=True).stdout.strip()
    assert second != first.split()[-1] and len(second) >= 32
    missing = run_cli("user", "token", "nobody", db_url=url)
    assert missing.returncode == 1 and "不存在" in missing.stderr


def test_replay_verifies_cases_and_reports_a_tampered_one(tmp_path: Path) -> None:
    import sqlite3

    from tests.fixtures.restaurant import APPLICATION, REFUSE

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    from engine.persistence.db import make_engine
    from engine.services import Services

    engine = make_engine(url)
    svc = Services(engine, PROCESSES.parent / "forms")
    clerk, _ = accounts.create_user(svc, "c", "clerk", ["front_desk"])
    for _ in range(3):
        case = cases.start_case(svc, clerk, "restaurant", APPLICATION)
        cases.complete(svc, clerk, case["tasks"][0]["id"], REFUSE)
    engine.dispose()
    ok = run_cli("replay", "--all", db_url=url)
    assert ok.returncode == 0 and "共核验 3 件: 3 件一致, 0 件不一致" in ok.stdout
    with sqlite3.connect(tmp_path / "x.db") as db:
        db.execute("UPDATE cases SET data = json_set(data, '$.shop_name', '别家面馆') WHERE id = 2")
    bad = run_cli("replay", "--all", db_url=url)
    assert bad.returncode == 1 and "办件 2: 不一致" in bad.stdout and "1 件不一致" in bad.stdout
    one = run_cli("replay", "1", db_url=url)
    assert one.returncode == 0 and "办件 1: 一致" in one.stdout


def test_deploy_asks_to_confirm_what_a_new_version_drops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    bare = PROCESSES / "restaurant" / "restaurant.bpmn"
    refused = run_cli("deploy", str(bare), db_url=url)
    assert refused.returncode == 1
    assert "需要确认 (--replace)" in refused.stderr and "将不再发放" in refused.stderr
    confirmed = run_cli("deploy", "--replace", str(bare), db_url=url)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "第 2 版" in confirmed.stdout


def test_deploy_draft_stores_drafts_that_a_plain_deploy_then_publishes(tmp_path: Path) -> None:
    from engine.persistence.db import make_engine
    from engine.services import Services

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    drafted = run_cli("deploy", "--draft", str(PROCESSES), db_url=url)
    assert drafted.returncode == 0, drafted.stderr
    assert "已存为草稿 restaurant 第 1 版" in drafted.stdout
    again = run_cli("deploy", "--draft", str(PROCESSES), db_url=url)
    assert "未变化 restaurant 第 1 版" in again.stdout
    svc = Services(make_engine(url))
    with svc.uow() as uow:
        status = uow.bundles.lifecycle("restaurant")
    assert status is not None and status.published_version is None
    # `make run`'s plain deploy: a draft is not what it asks for, so it stores a published version
    published = run_cli("deploy", str(PROCESSES), db_url=url)
    assert "已部署 restaurant 第 2 版" in published.stdout
    with svc.uow() as uow:
        status = uow.bundles.lifecycle("restaurant")
    assert status is not None and status.published_version == 2
    svc.engine.dispose()


def test_deploy_prints_the_warnings_of_a_stored_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    file = tmp_path / "d.bpmn"
    file.write_bytes(bpmn.decision("approved == True"))
    done = run_cli("deploy", str(file), db_url=url)
    assert done.returncode == 0, done.stderr
    assert "已部署" in done.stdout
    assert "提醒: 条件 `approved == True` 读取的字段 `approved`" in done.stdout
    assert "提醒: 办理组 'front_desk' 还没有任何成员" in done.stdout
    assert "element yes" in done.stdout
