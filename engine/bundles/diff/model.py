"""The changes a comparison finds, and what it reads of each version."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Change:
    """One difference. `kind`: added, removed or changed; `what`: the Chinese sentence."""

    section: str  # process | forms | metadata | files
    kind: str
    what: str
    subject: str = ""  # the element id, form key, item or material code, file path
    before: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "kind": self.kind,
            "what": self.what,
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class VersionContent:
    """What the comparison reads of one version."""

    files: dict[str, str]
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BundleDiff:
    process: list[Change]
    forms: list[Change]
    metadata: list[Change]
    files: list[Change]
    changed_a: list[str]  # element ids to mark on the older diagram (removed or changed)
    changed_b: list[str]  # element ids to mark on the newer diagram (added or changed)
    unreadable: list[str]  # BPMN files that could not be parsed (compared as text only)

    @property
    def empty(self) -> bool:
        return not (self.process or self.forms or self.metadata or self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "process": [c.to_dict() for c in self.process],
            "forms": [c.to_dict() for c in self.forms],
            "metadata": [c.to_dict() for c in self.metadata],
            "files": [c.to_dict() for c in self.files],
            "changed_a": self.changed_a,
            "changed_b": self.changed_b,
            "unreadable": self.unreadable,
        }


def show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
