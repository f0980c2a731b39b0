"""Long cases: the cost of one step as a 补正 loop grows the case's history, and replay
verification (`engine.services.audit.replay`) of cases with many events.

The 补正 loop is the restaurant's 一窗受理 → 申请人补正 → 一窗受理 ...: each step completes the one
open task and appends one `task_completed` event, so a case with N events has had N - 1 steps
after its start. Before compaction (engine/bpmn/compaction.py) the engine refused the 500th step
(SpiffWorkflow's depth limit, docs/engine-guards.md §2); if it ever refuses one, the loop stops
and says where and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .common import APPLICATION, CORRECT, CORRECTED, Env, median


@dataclass
class Loop:
    case_id: int
    step_seconds: list[float] = field(default_factory=list)
    stopped: str | None = None  # why the loop ended before its target, if it did
    events: int = 1

    @property
    def steps(self) -> int:
        return len(self.step_seconds)


def correction_loop(env: Env, steps: int, claims: bool = False) -> Loop:
    """Start a case and run `steps` 补正 steps (fewer if the engine refuses one), timing each.

    With `claims`, the clerk claims each task before completing it (2 events a step)."""
    from engine.errors import Invalid

    svc = env.svc
    clerk = env.clerk_for("intake").user
    case = svc.start_case(clerk, "restaurant", APPLICATION)
    loop = Loop(case["id"])
    for number in range(1, steps + 1):
        [task] = case["tasks"]
        form = CORRECT if task["element"] == "intake" else CORRECTED
        if claims:
            svc.claim(clerk, task["id"])
            loop.events += 1
        started = time.perf_counter()
        try:
            case = svc.complete(clerk, task["id"], form)
        except Invalid as err:
            loop.stopped = f"step {number} refused (422): {err.message}"
            break
        loop.step_seconds.append(time.perf_counter() - started)
        loop.events += 1
    return loop


def pad_with_claims(env: Env, loop: Loop, events: int) -> None:
    """Bring a case to exactly `events` events with claim/unclaim of its open task (events that
    do not move the engine but that replay verifies like any other)."""
    clerk = env.clerk_for("intake").user
    [task] = env.svc.get_case(clerk, loop.case_id)["tasks"]
    while loop.events < events:
        if task["assignee"]:
            task = env.svc.unclaim(clerk, task["id"])
        else:
            task = env.svc.claim(clerk, task["id"])
        loop.events += 1


def replay_ms_per_event(env: Env, case_id: int, repeats: int) -> dict[str, Any]:
    """Median over `repeats` of verifying the case by re-executing it, per event."""
    from engine.services import audit

    times = []
    verdict: dict[str, Any] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        verdict = audit.replay(env.svc, None, case_id)
        times.append(time.perf_counter() - started)
    if not verdict.get("verified"):
        raise RuntimeError(f"replay did not verify case {case_id}: {verdict}")
    events = int(verdict["steps"])
    return {
        "events": events,
        "seconds": median(times),
        "ms_per_event": median(times) / events * 1000,
    }
