"""Several server processes, one case: parallel completions at the same moment all land.

Runs `lianban serve` (gunicorn, 3 worker processes) against SQLite and PostgreSQL and sends
simultaneous requests from threads; each request may be served by a different process.
"""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, publishing
from tests.e2e.server import Server
from tests.fixtures import bpmn
from tests.fixtures.concurrency import simultaneously

ROUNDS = 8


def test_parallel_tasks_completed_at_once_through_several_processes(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_upload("parallel.bpmn", bpmn.parallel()), "test")
    desk, market, food = (
        users[n].token for n in ("front_desk", "market_reviewer", "food_reviewer")
    )
    auditor = users["auditor"].token
    with Server(db_url) as server:
        for round_ in range(ROUNDS):
            status, case = server.call(
                "POST", "/cases", desk, {"bundle": "parallel", "data": {"round": round_}}
            )
            assert status == 201, case
            tasks = {t["element"]: t["id"] for t in case["tasks"]}
            (s1, r1), (s2, r2) = simultaneously(
                lambda t=tasks["a"]: server.call(
                    "POST", f"/tasks/{t}/complete", market, {"data": {"a_ok": True}}
                ),
                lambda t=tasks["b"]: server.call(
                    "POST", f"/tasks/{t}/complete", food, {"data": {"b_ok": True}}
                ),
            )
            assert (s1, s2) == (200, 200), (r1, r2)
            status, final = server.call("GET", f"/cases/{case['id']}", auditor)
            assert final["status"] == "completed"
            assert final["data"] == {"round": round_, "a_ok": True, "b_ok": True}
            status, events = server.call("GET", f"/cases/{case['id']}/events", auditor)
            kinds = [e["type"] for e in events["events"]]
            assert kinds.count("task_completed") == 2 and kinds[-1] == "case_completed"
            assert [e["seq"] for e in events["events"]] == list(range(1, len(kinds) + 1))


def test_one_task_completed_twice_at_once_lands_once(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_upload("p.bpmn", bpmn.linear()), "test")
    desk, other = users["front_desk"].token, users["other_clerk"].token
    with Server(db_url) as server:
        for _ in range(ROUNDS):
            _, case = server.call("POST", "/cases", desk, {"bundle": "p", "data": {}})
            task = case["tasks"][0]["id"]
            results = simultaneously(
                lambda t=task: server.call(
                    "POST", f"/tasks/{t}/complete", desk, {"data": {"by": "desk"}}
                ),
                lambda t=task: server.call(
                    "POST", f"/tasks/{t}/complete", other, {"data": {"by": "other"}}
                ),
            )
            assert sorted(s for s, _ in results) == [200, 409], results
            _, events = server.call("GET", f"/cases/{case['id']}/events", users["auditor"].token)
            assert [e["type"] for e in events["events"]].count("task_completed") == 1
