"""Test runs of a draft (engine/services/test_runs.py): the restaurant's paths replayed in memory
with the form checks of real cases, a waiting join, a refused step and its state, a timer
fast-forwarded, nothing written to the cases' tables; saved runs and their re-runs detecting a
changed route. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from engine.errors import Forbidden, Invalid, NotFound
from engine.services import Services, saved_test_runs, test_runs
from tests.conftest import PROCESSES
from tests.fixtures import bpmn
from tests.fixtures.restaurant import (
    ACCEPT,
    APPLICATION,
    FOOD_OK,
    FOOD_OK_INSPECT,
    INSPECTION_OK,
    ISSUANCE,
    LICENCE_OK,
)
from tests.processes.test_constructs import BOUNDARY_TIMER


def restaurant_files() -> dict[str, str]:
    root = PROCESSES / "restaurant"
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def steps(*done: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"start": APPLICATION}] + [{"complete": e, "data": d} for e, d in done]


WITH_INSPECTION = steps(
    ("intake", ACCEPT),
    ("review_licence", LICENCE_OK),
    ("review_food", FOOD_OK_INSPECT),
    ("site_inspection", INSPECTION_OK),
    ("joint_issuance", ISSUANCE),
)
WITHOUT_INSPECTION = steps(
    ("intake", ACCEPT),
    ("review_food", FOOD_OK),
    ("review_licence", LICENCE_OK),
    ("joint_issuance", ISSUANCE),
)


def run(services: Services, users: dict[str, Any], given: list[dict[str, Any]]) -> Any:
    body = {"files": restaurant_files(), "steps": given}
    return test_runs.run(services, users["designer"].user, body)


def counts(services: Services) -> dict[str, int]:
    tables = ("cases", "case_events", "human_tasks", "jobs", "bundle_versions", "certificates")
    with services.uow() as uow:
        return {t: uow.conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_the_inspection_branch_taken(services: Services, users: dict[str, Any]) -> None:
    answer = run(services, users, WITH_INSPECTION)
    assert answer["ok"] and all(s["ok"] for s in answer["steps"]) and answer["error"] is None
    assert answer["ended"] and answer["end_event"] == "concluded"
    done = answer["completed"]
    assert done[:3] == ["submitted", "intake_merge", "intake"]
    assert done.index("review_join") > max(done.index("review_licence"), done.index("review_food"))
    assert done.index("site_inspection") < done.index("joint_issuance") < done.index("concluded")
    assert "flow_inspection_needed" in answer["flows"]
    assert "flow_inspection_pass" in answer["flows"]
    assert "flow_inspection_not_needed" in answer["skipped_flows"]
    assert "flow_intake_refuse" in answer["skipped_flows"]
    assert answer["ready"] == [] and answer["waiting"] == [] and answer["timers"] == []
    # the case data as a case would hold it: the application merged with every form
    assert answer["data"]["shop_name"] == APPLICATION["shop_name"]
    assert answer["data"]["inspection_passed"] is True


def test_the_inspection_branch_skipped(services: Services, users: dict[str, Any]) -> None:
    before = counts(services)
    answer = run(services, users, WITHOUT_INSPECTION)
    assert answer["ok"] and answer["ended"] and answer["end_event"] == "concluded"
    assert "site_inspection" not in answer["completed"]
    assert "flow_inspection_not_needed" in answer["flows"]
    assert "flow_inspection_needed" in answer["skipped_flows"]
    assert "flow_inspection_needed" not in answer["flows"]
    # a test run stores nothing: no case, task, event, job, version or certificate
    assert counts(services) == before == dict.fromkeys(before, 0)


def test_a_join_waits_after_one_review(services: Services, users: dict[str, Any]) -> None:
    answer = run(services, users, steps(("intake", ACCEPT), ("review_licence", LICENCE_OK)))
    assert answer["ok"] and not answer["ended"]
    assert [t["element"] for t in answer["ready"]] == ["review_food"]
    food = answer["ready"][0]
    assert food["form"] == "restaurant/review_food.json" and food["groups"] == ["food_safety"]
    assert "food_approved" in food["schema"]["properties"]
    waiting = {w["element"]: w for w in answer["waiting"]}
    assert waiting["review_join"]["arrived"] == ["flow_review_licence_to_review_join"]
    assert waiting["review_join"]["inputs"] == 2
    # no materials owed (容缺): that branch reached the join before issuance at once
    assert waiting["issuance_join"]["arrived"] == ["flow_supply_merge_to_issuance_join"]
    assert "review_join" in answer["active"] and "review_food" in answer["active"]


def test_a_bad_form_step_reports_its_error_and_the_state_before_it(
    services: Services, users: dict[str, Any]
) -> None:
    bad = {"inspection_passed": "是", "inspection_report": "x"}  # not a yes/no, no method
    given = steps(
        ("intake", ACCEPT),
        ("review_licence", LICENCE_OK),
        ("review_food", FOOD_OK_INSPECT),
        ("site_inspection", bad),
        ("joint_issuance", ISSUANCE),
    )
    answer = run(services, users, given)
    assert not answer["ok"]
    assert [s["ok"] for s in answer["steps"]] == [True, True, True, True, False, None]
    error = answer["error"]
    assert error["step"] == 5 and error["element"] == "site_inspection"
    assert {e["field"] for e in error["errors"]} == {"inspection_passed", "inspection_method"}
    assert "表单填写有误" in error["message"]
    assert answer["steps"][4]["error"] == error
    # the state before the refused step: the inspection still waits, nothing past it ran
    assert [t["element"] for t in answer["ready"]] == ["site_inspection"]
    assert answer["completed"][-1] == "inspection_gateway"
    assert "inspection_passed" not in answer["data"]


def test_a_task_that_is_not_ready_is_refused_at_its_step(
    services: Services, users: dict[str, Any]
) -> None:
    answer = run(services, users, steps(("intake", ACCEPT), ("joint_issuance", ISSUANCE)))
    assert not answer["ok"] and answer["error"]["step"] == 3
    assert answer["error"]["element"] == "joint_issuance"
    assert "统一发证" in answer["error"]["message"]
    assert {t["element"] for t in answer["ready"]} == {"review_licence", "review_food"}


def test_an_expression_error_is_a_failed_step_not_a_crash(
    services: Services, users: dict[str, Any]
) -> None:
    files = {"p.bpmn": bpmn.decision("amount > 100").decode()}
    answer = test_runs.run(
        services,
        users["designer"].user,
        {"files": files, "steps": [{"start": {}}, {"complete": "task", "data": {}}]},
    )
    assert not answer["ok"] and answer["error"]["step"] == 2
    assert answer["error"]["element"] == "gw" and "amount" in answer["error"]["message"]
    assert [t["element"] for t in answer["ready"]] == ["task"]  # the state before it


def test_a_timer_is_fast_forwarded(services: Services, users: dict[str, Any]) -> None:
    files = {"timer.bpmn": BOUNDARY_TIMER.decode()}
    designer = users["designer"].user
    started = test_runs.run(services, designer, {"files": files, "steps": [{"start": {}}]})
    [timer] = started["timers"]
    assert timer["element"] == "late"
    now = datetime.fromisoformat(started["now"])
    assert datetime.fromisoformat(timer["due"]) == now + timedelta(days=10)
    assert [t["element"] for t in started["ready"]] == ["t"]

    fired = test_runs.run(
        services, designer, {"files": files, "steps": [{"start": {}}, {"fire_timer": "late"}]}
    )
    assert fired["ok"] and fired["ended"] and fired["end_event"] == "escalated"
    assert datetime.fromisoformat(fired["now"]) > datetime.fromisoformat(timer["due"])
    assert fired["completed"][-2:] == ["late", "escalated"] and fired["timers"] == []
    # the task the timer interrupted was reached, and is not a branch skipped
    assert fired["flows"] == ["f1", "f3"] and fired["skipped_flows"] == []

    # the task done first: the timer is gone, and firing it is refused at that step
    done = test_runs.run(
        services,
        designer,
        {
            "files": files,
            "steps": [{"start": {}}, {"complete": "t", "data": {}}, {"fire_timer": "late"}],
        },
    )
    assert done["error"]["step"] == 3 and done["error"]["element"] == "late"
    assert done["ended"] and done["end_event"] == "e"


def test_malformed_requests_and_drafts_are_refused_plainly(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    files = restaurant_files()
    for given, said in [
        ([{"complete": "intake"}], "第 1 步必须是 start"),
        ([{"start": {}}, {"start": {}}], "只有第 1 步"),
        ([{"start": {}, "complete": "x"}], "之一"),
        ("x", "列表"),
        ([{"start": {}}, {"complete": ""}], "元素的 id"),
    ]:
        with pytest.raises(Invalid) as caught:
            test_runs.run(services, designer, {"files": files, "steps": given})
        assert said in caught.value.message, caught.value.message
    broken = {**files, "restaurant.bpmn": files["restaurant.bpmn"].replace("</bpmn:process>", "")}
    with pytest.raises(Invalid) as refused:
        test_runs.run(services, designer, {"files": broken, "steps": []})
    assert refused.value.details["errors"][0]["file"] == "restaurant.bpmn"
    with pytest.raises(Forbidden):
        test_runs.run(services, users["front_desk"].user, {"files": files, "steps": []})
    with pytest.raises(NotFound):
        test_runs.run(services, designer, {"bundle": {"key": "nope"}, "steps": []})


def test_a_stored_version_runs_like_its_files(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    designer = users["designer"].user
    body = {"bundle": {"key": "restaurant", "version": 1}, "steps": WITHOUT_INSPECTION}
    stored = test_runs.run(services, designer, body)
    posted = run(services, users, WITHOUT_INSPECTION)
    for key in ("completed", "flows", "skipped_flows", "end_event", "data"):
        assert stored[key] == posted[key], key


def test_saved_runs_and_a_rerun_catching_a_changed_route(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    files = restaurant_files()
    saved = saved_test_runs.save_run(
        services,
        designer,
        "restaurant",
        {"name": "无需踏勘", "files": files, "steps": WITHOUT_INSPECTION},
    )
    assert (
        saved["expected"]["end_event"] == "concluded" and saved["expected"]["failed_step"] is None
    )
    # stopping after the reviews: what the draft waits on is recorded too
    partial = steps(("intake", ACCEPT), ("review_food", FOOD_OK), ("review_licence", LICENCE_OK))
    second = saved_test_runs.save_run(
        services, designer, "restaurant", {"name": "  审查 后 ", "files": files, "steps": partial}
    )
    assert second["name"] == "审查 后" and second["expected"]["ready"] == ["joint_issuance"]
    listed = saved_test_runs.list_runs(services, designer, "restaurant")["runs"]
    assert [r["name"] for r in listed] == ["无需踏勘", "审查 后"]
    assert saved_test_runs.list_runs(services, designer, "other")["runs"] == []

    renamed = saved_test_runs.update_run(
        services, designer, "restaurant", second["id"], {"name": "审查通过"}
    )
    assert renamed["name"] == "审查通过" and renamed["steps"] == partial

    same = saved_test_runs.rerun(services, designer, "restaurant", {"files": files})
    assert same["passed"] and same["total"] == 2 and same["failed"] == 0

    # the draft edited: the inspection is now needed whatever the food review said
    edited = dict(files)
    edited["restaurant.bpmn"] = files["restaurant.bpmn"].replace(
        "needs_inspection == True", "needs_inspection == False"
    )
    changed = saved_test_runs.rerun(services, designer, "restaurant", {"files": edited})
    assert not changed["passed"] and changed["failed"] == 2
    first, after_reviews = changed["runs"]
    # the full path: its issuance step is no longer possible
    assert first["difference"]["step"] == 5
    assert first["difference"]["message"].startswith("第 5 步失败")
    assert first["difference"]["element"] == "joint_issuance"
    # stopping after the reviews: the path now turns to the inspection
    assert after_reviews["difference"]["message"].startswith("路径在")
    assert after_reviews["difference"]["element"] in {"decision_merge", "site_inspection"}

    # recorded again on the edited draft, it passes there
    saved_test_runs.update_run(services, designer, "restaurant", second["id"], {"files": edited})
    again = saved_test_runs.rerun(services, designer, "restaurant", {"files": edited})
    assert [r["passed"] for r in again["runs"]] == [False, True]

    saved_test_runs.delete_run(services, designer, "restaurant", saved["id"])
    with pytest.raises(NotFound):
        saved_test_runs.delete_run(services, designer, "restaurant", saved["id"])
    with pytest.raises(NotFound):
        saved_test_runs.update_run(services, designer, "other", second["id"], {"name": "x"})
    assert [
        r["id"] for r in saved_test_runs.list_runs(services, designer, "restaurant")["runs"]
    ] == [second["id"]]
    with pytest.raises(Invalid):
        saved_test_runs.save_run(
            services, designer, "other", {"name": "x", "files": files, "steps": partial}
        )
    with pytest.raises(Invalid):
        saved_test_runs.save_run(services, designer, "restaurant", {"name": " ", "steps": partial})
    with pytest.raises(Forbidden):
        saved_test_runs.list_runs(services, users["front_desk"].user, "restaurant")


def test_a_recorded_refusal_stays_a_refusal(services: Services, users: dict[str, Any]) -> None:
    designer = users["designer"].user
    files = restaurant_files()
    refused = steps(("intake", {"intake_decision": "accept", "intake_opinion": 1}))
    saved = saved_test_runs.save_run(
        services,
        designer,
        "restaurant",
        {"name": "意见必须是文本", "files": files, "steps": refused},
    )
    assert saved["expected"]["failed_step"] == 2
    assert saved_test_runs.rerun(services, designer, "restaurant", {"files": files})["passed"]


def test_rerun_on_the_latest_stored_version(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    designer = users["designer"].user
    saved_test_runs.save_run(
        services, designer, "restaurant", {"name": "踏勘", "steps": WITH_INSPECTION}
    )
    result = saved_test_runs.rerun(services, "cli", "restaurant", None)
    assert result["passed"] and result["version"] == 1
    assert saved_test_runs.rerun(services, "cli", "restaurant", {"version": 1})["passed"]
    with pytest.raises(NotFound):
        saved_test_runs.rerun(services, "cli", "restaurant", {"version": 2})


def test_a_terminate_end_cuts_the_open_branch_short(
    services: Services, users: dict[str, Any]
) -> None:
    from tests.fixtures.restaurant import ACCEPT_WITH_GAPS, DENIAL, LICENCE_NO

    answer = run(
        services,
        users,
        steps(
            ("intake", ACCEPT_WITH_GAPS),
            ("review_licence", LICENCE_NO),
            ("review_food", FOOD_OK),
            ("denial_notice", DENIAL),
        ),
    )
    assert answer["ok"] and answer["ended"] and answer["end_event"] == "denied"
    assert answer["end_name"] == "不予许可"
    # the materials owed were still awaited when the denial ended the case: that branch was
    # taken (not skipped), its task never completed
    assert "flow_gaps_supply" in answer["flows"]
    assert "flow_gaps_supply" not in answer["skipped_flows"]
    assert "supply_materials" not in answer["completed"]
    assert "flow_decision_deny" in answer["flows"]
    assert "flow_decision_grant" in answer["skipped_flows"]
    assert answer["ready"] == [] and answer["waiting"] == []
