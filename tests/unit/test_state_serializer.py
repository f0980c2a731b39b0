"""The stored state is written by lianban's own task mapping (engine/bpmn/serializer.py,
`_TaskMapping`), which must give exactly what SpiffWorkflow 3.2.0's converters give: the state's
text is hashed into every event, so one byte of difference would make old cases fail their
replay. Every state the compaction tests produce (every restaurant path, the 补正 loop, joins in
loops, subprocesses, call activities, multi-instance, timers; compacted and whole, fresh and
reloaded) is written both ways and compared, and so are states with what those paths do not
make: deleted keys, dates, nested data, internal data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter

import engine.bpmn.case_workflow as case_workflow_module
import engine.bpmn.serializer as serializer
from engine.bpmn.ids import task_ids
from engine.bpmn.task_table import all_tasks
from tests.fixtures.restaurant import APPLICATION, CORRECT
from tests.unit import test_compaction as paths


class _LibrarySpecless(BpmnWorkflowConverter):  # type: ignore[misc]
    """The state as SpiffWorkflow writes it (the spec left out, as lianban stores it)."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


LIBRARY = serializer._make_serializer(
    {**serializer._CONFIG, serializer.BpmnWorkflow: _LibrarySpecless}
)


def library_dump(workflow: Any, legacy: bool = False) -> str:
    ours = serializer._STATE_SERIALIZER
    serializer._STATE_SERIALIZER = LIBRARY
    try:
        return serializer.dump_state(workflow, legacy)
    finally:
        serializer._STATE_SERIALIZER = ours


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every state written while the test runs is also written by the library and compared."""
    written: list[int] = []
    ours = serializer.dump_state

    def both(workflow: Any, legacy: bool = False) -> str:
        text = ours(workflow, legacy)
        assert text == library_dump(workflow, legacy)
        written.append(len(text))
        return text

    monkeypatch.setattr(case_workflow_module, "dump_state", both)
    monkeypatch.setattr(paths, "dump_state", both)
    yield written
    assert written, "no state was written"


@pytest.mark.parametrize("path", sorted(paths.PATHS))
def test_every_restaurant_path_is_written_as_the_library_writes_it(
    path: str, compared: list[int]
) -> None:
    paths.test_every_restaurant_path_runs_the_same_compacted(path)
    assert len(compared) >= 2 * (len(paths.PATHS[path][0]) + 1)


def test_the_correction_loop_is_written_as_the_library_writes_it(compared: list[int]) -> None:
    paths.test_the_correction_loop_is_compacted_and_keeps_its_history_of_elements()


@pytest.mark.parametrize(
    "document,data,order",
    [
        (paths.MULTI_INSTANCE, {"items": ["甲", "乙", "丙"]}, None),
        (paths.SUBPROCESS, {}, None),
        (paths.CALL_ACTIVITY, {}, None),
        (paths.BOUNDARY_TIMER, {}, None),
        (paths.bpmn.parallel(), {}, ["b", "a"]),
    ],
    ids=["multi_instance", "subprocess", "call_activity", "boundary_timer", "parallel"],
)
def test_constructs_are_written_as_the_library_writes_them(
    document: bytes, data: dict[str, Any], order: list[str] | None, compared: list[int]
) -> None:
    paths.test_constructs_run_the_same_compacted(document, data, order)


def test_a_fired_timer_and_joins_in_loops_are_written_as_the_library_writes_them(
    compared: list[int],
) -> None:
    paths.test_a_fired_boundary_timer_runs_the_same_compacted()
    paths.test_joins_inside_a_loop_run_the_same_compacted(
        paths.INCLUSIVE_LOOP, ["ab", "ba", "b", "ab", "b"]
    )


def test_a_subprocess_mid_way_is_written_as_the_library_writes_it() -> None:
    """A workflow with a live subprocess: its tasks go through the subprocess converter."""
    rt = paths._runtime(paths.CALL_ACTIVITY)
    with task_ids("sub:0"):
        workflow = rt.start({}, at=paths.T0).spiff
    assert workflow.subprocesses, "the call activity should be running"
    for reloaded in (workflow, rt.load(serializer.dump_state(workflow)).spiff):
        assert serializer.dump_state(reloaded) == library_dump(reloaded)
        assert serializer.dump_state(reloaded, legacy=True) == library_dump(reloaded, legacy=True)


def test_data_the_paths_do_not_make_is_written_as_the_library_writes_it() -> None:
    """Deleted keys, changed nested values, dates and times, internal data, a task whose
    parent is not in the tree: every branch of the task mapping."""
    rt = paths._runtime()
    with task_ids("data:0"):
        workflow = rt.start(dict(APPLICATION), at=paths.T0)
    with task_ids("data:1"):
        [task] = workflow.ready_tasks()
        workflow.complete(task.id, {**APPLICATION, **CORRECT}, at=paths.T0)
    tasks = list(all_tasks(workflow.spiff))
    child = next(t for t in tasks if t.parent is not None and t.parent.data)
    removed = next(iter(child.parent.data))
    child.data = {k: v for k, v in child.parent.data.items() if k != removed}
    child.data["nested"] = {
        "列表": [1, 2.5, None, {"深": True}],
        "时间": datetime(2026, 3, 2, tzinfo=UTC),
    }
    child.data["when"] = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    child.internal_data["event_value"] = {"next": "2026-03-03T09:00:00+00:00", "n": 3}
    orphan = next(t for t in tasks if t.parent is not None and t is not child)
    orphan._parent = None  # as the root of a compacted tree is
    assert serializer.dump_state(workflow.spiff) == library_dump(workflow.spiff)
    reloaded = rt.load(serializer.dump_state(workflow.spiff)).spiff
    assert serializer.dump_state(reloaded) == library_dump(reloaded)
