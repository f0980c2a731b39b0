"""A deployed bundle version: immutable once stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from .bundle_metadata import BundleMetadata, TimePolicy
from .form_fields import declared_fields, field_schema, is_attachment


@dataclass(frozen=True)
class HumanTaskInfo:
    """A human task element: who may work on it and which form it shows."""

    element: str
    name: str
    process: str
    groups: tuple[str, ...] = ()
    assignee: str | None = None
    form: str | None = None
    lane: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    # camunda:/flowable:/activiti:candidateUsers, potentialOwner's user(x): besides the groups,
    # these users may claim and complete the task (docs/bundles.md, Candidate users)
    candidate_users: tuple[str, ...] = ()
    # the variable the process's start event names for who started the case
    # (camunda:initiator="starter"), readable by an assignee expression (`${starter}`)
    initiator: str | None = None
    # SpiffArena's instructionsForEndUser: markdown shown above the task's form (the task page
    # renders it safely: web/instructions.py)
    instructions: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["candidate_users"] = list(self.candidate_users)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HumanTaskInfo:
        return cls(
            **{
                **data,
                "groups": tuple(data.get("groups", ())),
                "candidate_users": tuple(data.get("candidate_users", ())),
            }
        )


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
    start_event: str | None
    forms: dict[str, dict[str, Any]]
    checksum: str
    deployed_by: str
    deployed_at: datetime

    @cached_property
    def meta(self) -> BundleMetadata:
        """`metadata` (bundle.json as stored), typed: read once per loaded version."""
        return BundleMetadata.from_dict(self.metadata)

    @property
    def time_policy(self) -> TimePolicy:
        return self.meta.time_policy

    def form_for(self, element: str) -> dict[str, Any] | None:
        info = self.human_tasks.get(element)
        return self.forms.get(info.form) if info and info.form else None

    @cached_property
    def form_fields(self) -> dict[str, frozenset[str]]:
        """The fields each form of the version declares (form_fields.py), by form key."""
        return {key: declared_fields(schema) for key, schema in self.forms.items()}

    @cached_property
    def field_owners(self) -> dict[str, str]:
        """Each field some form declares, with the first form (in key order) declaring it."""
        owners: dict[str, str] = {}
        for key in sorted(self.form_fields):
            for name in self.form_fields[key]:
                owners.setdefault(name, key)
        return owners

    @cached_property
    def attachment_fields(self) -> frozenset[str]:
        """Fields some form declares as a file (a data URL or base64 string)."""
        return frozenset(
            name
            for key, names in self.form_fields.items()
            for name in names
            if is_attachment(field_schema(self.forms[key], name))
        )

    def field_schema(self, name: str, form: str | None = None) -> Mapping[str, Any] | None:
        """A field's declaration: in `form` when given, else in the form that owns it."""
        key = form if form is not None else self.field_owners.get(name)
        return field_schema(self.forms.get(key), name) if key is not None else None

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
                {
                    "element": t.element,
                    "name": t.name,
                    "groups": list(t.groups),
                    "candidate_users": list(t.candidate_users),
                    "form": t.form,
                    "instructions": t.instructions,
                }
                for t in self.human_tasks.values()
            ],
            "forms": self.forms,
        }
