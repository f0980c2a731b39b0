"""What the rules see of an upload: its parsed documents and what the compiler read of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.domain.bundle_metadata import BundleMetadata


@dataclass(frozen=True)
class Upload:
    documents: Mapping[str, etree._ElementTree]
    """The BPMN documents by file, each well-formed and valid against the BPMN schema."""
    forms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Every form the upload refers to that could be read, by form key."""
    decision_outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The output columns of each decision (DMN), by decision id."""
    metadata: BundleMetadata = field(default_factory=BundleMetadata)
