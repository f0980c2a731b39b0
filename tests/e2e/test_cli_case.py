"""`lianban case suspend|resume` (issue 18 · 8): an administrator's 挂起 and 恢复 from the command
line, recorded as `cli`, with the clock rule of the kind and plain refusals."""

from __future__ import annotations

from pathlib import Path

from engine.services import Services, accounts, cases, queries
from tests.conftest import PROCESSES
from tests.e2e.server import run_cli
from tests.fixtures.restaurant import ACCEPT, APPLICATION


def test_suspend_and_resume_from_the_command_line(tmp_path: Path) -> None:
    from engine.persistence.db import make_engine

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    engine = make_engine(url)
    svc = Services(engine, PROCESSES.parent / "forms")
    clerk, _ = accounts.create_user(svc, "c", "clerk", ["front_desk"])
    auditor, _ = accounts.create_user(svc, "a", "auditor", [])
    case = cases.start_case(svc, clerk, "restaurant", APPLICATION)
    cases.complete(svc, clerk, case["tasks"][0]["id"], ACCEPT)

    held = run_cli(
        "case",
        "suspend",
        str(case["id"]),
        "--kind",
        "hearing",
        "--reason",
        "申请人要求听证",
        db_url=url,
    )
    assert held.returncode == 0, held.stderr
    assert held.stdout.strip() == f"办件 {case['id']} 已挂起 (听证, 暂停计时)"
    assert queries.get_case(svc, auditor, case["id"])["status"] == "suspended"
    again = run_cli(
        "case", "suspend", str(case["id"]), "--kind", "court", "--reason", "x", db_url=url
    )
    assert again.returncode != 0 and "Traceback" not in again.stderr and "挂起" in again.stderr
    unknown = run_cli("case", "suspend", "1", "--kind", "party", "--reason", "x", db_url=url)
    assert unknown.returncode == 2 and "party" in unknown.stderr

    resumed = run_cli("case", "resume", str(case["id"]), "--note", "听证结束", db_url=url)
    assert resumed.returncode == 0 and resumed.stdout.strip() == f"办件 {case['id']} 已恢复办理"
    events = queries.events(svc, auditor, case["id"])
    mine = [e for e in events if e["type"] in ("case_suspended", "case_unsuspended")]
    assert [(e["type"], e["actor"]) for e in mine] == [
        ("case_suspended", "cli"),
        ("case_unsuspended", "cli"),
    ]
    engine.dispose()
    assert run_cli("replay", str(case["id"]), db_url=url).returncode == 0
