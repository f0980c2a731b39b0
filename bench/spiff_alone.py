"""The restaurant case run by SpiffWorkflow alone: its default BPMN parser, `BpmnWorkflow`, its
default Python script engine; no lianban module is imported (lianban patches SpiffWorkflow's
clock and task ids when loaded), so this runs in a process of its own:

    python -m bench.spiff_alone --cases 500 --loop-steps 520

prints one JSON object: cases per second on the path the suite uses, and the time of each step
of a 补正 loop (intake, correction, intake, ...) until the library stops offering a task.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parents[1]
BPMN = ROOT / "processes" / "restaurant" / "restaurant.bpmn"


def _data() -> Any:
    # Pure data, the same the rest of the suite uses (it imports nothing of lianban).
    sys.path.insert(0, str(ROOT))
    from bench import workload

    return workload


def _specs() -> tuple[Any, Any]:
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    return parser.get_spec("restaurant"), parser.get_subprocess_specs("restaurant")


def _start(specs: tuple[Any, Any], application: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(*specs)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(application)
    workflow.do_engine_steps()
    return workflow


def _ready(workflow: BpmnWorkflow) -> list[Any]:
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def _step(workflow: BpmnWorkflow, task: Any, data: dict[str, Any]) -> None:
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()


def run_case(specs: tuple[Any, Any], application: dict[str, Any], steps: list[Any]) -> None:
    workflow = _start(specs, application)
    for element, data in steps:
        task = next(t for t in _ready(workflow) if t.task_spec.bpmn_id == element)
        _step(workflow, task, data)
    if not workflow.completed:
        raise RuntimeError("the restaurant case did not complete under SpiffWorkflow alone")


def cases_per_s(cases: int, path: str) -> dict[str, Any]:
    r = _data()
    specs = _specs()
    steps = r.PATHS[path][0]
    run_case(specs, r.APPLICATION, steps)  # warm-up
    gc.collect()
    started = time.perf_counter()
    for _ in range(cases):
        run_case(specs, r.APPLICATION, steps)
    elapsed = time.perf_counter() - started
    return {"cases": cases, "seconds": elapsed, "cases_per_s": cases / elapsed}


def correction_loop(max_steps: int) -> dict[str, Any]:
    """Time each step of a 补正 loop; stop where the library no longer offers a ready task."""
    r = _data()
    workflow = _start(_specs(), r.APPLICATION)
    times: list[float] = []
    stopped = None
    for number in range(1, max_steps + 1):
        ready = _ready(workflow)
        if not ready:
            stopped = (
                f"SpiffWorkflow offers no ready task at step {number} "
                f"(its task iterator stops at depth 1000; completed={workflow.completed})"
            )
            break
        task = ready[0]
        data = r.CORRECT if task.task_spec.bpmn_id == "intake" else r.CORRECTED
        started = time.perf_counter()
        _step(workflow, task, data)
        times.append(time.perf_counter() - started)
    return {"step_seconds": times, "stopped": stopped}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--path", default="granted_without_inspection")
    parser.add_argument("--loop-steps", type=int, default=0)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if args.cases:
        result["cases"] = cases_per_s(args.cases, args.path)
    if args.loop_steps:
        result["loop"] = correction_loop(args.loop_steps)
    # proof that the figures are SpiffWorkflow's own: nothing of lianban was loaded
    result["lianban_modules_loaded"] = sorted(
        m for m in sys.modules if m in ("engine", "web") or m.startswith(("engine.", "web."))
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
