"""会签 / 或签: multi-instance user tasks, and how their signatures are counted (docs/bundles.md).

A user task with `multiInstanceLoopCharacteristics` runs one instance per item of its collection
(`loopDataInputRef`, a case data field; the item in `inputDataItem`); `isSequential="true"` runs
them one after another in list order. SpiffWorkflow 3.2.0 evaluates the completion condition on
the last completed instance's data only; lianban evaluates it (with the expression language)
on that data plus the counts of the multi-instance so far:

| variable | meaning |
| --- | --- |
| `nr_of_instances` | how many instances (signers) the activity has |
| `nr_of_completed_instances` | how many have signed |
| `nr_of_active_instances` | how many are still to sign |
| `nr_of_approvals` | signatures whose decision is an approval |
| `nr_of_rejections` | signatures whose decision is a rejection |

(and Camunda's spellings `nrOfInstances`, `nrOfCompletedInstances`, `nrOfActiveInstances`).

An instance's decision is the field named by the activity's `outputDataItem`, else `decision`,
of the data its signer completed it with: `true` and the texts in `APPROVALS` approve, `false`
and the texts in `REJECTIONS` reject; anything else (no decision) counts as neither.

When the condition holds the activity ends at once: the instances not yet signed are cancelled
(SpiffWorkflow's own behaviour for a parallel one; a sequential one creates no further one). The
outcome is written to the case data for the gateway after it:

- `<element>_result`: "approved" or "rejected": the decision of the signature that made the
  condition hold; without one (every instance signed), "approved" when no signer rejected;
- `<element>_signatures`: each signature in the order given, {"signer", "decision"}.

The element id of a multi-instance user task must therefore be a field name (checked at upload).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .errors import StepFailed
from .tree import all_tasks

APPROVALS = frozenset(
    {"approve", "approved", "agree", "pass", "yes", "accept", "同意", "通过", "准予", "批准"}
)
REJECTIONS = frozenset(
    {"reject", "rejected", "disagree", "deny", "no", "refuse", "不同意", "不通过", "驳回", "不予"}
)
DEFAULT_DECISION_FIELD = "decision"
VARIABLES = (
    "nr_of_instances",
    "nr_of_completed_instances",
    "nr_of_active_instances",
    "nr_of_approvals",
    "nr_of_rejections",
    "nrOfInstances",
    "nrOfCompletedInstances",
    "nrOfActiveInstances",
)
RESULT_SUFFIX = "_result"
SIGNATURES_SUFFIX = "_signatures"
APPROVED, REJECTED = "approved", "rejected"

_VOTES = "lianban_signatures"  # internal data of the multi-instance task: the signatures so far
_MET = "lianban_condition_met"  # internal data: the completion condition held at the last merge


def vote(value: Any) -> bool | None:
    """True for an approval, False for a rejection, None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in APPROVALS:
            return True
        if text in REJECTIONS:
            return False
    return None


def decision_field(spec: MultiInstanceTask) -> str:
    item = spec.output_item
    name = getattr(item, "bpmn_id", None) or getattr(item, "name", None) if item else None
    return str(name) if name else DEFAULT_DECISION_FIELD


def element(spec: Any) -> str:
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def _instances(my_task: Task) -> list[Task]:
    spec = my_task.task_spec
    return [c for c in my_task.children if c.task_spec.name == spec.task_spec]


def instance_item(task: Task) -> Any:
    """The collection item a multi-instance instance was created for (None for other tasks)."""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    if not isinstance(spec, MultiInstanceTask) or task.task_spec.name != spec.task_spec:
        return None
    if spec.input_item is not None and spec.input_item.exists(task):
        return spec.input_item.get(task)
    if "item" in task.internal_data:
        return task.internal_data["item"]
    key = task.internal_data.get("key_or_index")
    if spec.data_input is not None and spec.data_input.exists(parent):
        collection = spec.data_input.get(parent)
        try:
            return collection[key]
        except (KeyError, IndexError, TypeError):
            return key
    return key


