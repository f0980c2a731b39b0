"""Every path through 我要开餐馆, run by the engine, saved and reloaded at every step."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runtime import ProcessRuntime, is_finished, ready_human_tasks
from engine.bpmn.serializer import specs_from_json
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.source import from_path
from engine.forms import validate_form_data
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.restaurant import APPLICATION, PATHS

COMPILED = compile_bundle(from_path(PROCESSES / "restaurant"), FormLibrary(FORMS))


def runtime() -> ProcessRuntime:
    return ProcessRuntime(specs_from_json(COMPILED.specs_json))


def reload(rt: ProcessRuntime, workflow: Any) -> Any:
    """Save and restore: the next step must work on the restored copy exactly as on the original."""
    state = rt.dump(workflow)
    restored = rt.load(state)
    assert rt.dump(restored) == state
    return restored


@pytest.mark.parametrize("path", sorted(PATHS))
def test_path(path: str) -> None:
    steps, end = PATHS[path]
    rt = runtime()
    workflow = reload(rt, rt.start(APPLICATION))
    data = dict(APPLICATION)
    for element, form in steps:
        ready = {t.element: t for t in ready_human_tasks(workflow)}
        assert element in ready, f"{element} not ready at this step; ready: {sorted(ready)}"
        schema = COMPILED.forms[COMPILED.human_tasks[element].form]
        assert validate_form_data(schema, form) == []
        data.update(form)
        rt.complete(workflow, ready[element].id, data)
        workflow = reload(rt, workflow)
    assert ready_human_tasks(workflow) == []
    assert is_finished(workflow)
    ended = [
        t.task_spec.bpmn_id
        for t in workflow.tasks.values()
        if t.state == TaskState.COMPLETED
        and t.task_spec.bpmn_id in ("concluded", "refused", "denied")
    ]
    assert ended == [end]


def test_reviews_run_in_parallel_and_issuance_waits_for_both() -> None:
    rt = runtime()
    workflow = rt.start(APPLICATION)
    data = dict(APPLICATION)
    intake = ready_human_tasks(workflow)[0]
    data.update(PATHS["granted_without_inspection"][0][0][1])
    rt.complete(workflow, intake.id, data)
    ready = {t.element: t for t in ready_human_tasks(workflow)}
    assert set(ready) == {"review_licence", "review_food"}
    data.update({"licence_approved": True})
    rt.complete(workflow, ready["review_licence"].id, data)
    assert [t.element for t in ready_human_tasks(workflow)] == ["review_food"]
    data.update({"food_approved": True, "needs_inspection": False})
    rt.complete(workflow, ready["review_food"].id, data)
    assert [t.element for t in ready_human_tasks(workflow)] == ["joint_issuance"]
