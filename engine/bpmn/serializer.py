"""Stored forms of a process version's specs and of a case's workflow state.

A case's state never repeats its spec: the spec is stored once per bundle version and the
workflow is rebuilt around the cached spec object. The task tree uses SpiffWorkflow's own
versioned format ("1.5"); a state written by any other version is refused, not guessed at.

A business rule task's spec carries its decision and every decision it requires (inputs,
outputs, rules and every cell's text: `dmn.DecisionTaskConverter`); a case's state holds only
what the task decided (its data and, in its internal data, its outputs).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task

from .compaction import COMPLETED_ELEMENTS, completed_elements
from .dmn import DecisionTask, DecisionTaskConverter
from .untyped_tasks import PassThroughTask

STATE_FORMAT = "spiff-1.5/lianban-2"
# Case states written before compaction (engine/bpmn/compaction.py): the whole task tree, no
# record of compacted elements. Still read; written only to re-check such cases' old hashes.
LEGACY_STATE_FORMAT = "spiff-1.5/lianban-1"
SPEC_FORMAT = "spiff-1.5/lianban-1"


class StateFormatError(RuntimeError):
    """A stored case state this build cannot read."""


# Text of the task ids met while serializing (a UUID's str() costs more than finding it here).
# Cleared when it reaches the bound, so a long-running process does not keep every id it ever
# wrote: at most about 7 MB with the ids themselves (a kept restaurant workflow has 25 tasks).
_ID_TEXT: dict[UUID, str] = {}
_ID_TEXT_BOUND = 32_768


def _id_text(task_id: UUID) -> str:
    text = _ID_TEXT.get(task_id)
    if text is None:
        if len(_ID_TEXT) >= _ID_TEXT_BOUND:
            _ID_TEXT.clear()
        text = _ID_TEXT[task_id] = str(task_id)
    return text


class _TaskMapping:
    """A workflow's tasks as SpiffWorkflow 3.2.0 writes them (`TaskConverter.to_dict` through
    its registry, which adds the typename), built directly: the same dict, key for key and in
    the same order, without the registry's dispatch per task and with each id's text found
    once. Anything but a plain `Task` under a UUID key goes through the registry as before.
    tests/unit/test_state_serializer.py compares both on every state of the shipped processes."""

    registry: Any

    def mapping_to_dict(self, mapping: Any, **kwargs: Any) -> dict[str, Any]:
        registry = self.registry
        if kwargs or registry.typenames.get(Task) != "Task":
            return {str(k): registry.convert(v, **kwargs) for k, v in mapping.items()}
        return {
            _id_text(k) if type(k) is UUID else str(k): (
                _task_dict(v, registry) if type(v) is Task else registry.convert(v)
            )
            for k, v in mapping.items()
        }


def _task_dict(task: Task, registry: Any) -> dict[str, Any]:
    tasks = task.workflow.tasks
    parent_id = task._parent
    parent = tasks.get(parent_id)
    if parent is None:
        data, delta = task.data, {}
    else:
        before, after = parent.data, task.data
        data = {}
        delta = {
            "updates": {k: v for k, v in after.items() if k not in before or v != before[k]},
            "deletions": [k for k in before if k not in after],
        }
    internal = task.internal_data
    return {
        "id": _id_text(task.id),
        "parent": _id_text(parent_id) if parent is not None else None,
        "children": [_id_text(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": registry.convert(internal) if internal else {},
        "data": data,
        "delta": delta,
        "typename": "Task",
    }


class _SpeclessWorkflowConverter(_TaskMapping, BpmnWorkflowConverter):  # type: ignore[misc]
    """Leaves the spec out of a workflow's dict; takes the spec objects back in on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _SubWorkflowConverter(_TaskMapping, BpmnSubWorkflowConverter):  # type: ignore[misc]
    """A subprocess's tasks, written the same fast way."""


def _make_serializer(config: dict[Any, Any]) -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_CONFIG = {
    **DEFAULT_CONFIG,
    DecisionTask: DecisionTaskConverter,
    PassThroughTask: BpmnTaskSpecConverter,  # an untyped task nobody works (untyped_tasks.py)
}
_SPEC_SERIALIZER = _make_serializer(_CONFIG)
_STATE_SERIALIZER = _make_serializer(
    {**_CONFIG, BpmnWorkflow: _SpeclessWorkflowConverter, BpmnSubWorkflow: _SubWorkflowConverter}
)

Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


def specs_to_json(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """The parsed process and the processes it calls, as JSON stored with the bundle version."""
    reg = _SPEC_SERIALIZER.registry
    return json.dumps(
        {
            "format": SPEC_FORMAT,
            "spec": reg.convert(spec),
            "subprocess_specs": {k: reg.convert(v) for k, v in subprocess_specs.items()},
        },
        ensure_ascii=False,
    )


def specs_from_json(text: str) -> Specs:
    data = json.loads(text)
    if data.get("format") != SPEC_FORMAT:
        raise StateFormatError(f"unknown spec format {data.get('format')!r}")
    reg = _SPEC_SERIALIZER.registry
    spec = reg.restore(data["spec"])
    subs = {k: reg.restore(v) for k, v in data["subprocess_specs"].items()}
    return spec, subs


def dump_state(workflow: BpmnWorkflow, legacy: bool = False) -> str:
    """The workflow's task tree and data as JSON, without its spec, with the element ids
    completed in compacted-away parts (`compaction.completed_elements`).

    `legacy`: the form written before compaction existed (no record, the old format mark),
    which the audit needs to re-check the hashes such cases recorded."""
    ser = _STATE_SERIALIZER
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
        if legacy:
            dct["format"] = LEGACY_STATE_FORMAT
        else:
            dct["completed_elements"] = sorted(completed_elements(workflow))
            dct["format"] = STATE_FORMAT
        return json.dumps(dct, cls=ser._encoder_cls, ensure_ascii=False, separators=(",", ":"))
    finally:
        ser.registry._encoder_mode = False


def load_state(text: str, specs: Specs, script_engine: Any) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output around already-parsed specs."""
    dct = json.loads(text, cls=_STATE_SERIALIZER.json_decoder_cls)
    if dct.pop("format", None) not in (STATE_FORMAT, LEGACY_STATE_FORMAT):
        raise StateFormatError("case state written by an unknown serializer version")
    record = dct.pop("completed_elements", [])
    spec, subprocess_specs = specs
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    workflow: BpmnWorkflow = _STATE_SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    setattr(workflow, COMPLETED_ELEMENTS, set(record))
    return workflow