def _total(spec: MultiInstanceTask, my_task: Task) -> int:
    if isinstance(spec, SequentialMultiInstanceTask):
        signed = len(my_task.internal_data.get("merged", []))
        running = sum(1 for c in _instances(my_task) if not c.has_state(TaskState.FINISHED_MASK))
        if spec.data_input is not None:
            return signed + running + len(my_task.internal_data.get("remaining", []))
        return int(my_task.internal_data.get("cardinality") or 0)
    return len(_instances(my_task))


def counts(spec: MultiInstanceTask, my_task: Task) -> dict[str, int]:
    """The completion condition's variables (see the module)."""
    votes = my_task.internal_data.get(_VOTES, [])
    total = _total(spec, my_task)
    done = len(votes)
    values = {
        "nr_of_instances": total,
        "nr_of_completed_instances": done,
        "nr_of_active_instances": max(total - done, 0),
        "nr_of_approvals": sum(1 for v in votes if vote(v["decision"]) is True),
        "nr_of_rejections": sum(1 for v in votes if vote(v["decision"]) is False),
    }
    values["nrOfInstances"] = values["nr_of_instances"]
    values["nrOfCompletedInstances"] = values["nr_of_completed_instances"]
    values["nrOfActiveInstances"] = values["nr_of_active_instances"]
    return values


def _condition_met(spec: MultiInstanceTask, child: Task) -> bool:
    if spec.condition is None:
        return False
    my_task = child.parent
    env = my_task.workflow.script_engine.environment
    variables = {**child.data, **counts(spec, my_task)}
    return bool(env.evaluate(spec.condition, variables))


def _write_outcome(spec: MultiInstanceTask, my_task: Task, deciding: Any) -> None:
    votes = my_task.internal_data.get(_VOTES, [])
    if deciding is not None:
        approved = vote(deciding) is True
    else:
        approved = not any(vote(v["decision"]) is False for v in votes)
    name = element(spec)
    my_task.data[name + RESULT_SUFFIX] = APPROVED if approved else REJECTED
    my_task.data[name + SIGNATURES_SUFFIX] = [dict(v) for v in votes]


_merge_child = MultiInstanceTask.merge_child


def merge_child(self: MultiInstanceTask, workflow: BpmnWorkflow, child: Task) -> None:
    """SpiffWorkflow's merge, then: the signature counted, the input item kept out of the data
    that flows on, the completion condition evaluated with the counts, the outcome written."""
    _merge_child(self, workflow, child)
    my_task = child.parent
    if self.input_item is not None:
        my_task.data.pop(self.input_item.bpmn_id, None)
    field = decision_field(self)
    votes = list(my_task.internal_data.get(_VOTES, []))
    votes.append({"signer": instance_item(child), "decision": child.data.get(field)})
    my_task.internal_data[_VOTES] = votes
    met = _condition_met(self, child)
    my_task.internal_data[_MET] = met
    if met or self.children_complete(my_task):
        # written once, as the activity ends: instances still open keep the data they started
        # with (so the state is the same whether the step ran on a loaded workflow or not)
        _write_outcome(self, my_task, child.data.get(field) if met else None)
    elif self.output_item is not None:  # the next sequential instance is refused otherwise
        my_task.data.pop(self.output_item.bpmn_id, None)
    _stabilise(my_task, my_task.parent)
    for instance in _instances(my_task):
        _stabilise(instance, my_task)


def _stabilise(task: Task, parent: Task | None) -> None:
    """Order the task's data as restoring it from the stored state would (the parent's keys in
    the parent's order, then its own): a parent whose data changed after its child was created
    (a signature merged while other signers are still at work) would otherwise give a loaded
    workflow another key order than the one a replay keeps in memory, and another state hash."""
    if parent is None:
        return
    data, before = task.data, parent.data
    order = [k for k in before if k in data] + [k for k in data if k not in before]
    if order != list(data):
        task.data = {k: data[k] for k in order}


