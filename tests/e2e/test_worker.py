"""`lianban worker` as a real process: timers fire within seconds, and survive a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing, queries
from tests.e2e.server import LIANBAN
from tests.fixtures import bpmn

SHORT_TIMER = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:boundaryEvent id="late" attachedToRef="t">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT2S"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated" /><bpmn:endEvent id="escalated" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")


def worker(db_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LIANBAN_DATABASE_URL": db_url}
    return subprocess.Popen(
        [str(LIANBAN), "worker", "--poll", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def fired_at(
    services: Services, users: dict[str, Any], case_id: int, timeout: float
) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = queries.events(services, users["auditor"].user, case_id)
        if any(e["type"] == "timer_fired" for e in events):
            return time.time()
        time.sleep(0.1)
    return None


def test_a_timer_fires_within_seconds_of_its_due_time(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_upload("short.bpmn", SHORT_TIMER), "test")
    process = worker(db_url)
    try:
        case = cases.start_case(services, users["front_desk"].user, "p", {})
        due = time.time() + 2
        when = fired_at(services, users, case["id"], timeout=15)
        assert when is not None, "the timer did not fire within 15 s"
        assert when - due < 2.0, f"fired {when - due:.2f} s after its due time"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_killed_worker_loses_no_timer(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_upload("short.bpmn", SHORT_TIMER), "test")
    first = worker(db_url)
    case = cases.start_case(services, users["front_desk"].user, "p", {})
    time.sleep(0.5)
    first.send_signal(signal.SIGKILL)  # dies before the timer is due
    first.wait(timeout=10)
    assert queries.get_case(services, users["auditor"].user, case["id"])["status"] == "running"
    second = worker(db_url)
    try:
        assert fired_at(services, users, case["id"], timeout=15) is not None
    finally:
        second.terminate()
        second.wait(timeout=10)
    events = queries.events(services, users["auditor"].user, case["id"])
    assert [e["type"] for e in events].count("timer_fired") == 1
