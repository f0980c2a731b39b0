"""A deployed bundle version: immutable once stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.bpmn.manifest import HumanTaskInfo


@dataclass(frozen=True)
class BundleVersion:
    id: int
    key: str
    version: int
    name: str
    description: str
    process_id: str
    metadata: dict[str, Any]
    specs_json: str
    human_tasks: dict[str, HumanTaskInfo]
    start_form: str | None
    forms: dict[str, dict[str, Any]]
    checksum: str
    deployed_by: str
    deployed_at: datetime

    def form_for(self, element: str) -> dict[str, Any] | None:
        info = self.human_tasks.get(element)
        return self.forms.get(info.form) if info and info.form else None

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "process": self.process_id,
            "deployed_by": self.deployed_by,
            "deployed_at": self.deployed_at.isoformat(),
            "checksum": self.checksum,
        }

    def detail(self) -> dict[str, Any]:
        """The summary plus what a client needs to work the bundle: tasks, forms, items."""
        return {
            **self.summary(),
            "metadata": self.metadata,
            "start_form": self.start_form,
            "human_tasks": [
                {"element": t.element, "name": t.name, "groups": list(t.groups), "form": t.form}
                for t in self.human_tasks.values()
            ],
            "forms": self.forms,
        }
