"""Moving a running case's workflow onto another version of its process, and what an engine
failure was about (for the incident an administrator reads).

A migration maps every task of the case's (compacted) workflow tree onto a task spec of the new
version: an element keeps its id unless the administrator's mapping names another, and must be
of the same kind (the same BPMN construct) there. `check_migration` lists what cannot be mapped,
in Chinese, before anything is changed; `migrate` then does what SpiffWorkflow's own
`SpiffWorkflow.bpmn.util.diff.migrate_workflow` does with an alignment built from the mapping:
each task is re-pointed at its new spec, and the ready tasks (human tasks) are reset and their
futures predicted anew from the new version's flows (a ready task keeps its id: its human task
stays the same row). Waiting tasks (timers, joins) are only re-pointed, so a timer keeps the
time it started at. Predicted tasks (`LIKELY`, `MAYBE`) of elements the new version no longer
has are dropped. Nothing runs: the engine moves on at the case's next step (or timer), by the
new version's conditions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import migrate_workflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.expressions import EvaluationError, ExpressionError

from .case_workflow import CaseWorkflow
from .clock import engine_time
from .errors import StepFailed, WorkLimitExceeded
from .serializer import Specs
from .step_errors import DataMissing

# What the case waits on: its ready human tasks, waiting timers and joins, entered subprocesses.
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_KINDS = {
    "UserTask": "用户任务",
    "ManualTask": "人工任务",
    "IntermediateCatchEvent": "中间捕获事件",
    "BoundaryEvent": "边界事件",
    "ParallelGateway": "并行网关",
    "InclusiveGateway": "包容网关",
    "ExclusiveGateway": "排他网关",
    "EventBasedGateway": "事件网关",
    "SubWorkflowTask": "子流程",
    "CallActivity": "调用活动",
    "TransactionSubprocess": "事务子流程",
}


@dataclass(frozen=True)
class ActiveElement:
    """An element the case currently waits at."""

    element: str
    name: str
    kind: str  # the BPMN construct (the spec's class), e.g. UserTask
    state: str  # ready, waiting, started

    @property
    def kind_label(self) -> str:
        return _KINDS.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, str]:
        return {
            "element": self.element,
            "name": self.name,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "state": self.state,
        }


def _workflows(workflow: BpmnWorkflow, specs: Specs) -> Iterator[tuple[Any, Any | None, str]]:
    """Each (sub)workflow of the case with its spec in the new version (None: none there)."""
    main, subprocesses = specs
    yield workflow, main, "主流程"
    for sub in workflow.subprocesses.values():
        yield sub, subprocesses.get(sub.spec.name), f"子流程 {sub.spec.name}"


def _element(task: Task) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def _kind(spec: Any) -> str:
    return type(spec).__name__


def _counterpart(spec: Any, new_spec: Any, mapping: Mapping[str, str]) -> Any | None:
    """The task spec of the new version that `spec` (of the old one) maps to, if any."""
    element = getattr(spec, "bpmn_id", None)
    name = str(spec.name)
    if element and element in mapping:
        name = name.replace(str(element), mapping[str(element)], 1)
    found = new_spec.task_specs.get(name) if new_spec is not None else None
    if found is None or _kind(found) != _kind(spec):
        return None
    return found


def active_elements(workflow: CaseWorkflow) -> list[ActiveElement]:
    """The elements the case waits at (ready human tasks, waiting timers and joins...)."""
    found: dict[tuple[str, str], ActiveElement] = {}
    spiff = workflow.spiff
    for sub in (spiff, *spiff.subprocesses.values()):
        for task in sub.tasks.values():
            if not task.has_state(_ACTIVE) or not getattr(task.task_spec, "bpmn_id", None):
                continue
            active = ActiveElement(
                _element(task),
                " ".join(str(getattr(task.task_spec, "bpmn_name", None) or "").split()),
                _kind(task.task_spec),
                TaskState.get_name(task.state).lower(),
            )
            found.setdefault((active.element, active.state), active)
    return sorted(found.values(), key=lambda a: (a.element, a.state))


def check_migration(
    workflow: CaseWorkflow, specs: Specs, mapping: Mapping[str, str], version: int
) -> list[dict[str, Any]]:
    """What keeps the case's workflow from moving to `specs` (version `version`) under
    `mapping` (old element id → new; unmapped elements keep their id): one problem per element,
    in Chinese, with the element. Empty when the migration can be applied."""
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sub, new_spec, where in _workflows(workflow.spiff, specs):
        for task in sub.tasks.values():
            if task.has_state(TaskState.PREDICTED_MASK):
                continue  # a mere prediction: predicted again from the new version's flows
            spec = task.task_spec
            element = _element(task)
            if element in seen:
                continue
            if new_spec is None:
                seen.add(element)
                problems.append(
                    {
                        "element": element,
                        "message": f"{where}在第 {version} 版中不存在, 其中的环节 {element} 无处可去",
                    }
                )
                continue
            if _counterpart(spec, new_spec, mapping) is not None:
                continue
            seen.add(element)
            target = mapping.get(element, element)
            label = _KINDS.get(_kind(spec), _kind(spec))
            name = getattr(spec, "bpmn_name", None)
            shown = f"{name} ({element})" if name else element
            state = "当前所在" if task.has_state(_ACTIVE) else "已经过"
            other = new_spec.task_specs.get(target)
            if other is None:
                why = f"第 {version} 版没有环节 {target}"
            else:
                why = f"第 {version} 版的 {target} 是{_KINDS.get(_kind(other), _kind(other))}"
            problems.append(
                {
                    "element": element,
                    "message": f"{state}的{label} {shown} 不能对应: {why}, 请在对应关系中指定同类环节",
                }
            )
    return problems


def migrate(workflow: CaseWorkflow, specs: Specs, mapping: Mapping[str, str], at: datetime) -> None:
    """Move the workflow onto `specs` in place at `at` (the time the reset tasks record; check
    first with `check_migration`; a problem left raises StepFailed and the workflow must then be
    discarded)."""
    with engine_time(lambda: at):
        _migrate(workflow, specs, mapping)


def _migrate(workflow: CaseWorkflow, specs: Specs, mapping: Mapping[str, str]) -> None:
    spiff = workflow.spiff
    for sub, new_spec, where in list(_workflows(spiff, specs)):
        if new_spec is None:
            raise StepFailed(f"{where}在新版本中不存在")
        alignment: dict[Task, Any] = {}
        for task in sub.tasks.values():
            found = _counterpart(task.task_spec, new_spec, mapping)
            if found is None and not task.has_state(TaskState.PREDICTED_MASK):
                raise StepFailed(f"环节 {_element(task)} 在新版本中没有对应的环节", _element(task))
            if found is not None:
                alignment[task] = found
        # only ready tasks are reset (their ids kept): a waiting timer keeps when it started
        migrate_workflow(_Alignment(alignment), sub, new_spec, reset_mask=TaskState.READY)
        leftover = [
            t for t in sub.tasks.values() if t.task_spec not in new_spec.task_specs.values()
        ]
        for task in leftover:  # predictions of vanished elements outside any reset branch
            if task.id in sub.tasks:
                sub._remove_task(task.id)
    if isinstance(spiff, BpmnWorkflow):
        spiff.subprocess_specs = specs[1]


class _Alignment:
    """What `migrate_workflow` reads of a `WorkflowDiff`: each task's new spec."""

    def __init__(self, alignment: dict[Task, Any]) -> None:
        self.alignment = alignment


@dataclass(frozen=True)
class Failure:
    """What an engine failure was about: `kind` expression (an expression could not be
    evaluated: a misspelled or missing field, a wrong type), limit (a bound of bounds.py on the
    work the submitted values ask for), data (a gateway with no way out for the data, a
    multi-instance collection missing: step_errors.py) or engine (anything else the engine
    refused)."""

    kind: str
    expression: str | None


def failure(err: StepFailed) -> Failure:
    """Classify a StepFailed by the errors it was raised from."""
    if isinstance(err, WorkLimitExceeded):
        return Failure("limit", None)
    if isinstance(err, DataMissing):
        return Failure("data", None)
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, EvaluationError | ExpressionError):
            return Failure("expression", current.source or None)
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return Failure("engine", None)