def check_completion_condition(self: MultiInstanceTask, my_task: Task) -> bool:
    """The condition as `merge_child` evaluated it for the instance just merged."""
    return bool(my_task.internal_data.get(_MET))


_update_hook = MultiInstanceTask._update_hook


def update_hook(self: MultiInstanceTask, my_task: Task) -> Any:
    """A new round of the activity (the first, or again after a loop back) starts uncounted,
    without an earlier round's item or decision in its data (SpiffWorkflow refuses to create
    instances while the data holds a field named like the input or output item: a case sent
    back to a 会签, or one whose earlier step wrote a field of that name, would stop there)."""
    my_task.internal_data[_VOTES] = []
    my_task.internal_data[_MET] = False
    for ref in (self.input_item, self.output_item):
        if ref is not None:
            my_task.data.pop(ref.bpmn_id, None)
    return _update_hook(self, my_task)


def collections(specs: tuple[Any, Mapping[str, Any]]) -> dict[str, str]:
    """The collection field (loopDataInputRef) of each multi-instance task, by element."""
    main, subprocesses = specs
    found: dict[str, str] = {}
    for spec in (main, *subprocesses.values()):
        for task_spec in spec.task_specs.values():
            data_input = getattr(task_spec, "data_input", None)
            if isinstance(task_spec, MultiInstanceTask) and data_input is not None:
                found[element(task_spec)] = str(data_input.bpmn_id)
    return found


def _parents(workflow: BpmnWorkflow) -> Iterator[Task]:
    for task in all_tasks(workflow):
        if isinstance(task.task_spec, MultiInstanceTask) and _VOTES in task.internal_data:
            yield task


def outcomes(workflow: BpmnWorkflow, before: set[str]) -> dict[str, Any]:
    """The outcome fields of the multi-instance tasks that finished since `before` (ids of the
    tasks completed earlier), for the case data."""
    found: dict[str, Any] = {}
    for task in _parents(workflow):
        if task.state == TaskState.COMPLETED and str(task.id) not in before:
            name = element(task.task_spec)
            for suffix in (RESULT_SUFFIX, SIGNATURES_SUFFIX):
                if name + suffix in task.data:
                    found[name + suffix] = task.data[name + suffix]
    return found


def ended_early(workflow: BpmnWorkflow, before: set[str]) -> list[dict[str, Any]]:
    """The multi-instance tasks that their completion condition ended since `before`, each
    {"element", "result"}."""
    ended = []
    for task in _parents(workflow):
        if (
            task.state == TaskState.COMPLETED
            and str(task.id) not in before
            and task.internal_data.get(_MET)
        ):
            name = element(task.task_spec)
            ended.append({"element": name, "result": task.data.get(name + RESULT_SUFFIX)})
    return ended


def progress(workflow: BpmnWorkflow) -> dict[str, dict[str, Any]]:
    """Each multi-instance task under way: {"signed", "total", "sequential", "approvals",
    "rejections"}, by element."""
    found: dict[str, dict[str, Any]] = {}
    for task in _parents(workflow):
        if task.state != TaskState.STARTED:
            continue
        spec = task.task_spec
        numbers = counts(spec, task)
        found[element(spec)] = {
            "signed": numbers["nr_of_completed_instances"],
            "total": numbers["nr_of_instances"],
            "sequential": isinstance(spec, SequentialMultiInstanceTask),
            "approvals": numbers["nr_of_approvals"],
            "rejections": numbers["nr_of_rejections"],
            "any_one": any_one_decides(spec, task),
        }
    return found


