"""Untyped tasks (`bpmn:task`, bpmn.io's default "Task", common in engine test files).

SpiffWorkflow 3.2.0 parses `bpmn:task` as a `NoneTask`, which is manual: the engine stopped
there and waited for a person, though the diagram names nobody (the case's first task opened
with no groups; nobody could work it; the case never moved). Camunda passes through an
untyped task at once, like a none task; so does lianban, unless the task names who works it
(`camunda:candidateGroups`, candidate users, an assignee: `manifest.is_human_task`), when it
is a human task like a user task. A lane alone does not make it one. The upload says which
untyped tasks are passed through (engine/bundles/rules/untyped_tasks.py).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.defaults import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin

from .manifest import is_human_task


class PassThroughTask(BpmnSpecMixin):  # type: ignore[misc]
    """An untyped task nobody is named for: the engine completes it as soon as it is reached
    (not manual), as Camunda does."""


class UntypedTaskParser(TaskParser):  # type: ignore[misc]
    """`bpmn:task`: a human task (SpiffWorkflow's manual `NoneTask`) when it names who works
    it, else a `PassThroughTask`."""

    def create_task(self) -> NoneTask | PassThroughTask:
        if is_human_task(self.node):
            return NoneTask(self.spec, self.bpmn_id, **self.bpmn_attributes)
        return PassThroughTask(self.spec, self.bpmn_id, **self.bpmn_attributes)
