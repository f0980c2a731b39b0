"""A bundle version's process, ready to run cases on: starting a case's workflow, or loading
one from its stored state, as a `CaseWorkflow` (engine/bpmn/case_workflow.py), which does the
rest. Every workflow runs on the safe script engine (docs/engine-guards.md §1).

Business rule tasks run inside the engine steps; what they decided reaches the case data
through `CaseWorkflow.decisions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from . import multi_sign
from .case_workflow import CaseWorkflow
from .dmn import DecisionTask
from .errors import EngineLimitExceeded as EngineLimitExceeded
from .errors import StepFailed as StepFailed
from .errors import WorkLimitExceeded as WorkLimitExceeded
from .functions import ENGINE_FUNCTIONS
from .script_engine import SafeScriptEngine
from .serializer import Specs, load_state

_SCRIPT_ENGINE = SafeScriptEngine(ENGINE_FUNCTIONS)


class ProcessRuntime:
    """One bundle version's parsed specs, ready to run cases on."""

    def __init__(self, specs: Specs) -> None:
        self.specs = specs

    def start(self, data: Mapping[str, Any], at: datetime | None = None) -> CaseWorkflow:
        """A new case's workflow with the start data, run to its first wait at `at`."""
        return CaseWorkflow.start(self.specs, _SCRIPT_ENGINE, data, at)

    def load(self, state: str) -> CaseWorkflow:
        """A case's workflow rebuilt from its stored state (`CaseWorkflow.dump`)."""
        return CaseWorkflow(load_state(state, self.specs, _SCRIPT_ENGINE))

    def sign_collections(self) -> dict[str, str]:
        """会签/或签: the case data field each multi-instance task takes its signers from, by
        element (engine/bpmn/multi_sign.py)."""
        return multi_sign.collections(self.specs)

    def element_names(self) -> dict[str, str]:
        """The name of every named BPMN element of the diagram, by id (subprocesses
        included), with its whitespace collapsed."""
        main, subprocesses = self.specs
        names: dict[str, str] = {}
        for spec in (main, *subprocesses.values()):
            for task_spec in spec.task_specs.values():
                element = getattr(task_spec, "bpmn_id", None)
                name = getattr(task_spec, "bpmn_name", None)
                if element and name:
                    names[str(element)] = " ".join(str(name).split())
        return names

    def decision_tasks(self) -> list[dict[str, Any]]:
        """Each business rule task of the diagram: {"element", "name", "decision" (its id),
        "decision_name", "outputs" (the fields it writes, in the table's order),
        "result_variable" (or None), "next" (the human tasks the flow reaches after it, through
        gateways, events and other engine elements)}. For the record pages."""
        main, subprocesses = self.specs
        found = []
        for spec in (main, *subprocesses.values()):
            for task_spec in spec.task_specs.values():
                if not isinstance(task_spec, DecisionTask):
                    continue
                top = task_spec.decisions.get(task_spec.decision) or {}
                found.append(
                    {
                        "element": str(task_spec.bpmn_id),
                        "name": " ".join(str(task_spec.bpmn_name or task_spec.bpmn_id).split()),
                        "decision": task_spec.decision,
                        "decision_name": str(top.get("name") or task_spec.decision),
                        "outputs": [str(o) for o in top.get("outputs") or ()],
                        "result_variable": task_spec.result_variable,
                        "next": _human_tasks_after(task_spec),
                    }
                )
        return found


def _human_tasks_after(task_spec: Any) -> list[str]:
    """The BPMN ids of the human tasks first reached from `task_spec` along its outputs."""
    found: list[str] = []
    seen: set[int] = set()
    todo = list(task_spec.outputs)
    while todo:
        spec = todo.pop(0)
        if id(spec) in seen or len(seen) > 500:
            continue
        seen.add(id(spec))
        element = getattr(spec, "bpmn_id", None)
        human = getattr(spec, "manual", False) or isinstance(spec, MultiInstanceTask)
        if human and element:
            found.append(str(element))
        else:
            todo.extend(spec.outputs)
    return found
