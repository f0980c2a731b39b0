"""The guards around SpiffWorkflow 3.2.0 (see docs/engine-guards.md), each tested."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.bpmn.parser import LianbanParser
from engine.bpmn.runtime import EngineLimitExceeded, ProcessRuntime, StepFailed
from engine.bpmn.script_engine import SafeEnvironment, ScriptsNotAllowed
from engine.bpmn.serializer import StateFormatError, dump_state, specs_from_json, specs_to_json
from engine.bpmn.xml import parse_xml
from engine.expressions import ExpressionError
from tests.fixtures import bpmn


def runtime_for(document: bytes, process: str) -> ProcessRuntime:
    """Parse directly, skipping upload checks: as if a stored spec had been tampered with."""
    parser = LianbanParser()
    parser.add_bpmn_xml(parse_xml(document), "t.bpmn")
    spec = parser.get_spec(process)
    return ProcessRuntime(
        specs_from_json(specs_to_json(spec, parser.get_subprocess_specs(process)))
    )


def test_the_environment_never_executes_scripts() -> None:
    env = SafeEnvironment()
    with pytest.raises(ScriptsNotAllowed):
        env.execute("import os", {})
    with pytest.raises(ScriptsNotAllowed):
        env.call_service({})
    with pytest.raises(ExpressionError):
        env.evaluate("__import__('os').system('id')", {})


def test_code_in_a_stored_condition_cannot_run_at_run_time(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    rt = runtime_for(bpmn.decision(f"__import__('os').system('touch {marker}') == 0"), "p")
    workflow = rt.start({})
    task = workflow.ready_tasks()[0]
    with pytest.raises(StepFailed) as err:
        workflow.complete(task.id, {})
    assert err.value.element == "gw" or "gw" in err.value.message or err.value.element == "yes"
    assert not marker.exists()


def test_a_condition_reading_a_missing_field_fails_the_step_plainly() -> None:
    rt = runtime_for(bpmn.decision("approved == True"), "p")
    workflow = rt.start({})
    task = workflow.ready_tasks()[0]
    saved = workflow.dump()
    with pytest.raises(StepFailed) as err:
        workflow.complete(task.id, {})
    assert "approved" in err.value.message
    workflow = rt.load(saved)  # the service discards the failed copy; the stored state is intact
    workflow.complete(task.id, {"approved": True})
    assert workflow.is_finished()


def test_a_task_cannot_be_completed_twice() -> None:
    rt = runtime_for(bpmn.linear(), "p")
    workflow = rt.start({})
    task = workflow.ready_tasks()[0]
    workflow.complete(task.id, {})
    with pytest.raises(StepFailed):
        workflow.complete(task.id, {})


def test_stored_state_does_not_repeat_the_spec_and_refuses_unknown_formats() -> None:
    rt = runtime_for(bpmn.parallel(), "parallel")
    state = rt.start({}).dump()
    assert "task_specs" not in state
    data = json.loads(state)
    data["format"] = "spiff-1.4"
    with pytest.raises(StateFormatError):
        rt.load(json.dumps(data))


def test_spiff_logging_is_quiet() -> None:
    assert logging.getLogger("spiff").getEffectiveLevel() >= logging.WARNING


def test_a_deep_loop_never_reports_a_false_completion() -> None:
    """SpiffWorkflow's task iterator stops at depth 1000 (about 330 rounds of a two-task loop):
    its own get_tasks()/is_completed() then lose the open task. Our runtime refuses that step
    loudly, and the stored state from before it still holds the open task."""
    rt = runtime_for(bpmn.loop(), "loop")
    workflow = rt.start({})
    rounds = 0
    for rounds in range(400):  # noqa: B007  (read after the loop)
        ready = workflow.ready_tasks()
        assert len(ready) == 1, "the open task was lost"
        assert not workflow.is_finished()
        saved = dump_state(workflow.spiff)  # uncompacted: guard 2 on SpiffWorkflow's own tree
        try:
            workflow.complete(ready[0].id, {"again": True})
        except EngineLimitExceeded as err:
            assert "深度" in err.message
            break
    else:
        pytest.fail("400 rounds passed the depth limit without the guard noticing")
    assert rounds > 300
    restored = rt.load(saved)
    assert [t.element for t in restored.ready_tasks()] == ["task"]
    assert not restored.is_finished()


def _restaurant_states() -> list[str]:
    """The restaurant case run in memory at fixed times, its state after every step."""
    from datetime import UTC, datetime, timedelta

    from bench.inmemory import runtime
    from engine.bpmn.ids import task_ids
    from tests.fixtures.restaurant import APPLICATION, PATHS

    rt = runtime()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with task_ids("case:1"):
        workflow = rt.start(APPLICATION, at=at)
    states = [workflow.dump()]
    data = dict(APPLICATION)
    for n, (element, form) in enumerate(PATHS["granted_without_inspection"][0], start=2):
        [task] = [t for t in workflow.ready_tasks() if t.element == element]
        data = {**data, **form}
        with task_ids(f"case:{n}"):
            workflow.complete(task.id, data, at=at + timedelta(hours=n))
        states.append(workflow.dump())
    assert workflow.is_finished()
    return states


def test_state_changes_without_the_library_log_store_the_same_state(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine skips building SpiffWorkflow's per-state-change log record while that log is
    off; the tasks change exactly as under the library's own code (states and times of change,
    hence the stored state and its hash), and turning the log on brings the records back."""
    from SpiffWorkflow.task import Task

    from engine.bpmn import patches

    assert Task._set_state is patches.quiet_set_state
    ours = _restaurant_states()
    with monkeypatch.context() as m:
        m.setattr(Task, "_set_state", patches.LOGGED_SET_STATE)
        library = _restaurant_states()
    assert ours == library
    assert not [r for r in caplog.records if r.name == "spiff.task"]
    with caplog.at_level(logging.DEBUG, logger="spiff.task"):
        logged = _restaurant_states()
    assert logged == ours
    changes = [r for r in caplog.records if r.name == "spiff.task"]
    assert changes and any(r.getMessage().startswith("State changed to") for r in changes)
