"""Kill the server (SIGKILL, every process) again and again in the middle of steps: no step
is ever half-written, and afterwards every case re-executes to exactly its record."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from engine.services.audit import replay
from tests.conftest import PROCESSES
from tests.e2e.server import Server
from tests.fixtures import restaurant as r

KILLS = 10
STEPS = {
    "intake": ("front_desk", r.ACCEPT),
    "review_licence": ("market_reviewer", r.LICENCE_OK),
    "review_food": ("food_reviewer", r.FOOD_OK),
    "joint_issuance": ("issuer", r.ISSUANCE),
}


def test_steps_survive_the_server_being_killed(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_path(PROCESSES / "restaurant"), "test")
    case_ids = [
        cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)["id"]
        for _ in range(20)
    ]
    stop = threading.Event()
    counter = [0, 0]  # steps sent, requests cut off by a kill
    server = Server(db_url, workers=2).__enter__()
    holder = {"server": server}
    worker = threading.Thread(target=lambda: drive_forever(holder, users, case_ids, stop, counter))
    worker.start()
    try:
        for _ in range(KILLS):
            time.sleep(0.3)
            holder["server"].kill()  # mid-request, most likely
            holder["server"] = Server(db_url, workers=2).__enter__()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [
                queries.get_case(services, users["auditor"].user, c)["status"] for c in case_ids
            ]
            if all(s == "completed" for s in states):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
        holder["server"].__exit__()
    assert counter[0] > 0 and counter[1] > 0, counter  # steps ran, and kills cut some short
    for case_id in case_ids:
        assert queries.get_case(services, users["auditor"].user, case_id)["status"] == "completed"
        verdict = replay(services, users["auditor"].user, case_id)
        assert verdict["verified"], verdict
        events = queries.events(services, users["auditor"].user, case_id)
        completed = [e["element"] for e in events if e["type"] == "task_completed"]
        assert sorted(completed) == sorted(STEPS), completed  # each step exactly once


def drive_forever(
    holder: dict[str, Server],
    users: dict[str, Any],
    case_ids: list[int],
    stop: threading.Event,
    counter: list[int],
) -> None:
    """Work the cases' open tasks through whichever server is up, until told to stop."""
    while not stop.is_set():
        _round(holder, users, case_ids, counter)


def _round(
    holder: dict[str, Server], users: dict[str, Any], case_ids: list[int], counter: list[int]
) -> None:
    """One pass over the cases; the server dying under a request is expected, and the step
    is simply looked at again on the next pass."""
    server = holder["server"]
    auditor = users["auditor"].token
    for case_id in case_ids:
        try:
            status, case = server.call("GET", f"/cases/{case_id}", auditor)
            if status != 200 or case["status"] != "running":
                continue
            for task in case["tasks"]:
                clerk, form = STEPS[task["element"]]
                if task["element"] == "joint_issuance":
                    form = {
                        **form,
                        "licence_number": f"91330102{case_id:010d}",
                        "permit_number": f"JY{case_id:014d}",
                    }
                server.call(
                    "POST", f"/tasks/{task['id']}/complete", users[clerk].token, {"data": form}
                )
                counter[0] += 1
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
            counter[1] += 1  # a request the kill cut off
            time.sleep(0.05)
