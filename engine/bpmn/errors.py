"""Why the engine refuses a step: the errors `engine.bpmn.runtime` raises (and re-exports)."""

from __future__ import annotations


class StepFailed(Exception):
    """The engine could not carry out a step; the case must be left as it was."""

    def __init__(self, message: str, element: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element


class EngineLimitExceeded(StepFailed):
    """SpiffWorkflow lost track of work (its depth limit); refuse rather than corrupt the case."""


class WorkLimitExceeded(StepFailed):
    """The step would make the engine do more than a case may (engine/bpmn/bounds.py): too many
    multi-instance instances or loop iterations, or too many engine tasks in one step."""
