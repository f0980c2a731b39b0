"""The engine without storage: `ProcessRuntime` (lianban's SpiffWorkflow wrapper: parsed specs,
safe script engine, engine clock, depth-limit guards) running the restaurant case in memory, and
SpiffWorkflow alone in a process of its own (bench.spiff_alone)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from typing import Any

from .common import APPLICATION, CORRECT, CORRECTED, FORMS, PATH, RESTAURANT, ROOT, STEPS


def runtime() -> Any:
    from engine.bpmn.runtime import ProcessRuntime
    from engine.bpmn.serializer import specs_from_json
    from engine.bundles.compiler import FormLibrary, compile_bundle
    from engine.bundles.source import from_path

    compiled = compile_bundle(from_path(RESTAURANT), FormLibrary(FORMS))
    # The specs as a step gets them: stored as JSON at deploy, rebuilt once, cached.
    return ProcessRuntime(specs_from_json(compiled.specs_json))


def run_case(rt: Any) -> None:
    from engine.domain.audit import canonical_data

    data = canonical_data(APPLICATION)
    workflow = rt.start(data)
    for element, form in STEPS:
        task = next(t for t in workflow.ready_tasks() if t.element == element)
        data = canonical_data({**data, **form})  # merged as the service merges it
        workflow.complete(task.id, data)
    if not workflow.is_finished():
        raise RuntimeError("the restaurant case did not complete in memory")


def runtime_cases_per_s(cases: int) -> dict[str, Any]:
    rt = runtime()
    run_case(rt)  # warm-up
    gc.collect()
    started = time.perf_counter()
    for _ in range(cases):
        run_case(rt)
    elapsed = time.perf_counter() - started
    return {"cases": cases, "seconds": elapsed, "cases_per_s": cases / elapsed}


def runtime_loop(max_steps: int) -> dict[str, Any]:
    """A 补正 loop in memory, each step as a service runs it minus the database: rebuild the
    workflow from its stored state, complete the task, dump the state again."""
    from engine.bpmn.runtime import StepFailed
    from engine.domain.audit import canonical_data

    rt = runtime()
    data = canonical_data(APPLICATION)
    state = rt.start(data).dump()
    times: list[float] = []
    stopped = None
    for number in range(1, max_steps + 1):
        [task] = rt.load(state).ready_tasks()
        form = CORRECT if task.element == "intake" else CORRECTED
        merged = canonical_data({**data, **form})
        started = time.perf_counter()
        workflow = rt.load(state)
        try:
            workflow.complete(task.id, merged)
        except StepFailed as err:
            stopped = f"step {number} refused: {err.message}"
            break
        state = workflow.dump()
        times.append(time.perf_counter() - started)
        data = merged
    return {"step_seconds": times, "stopped": stopped}


def spiff_alone(cases: int, loop_steps: int) -> dict[str, Any]:
    """SpiffWorkflow alone, in a fresh interpreter that never imports lianban."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.spiff_alone",
            "--cases",
            str(cases),
            "--path",
            PATH,
            "--loop-steps",
            str(loop_steps),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["lianban_modules_loaded"]:
        raise RuntimeError(f"lianban modules leaked into the bare run: {result}")
    return result
