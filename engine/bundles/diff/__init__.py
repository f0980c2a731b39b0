"""What changed between two versions of a bundle: the process, its forms, its bundle.json.

Both sides are read from what a version stores: its uploaded files (the BPMN is parsed with the
safe parser of engine/bpmn/xml.py), the forms it resolved at deploy time and its metadata. Elements
are matched by id: an id only on one side is added or removed; on both sides each property that
differs (name, type, flow ends, condition, groups, form, lane, ...) is one change. Every change is
said in Chinese, ready for the compare page.
"""

from __future__ import annotations

from .elements import Element, all_elements, read_elements, type_name
from .forms import form_changes
from .metadata import file_changes, metadata_changes
from .model import BundleDiff, Change, VersionContent
from .process import process_changes

__all__ = [
    "BundleDiff",
    "Change",
    "Element",
    "VersionContent",
    "diff_versions",
    "read_elements",
    "type_name",
]


def diff_versions(a: VersionContent, b: VersionContent) -> BundleDiff:
    """Everything that changed from version `a` to version `b`."""
    unreadable: list[str] = []
    elements_a = all_elements(a.files, unreadable)
    elements_b = all_elements(b.files, unreadable)
    process, marked_a, marked_b = process_changes(elements_a, elements_b, a.forms, b.forms)
    return BundleDiff(
        process=process,
        forms=form_changes(a.forms, b.forms, elements_a, elements_b),
        metadata=metadata_changes(a.metadata, b.metadata),
        files=file_changes(a.files, b.files),
        changed_a=marked_a,
        changed_b=marked_b,
        unreadable=sorted(set(unreadable)),
    )
