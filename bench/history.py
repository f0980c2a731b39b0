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

from engine.services import cases, queries

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


class LoopCase:
    """One 补正-loop case, stepped one completion at a time, each step timed."""

    def __init__(self, env: Env, claims: bool = False) -> None:
        self.svc = env.svc
        self.clerk = env.clerk_for("intake").user
        self.claims = claims
        self.case = cases.start_case(self.svc, self.clerk, "restaurant", APPLICATION)
        self.loop = Loop(self.case["id"])

    def step(self) -> bool:
        """Complete the open task (claiming it first with `claims`); False if the engine
        refused the step (then `loop.stopped` says why) or refused one before."""
        from engine.errors import Invalid

        if self.loop.stopped:
            return False
        [task] = self.case["tasks"]
        form = CORRECT if task["element"] == "intake" else CORRECTED
        if self.claims:
            cases.claim(self.svc, self.clerk, task["id"])
            self.loop.events += 1
        started = time.perf_counter()
        try:
            self.case = cases.complete(self.svc, self.clerk, task["id"], form)
        except Invalid as err:
            self.loop.stopped = f"step {self.loop.steps + 1} refused (422): {err.message}"
            return False
        self.loop.step_seconds.append(time.perf_counter() - started)
        self.loop.events += 1
        return True

    def run_to(self, steps: int) -> bool:
        """Step until the case has had `steps` steps; False if the engine refused one."""
        while self.loop.steps < steps:
            if not self.step():
                return False
        return True


def correction_loop(env: Env, steps: int, claims: bool = False) -> Loop:
    """Start a case and run `steps` 补正 steps (fewer if the engine refuses one), timing each.

    With `claims`, the clerk claims each task before completing it (2 events a step)."""
    case = LoopCase(env, claims)
    case.run_to(steps)
    return case.loop


@dataclass
class Paired:
    """Step times of two windows measured alternately, step by step."""

    early: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)


def loop_with_paired_windows(
    env: Env, steps: int, early: int, late: int, width: int
) -> tuple[Loop, Paired]:
    """`correction_loop(env, steps)`, except that its steps with `late` .. `late + width - 1`
    earlier steps alternate with the steps of a second case that has had `early` .. `early +
    width - 1`: both windows then see the machine at the same moments, so their ratio holds
    where the machine's speed drifts (one case's window medians have moved from 3.3 to 6.1 ms
    between steps 10 and 200, with the step itself not growing)."""
    short, long = LoopCase(env), LoopCase(env)
    paired = Paired()
    if short.run_to(early) and long.run_to(late):
        for _ in range(width):
            if not (short.step() and long.step()):
                break
            paired.early.append(short.loop.step_seconds[-1])
            paired.late.append(long.loop.step_seconds[-1])
    long.run_to(steps)
    return long.loop, paired


def pad_with_claims(env: Env, loop: Loop, events: int) -> None:
    """Bring a case to exactly `events` events with claim/unclaim of its open task (events that
    do not move the engine but that replay verifies like any other)."""
    clerk = env.clerk_for("intake").user
    [task] = queries.get_case(env.svc, clerk, loop.case_id)["tasks"]
    while loop.events < events:
        if task["assignee"]:
            task = cases.unclaim(env.svc, clerk, task["id"])
        else:
            task = cases.claim(env.svc, clerk, task["id"])
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
