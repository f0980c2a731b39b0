"""Compaction: cut the finished past out of a case's live task tree.

SpiffWorkflow never forgets a task: every round of a loop (a 补正 loop: 一窗受理 → 申请人补正 →
一窗受理 ...) adds its tasks below the last ones, so the tree, the stored state and the cost of
every step grow with the case's history, and past a depth of 1000 SpiffWorkflow's task iterator
stops seeing the live tasks at all (docs/engine-guards.md §2). The event log keeps the history;
the live state only needs what can still affect the future.

`compact(workflow)` re-roots each task tree (the main process's and each subprocess's) at the
parent of the deepest task that is an ancestor of every unfinished task: everything outside that
subtree is finished (completed or cancelled) and is dropped. What the engine still reads is kept:

- every unfinished task, its parent (whose data it inherited) and everything between them;
- the new root keeps its full data (SpiffWorkflow stores a child's data as a delta against its
  parent, and the root's in full, so the survivors' data is unchanged);
- gateway joins read other instances of their own spec anywhere in the tree (parallel gateways:
  finished instances on other branches; inclusive gateways and the end join: every instance
  along a path), so a finished join task may only be dropped when it is an ancestor of the new
  root and of a kind that ignores its ancestors (parallel gateway, boundary-event and
  start-event joins); any other finished join outside the cut moves the cut up to keep it;
- a subprocess is dropped only with its parent task, and only when all its tasks are finished;
  an unfinished subprocess counts as unfinished work at its parent task;
- waiting timers and multi-instance bookkeeping live on unfinished tasks, which are never cut.

What is dropped is remembered as the set of BPMN element ids that completed in it
(`completed_elements`), stored beside the tree, so "which elements ever ran" (element_states,
element_completed, the audit's state_at) stays answerable.

Compaction is deterministic: the same tree always compacts the same way, so a replay that
compacts the rebuilt workflow at the same points produces the stored state byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, StartEventJoin
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

# The workflow attribute holding the element ids completed in parts already compacted away.
COMPLETED_ELEMENTS = "lianban_completed_elements"

# Joins that never look at their own ancestors (they skip them, or find only the nearest split).
_ANCESTOR_BLIND_JOINS = (ParallelGateway, BoundaryEventJoin, StartEventJoin)


def completed_elements(workflow: Any) -> set[str]:
    """Element ids that completed in parts of the tree compacted away (empty if none)."""
    found: set[str] | None = getattr(workflow, COMPLETED_ELEMENTS, None)
    if found is None:
        found = set()
        setattr(workflow, COMPLETED_ELEMENTS, found)
    return found


def _unfinished(task: Task) -> bool:
    return not task.state & TaskState.FINISHED_MASK


def _chain(tasks: dict[UUID, Task], task: Task) -> list[UUID]:
    """The ids from the root down to `task`."""
    chain = []
    current: UUID | None = task.id
    while current is not None:
        chain.append(current)
        current = tasks[current]._parent
    chain.reverse()
    return chain


def _common_ancestor(tasks: dict[UUID, Task], members: Iterable[Task]) -> list[UUID]:
    """The chain from the root to the deepest task that is an ancestor-or-self of all members."""
    iterator = iter(members)
    chain = _chain(tasks, next(iterator))
    position = {task_id: i for i, task_id in enumerate(chain)}
    deepest = len(chain) - 1
    for task in iterator:
        current: UUID | None = task.id
        while current is not None and current not in position:
            current = tasks[current]._parent
        if current is None:  # a task outside the tree: leave the tree alone
            return chain[:1]
        deepest = min(deepest, position[current])
    return chain[: deepest + 1]


def _subtree(tasks: dict[UUID, Task], root: UUID) -> set[UUID]:
    kept = set()
    stack = [root]
    while stack:
        task_id = stack.pop()
        kept.add(task_id)
        stack.extend(c for c in tasks[task_id]._children if c in tasks)
    return kept


def _cut_above(tasks: dict[UUID, Task], chain: list[UUID]) -> list[UUID]:
    """The chain to the new root: the parent of the common ancestor (the kept tasks' data came
    from there), and never a join, since a join reads the state of its own parent."""
    cut = chain[:-1] if len(chain) > 1 else chain
    while len(cut) > 1 and isinstance(tasks[cut[-1]].task_spec, Join):
        cut = cut[:-1]
    return cut


def _element(task: Task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _compact_tree(workflow: Any, busy: set[UUID], record: set[str]) -> int:
    """Re-root one workflow's (or subprocess's) tree; returns how many tasks were dropped.

    `busy`: ids of finished-looking tasks that still carry unfinished work (the parent tasks of
    unfinished subprocesses)."""
    tasks: dict[UUID, Task] = workflow.tasks
    live = [t for t in tasks.values() if _unfinished(t) or t.id in busy]
    if not live or workflow.task_tree is None:
        return 0
    cut = _cut_above(tasks, _common_ancestor(tasks, live))
    while True:
        root = cut[-1]
        if root == workflow.task_tree.id:
            return 0
        kept = _subtree(tasks, root)
        above = set(cut)
        keep_too = [
            t
            for task_id, t in tasks.items()
            if task_id not in kept
            and isinstance(t.task_spec, Join)
            and not (isinstance(t.task_spec, _ANCESTOR_BLIND_JOINS) and task_id in above)
        ]
        if not keep_too:
            break
        cut = _cut_above(tasks, _common_ancestor(tasks, [tasks[root], *keep_too]))
    dropped = [task_id for task_id in tasks if task_id not in kept]
    for task_id in dropped:
        task = tasks[task_id]
        if task.state == TaskState.COMPLETED and (element := _element(task)):
            record.add(element)
    for task_id in dropped:
        del tasks[task_id]
    new_root = tasks[root]
    new_root._parent = None
    workflow.task_tree = new_root
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = None
    return len(dropped)


def compact(workflow: BpmnWorkflow) -> int:
    """Drop the finished past from the workflow's task trees, in place (see the module's doc).

    Returns how many tasks were dropped."""
    record = completed_elements(workflow)
    subprocesses: dict[UUID, Any] = workflow.subprocesses
    # parent tasks of subprocesses that still have work count as unfinished in their workflow
    busy = {
        task_id
        for task_id, sub in subprocesses.items()
        if any(_unfinished(t) for t in sub.tasks.values())
    }
    dropped = _compact_tree(workflow, busy, record)
    for sub in list(subprocesses.values()):
        dropped += _compact_tree(sub, busy, record)
    # subprocesses whose parent task was dropped (all finished, or the task would have stayed)
    while True:
        present = set(workflow.tasks)
        for sub in subprocesses.values():
            present.update(sub.tasks)
        orphans = [task_id for task_id in subprocesses if task_id not in present]
        if not orphans:
            break
        for task_id in orphans:
            sub = subprocesses.pop(task_id)
            for task in sub.tasks.values():
                if task.state == TaskState.COMPLETED and (element := _element(task)):
                    record.add(element)
            dropped += len(sub.tasks)
    return dropped
