"""加签 / 减签 in parallel to a running 会签 (issue 18 · 5), on SQLite and PostgreSQL: a department
joins the 会签 as a new instance, a signer who has not signed leaves it (the 会签 ends when the
others have signed), the refusals, two 加签 at the same moment; the audit re-executes each."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Conflict, Forbidden, Invalid
from engine.services import Services, accounts, add_signer, cases, multi_sign, queries
from engine.services.audit import replay
from tests.fixtures import multi_sign as bundles
from tests.fixtures.concurrency import simultaneously


@pytest.fixture
def signers(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    made = {name: users[name].user for name in users}
    for name, group in (("fire", "fire_dept"), ("health", "health_dept"), ("env", "env_dept")):
        made[name] = accounts.create_user(services, name, "clerk", [group])[0]
    made["supervisor"] = accounts.create_user(services, "supervisor", "clerk", ["supervisors"])[0]
    return made


def _start(services: Services, who: dict[str, Any], key: str = "joint") -> dict[str, Any]:
    return cases.start_case(
        services,
        who["front_desk"],
        key,
        {"shop_name": "好味餐厅", "departments": ["fire_dept", "health_dept"]},
    )


def _by_group(view: dict[str, Any]) -> dict[str, str]:
    return {t["groups"][0]: t["id"] for t in view["tasks"] if t["element"] == "sign"}


def _verified(services: Services, who: dict[str, Any], case_id: int) -> None:
    verdict = replay(services, who["auditor"], case_id)
    assert verdict["verified"], verdict


def test_a_department_joins_a_running_huiqian_and_signs(
    services: Services, signers: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    view = _start(services, signers)
    tasks = _by_group(view)
    view = add_signer.add_parallel(
        services, signers["fire"], tasks["fire_dept"], "env_dept", "涉及排污, 请环保部门会签"
    )
    tasks = _by_group(view)
    assert set(tasks) == {"fire_dept", "health_dept", "env_dept"}
    progress = multi_sign.case_progress(services, signers["fire"], view["id"])
    assert progress["sign"]["label"] == "会签 (0/3)"
    for group, who, left in (("env_dept", "env", 2), ("fire_dept", "fire", 1)):
        view = cases.complete(services, signers[who], tasks[group], {"decision": "approve"})
        assert [t["element"] for t in view["tasks"]] == ["sign"] * left
    view = cases.complete(
        services, signers["health"], tasks["health_dept"], {"decision": "approve"}
    )
    assert view["data"]["sign_result"] == "approved"
    assert [s["signer"] for s in view["data"]["sign_signatures"]] == [
        "env_dept",
        "fire_dept",
        "health_dept",
    ]
    events = queries.events(services, signers["auditor"], view["id"])
    added = next(e for e in events if e["type"] == "signer_added")
    assert added["data"]["position"] == "parallel" and added["data"]["signer"] == "env_dept"
    assert added["data"]["opened"] == ["sign"]
    _verified(services, signers, view["id"])


def test_removing_the_last_signer_to_sign_ends_the_huiqian(
    services: Services, signers: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    view = _start(services, signers)
    tasks = _by_group(view)
    view = cases.complete(services, signers["fire"], tasks["fire_dept"], {"decision": "approve"})
    with pytest.raises(Forbidden):  # fire has signed: it holds no instance of the 会签 any more
        add_signer.remove_parallel(services, signers["fire"], tasks["health_dept"], "不涉及卫生")
    view = add_signer.remove_parallel(
        services, signers["supervisor"], tasks["health_dept"], "经核实不涉及卫生许可"
    )
    assert view["data"]["sign_result"] == "approved"
    assert [t["element"] for t in view["tasks"]] == ["issue"]
    removed = queries.get_task(services, signers["auditor"], tasks["health_dept"])
    assert removed["status"] == "cancelled"
    _verified(services, signers, view["id"])


def test_the_refusals(services: Services, signers: dict[str, Any]) -> None:
    bundles.deploy(services, "joint")
    view = _start(services, signers)
    tasks = _by_group(view)
    fire = signers["fire"]
    with pytest.raises(Conflict, match="已在此会签中"):
        add_signer.add_parallel(services, fire, tasks["fire_dept"], "health_dept", "x")
    with pytest.raises(Invalid, match="没有成员"):
        add_signer.add_parallel(services, fire, tasks["fire_dept"], "nobody_dept", "x")
    with pytest.raises(Invalid, match="原因"):
        add_signer.add_parallel(services, fire, tasks["fire_dept"], "env_dept", "")
    with pytest.raises(Forbidden):  # not a holder of the 会签, not a supervisor
        add_signer.add_parallel(services, signers["env"], tasks["fire_dept"], "env_dept", "x")
    view = add_signer.remove_parallel(services, fire, tasks["health_dept"], "不涉及")
    with pytest.raises(Conflict, match="至少要保留"):
        add_signer.remove_parallel(services, signers["supervisor"], tasks["fire_dept"], "x")
    _verified(services, signers, view["id"])


def test_a_sequential_huiqian_takes_no_parallel_signer(
    services: Services, signers: dict[str, Any]
) -> None:
    bundles.deploy(services, "seq", sequential=True)
    view = _start(services, signers, "seq")
    first = view["tasks"][0]["id"]
    with pytest.raises(Conflict, match="并行会签"):
        add_signer.add_parallel(services, signers["fire"], first, "env_dept", "x")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_signers_added_at_once_both_join_or_a_clear_409(
    services: Services, signers: dict[str, Any]
) -> None:
    bundles.deploy(services, "joint")
    accounts.create_user(services, "market", "clerk", ["market_dept"])
    view = _start(services, signers)
    tasks = _by_group(view)
    both = simultaneously(
        lambda: add_signer.add_parallel(
            services, signers["fire"], tasks["fire_dept"], "env_dept", "a"
        ),
        lambda: add_signer.add_parallel(
            services, signers["health"], tasks["health_dept"], "market_dept", "b"
        ),
    )
    assert all(isinstance(r, dict) for r in both), both
    final = queries.get_case(services, signers["auditor"], view["id"])
    assert sorted(t["groups"][0] for t in final["tasks"]) == [
        "env_dept",
        "fire_dept",
        "health_dept",
        "market_dept",
    ]
    same = simultaneously(
        lambda: add_signer.add_parallel(
            services, signers["fire"], tasks["fire_dept"], "x_dept", "a"
        ),
        lambda: add_signer.add_parallel(
            services, signers["health"], tasks["health_dept"], "x_dept", "b"
        ),
    )
    assert sum(isinstance(r, dict) for r in same) <= 1
    assert all(isinstance(r, dict | Invalid | Conflict) for r in same), same
    _verified(services, signers, view["id"])


def test_a_workflow_loaded_from_its_state_adds_the_same_way(
    services: Services, signers: dict[str, Any]
) -> None:
    """The step run on a workflow loaded from the stored state (another process, no workflow
    kept in memory) records what the audit re-executes."""
    bundles.deploy(services, "joint")
    view = _start(services, signers)
    tasks = _by_group(view)
    elsewhere = Services(services.engine, services.forms.root)  # nothing kept in memory
    view = add_signer.add_parallel(elsewhere, signers["fire"], tasks["fire_dept"], "env_dept", "x")
    fresh = Services(services.engine, services.forms.root)
    view = add_signer.remove_parallel(
        fresh, signers["supervisor"], _by_group(view)["env_dept"], "y"
    )
    assert sorted(_by_group(view)) == ["fire_dept", "health_dept"]
    _verified(services, signers, view["id"])