def any_one_decides(spec: MultiInstanceTask, my_task: Task) -> bool:
    """或签: one signature, approving or rejecting, ends the activity (its condition holds
    after any first signature, whatever the number of signers)."""
    if spec.condition is None:
        return False
    env = my_task.workflow.script_engine.environment
    for total in (2, 3):
        for approvals, rejections in ((1, 0), (0, 1)):
            counted = {
                "nr_of_instances": total,
                "nr_of_completed_instances": 1,
                "nr_of_active_instances": total - 1,
                "nr_of_approvals": approvals,
                "nr_of_rejections": rejections,
            }
            counted["nrOfInstances"] = total
            counted["nrOfCompletedInstances"] = 1
            counted["nrOfActiveInstances"] = total - 1
            try:
                if not env.evaluate(spec.condition, {**my_task.data, **counted}):
                    return False
            except Exception:  # the condition reads a signer's own field: not a plain 或签
                return False
    return True


def is_multi_instance(spec: Any) -> bool:
    return isinstance(spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask)


def condition_variables() -> Mapping[str, int]:
    """Sample values of the condition's variables, for checking a condition at upload."""
    return dict.fromkeys(VARIABLES, 1)


# 加签 / 减签 in parallel to a running 会签 (issue 18 · 5; engine/services/add_signer.py) -------


def _running_parent(workflow: BpmnWorkflow, instance_id: str) -> tuple[Task, Task]:
    """The instance `instance_id` and its parallel multi-instance task, still under way."""
    wanted = UUID(instance_id)
    instance = next((t for t in all_tasks(workflow) if t.id == wanted), None)
    parent = instance.parent if instance is not None else None
    spec = parent.task_spec if parent is not None else None
    if instance is None or parent is None or not isinstance(spec, ParallelMultiInstanceTask):
        raise StepFailed("此任务不是正在进行的并行会签中的一份")
    if parent.state != TaskState.STARTED or instance.task_spec.name != spec.task_spec:
        raise StepFailed("此会签已结束")
    return instance, parent


def signers(workflow: BpmnWorkflow, instance_id: str) -> list[tuple[str, Any, bool]]:
    """Each instance of the 会签 `instance_id` belongs to: (its task id, its item, finished)."""
    _, parent = _running_parent(workflow, instance_id)
    return [
        (str(c.id), instance_item(c), c.has_state(TaskState.FINISHED_MASK))
        for c in _instances(parent)
    ]


def add_instance(workflow: BpmnWorkflow, instance_id: str, item: Any) -> None:
    """加签: one more instance of the running parallel 会签 that `instance_id` belongs to, for
    `item` (a group or a person, as the collection's items are), appended to its collection."""
    _, parent = _running_parent(workflow, instance_id)
    spec = parent.task_spec
    assert isinstance(spec, ParallelMultiInstanceTask)
    key: Any = None
    if spec.data_input is not None and spec.data_input.exists(parent):
        collection = spec.data_input.get(parent)
        if isinstance(collection, list):
            # a new list, never the old one changed in place: the case data, other tasks and a
            # replay's record may hold that very list
            spec.data_input.set(parent, [*collection, item])
            key = len(collection)
    spec.create_child(parent, item, key)
    _stabilise(parent, parent.parent)  # data in the order a loaded workflow has it
    for instance in _instances(parent):
        _stabilise(instance, parent)


def remove_instance(workflow: BpmnWorkflow, instance_id: str) -> None:
    """减签: the unsigned instance `instance_id` leaves its running 会签 (dropped from the tree,
    so the signers still to sign are the others); when every other one has signed, the 会签
    ends there, its outcome written as when its last signature came."""
    instance, parent = _running_parent(workflow, instance_id)
    if instance.has_state(TaskState.FINISHED_MASK):
        raise StepFailed("此会签人已签署, 不能减签")
    others = [c for c in _instances(parent) if c is not instance]
    if not others:
        raise StepFailed("会签至少要保留一名会签人")
    instance._drop_children(force=True)
    parent._children = [c for c in parent._children if c != instance.id]
    del instance.workflow.tasks[instance.id]
    spec = parent.task_spec
    assert isinstance(spec, ParallelMultiInstanceTask)
    if spec.children_complete(parent):
        _write_outcome(spec, parent, None)
        parent._set_state(TaskState.READY)
    _stabilise(parent, parent.parent)
    for other in others:
        _stabilise(other, parent)
