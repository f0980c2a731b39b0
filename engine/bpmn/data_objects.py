"""Data associations to data objects are documentation: the engine gives them to SpiffWorkflow
without them.

bpmn.io, Camunda Modeler and SpiffArena draw a dotted arrow from a task to a data object ("登记表")
as a `bpmn:dataOutputAssociation` (or from it, a `bpmn:dataInputAssociation`). SpiffWorkflow 3.2.0
then moves the task's field named by the data object's id out of the task data into a store of
its own, and fails the step when the task has no such field ("A data object could not be set").
A case's data is one flat set of fields (docs/bundles.md, Case data), and a data object only
names one of them (a 会签 collection, say); Camunda 7 likewise ignores data associations when it
runs a process. So the associations whose other end is a data object reference are left out of
the copy of the document SpiffWorkflow parses; the stored file keeps them. Associations with a
data store are left in: SpiffWorkflow refuses those at upload (engine/bundles/parse_errors.py)."""

from __future__ import annotations

import copy

from lxml import etree

from .namespaces import BPMN, tag

_ASSOCIATIONS = (tag(BPMN, "dataInputAssociation"), tag(BPMN, "dataOutputAssociation"))
_REFERENCE = tag(BPMN, "dataObjectReference")


def _to_data_objects(root: etree._Element) -> list[etree._Element]:
    references = {n.get("id") for n in root.iter(_REFERENCE)}
    found = []
    for association in root.iter(*_ASSOCIATIONS):
        ends = [
            (node.text or "").strip()
            for node in association.iterchildren(tag(BPMN, "sourceRef"), tag(BPMN, "targetRef"))
        ]
        if any(end in references for end in ends):
            found.append(association)
    return found


def without_data_object_associations(tree: etree._ElementTree) -> etree._ElementTree:
    """The document without its associations to data objects: the tree itself when it has
    none, else a copy."""
    if not _to_data_objects(tree.getroot()):
        return tree
    copied = copy.deepcopy(tree)
    for association in _to_data_objects(copied.getroot()):
        parent = association.getparent()
        if parent is not None:
            parent.remove(association)
    return copied
