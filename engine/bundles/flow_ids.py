"""Sequence flows without an `id`, given one at upload.

The BPMN 2.0 schema makes `id` optional on every base element, `sequenceFlow` included, and
hand-written files (the engines' own test resources) often leave it out. SpiffWorkflow then
connected such flows wrongly (a fork/join of id-less flows started a case with no open task,
stuck for good), and the diagram pages and test runs (engine/bpmn/simulation.py `FlowIndex`)
skip a flow they cannot name. So before anything reads an upload, each id-less sequence flow
gets an id derived from its ends, `Flow_<source>_<target>` (`_2`, `_3`... when that id is
taken): unique, and the same for the same file. The attribute is written into the file's text
where the flow's start tag begins (nothing else of the file changes, lines included), so the
stored file, its diagram, its test runs and the engine all name the flow alike.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.bpmn.namespaces import BPMN, tag
from engine.bpmn.xml import XmlProblem, parse_xml

from .source import BundleSource

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")

# The start tag of a sequence flow, any prefix; and whether it has an id.
_START_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?sequenceFlow(?=[\s/>])[^>]*>")
_HAS_ID = re.compile(rb"\sid\s*=")
# What may hold text that looks like a tag: blanked out (same length) before searching.
_OPAQUE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)
_NOT_ID = re.compile(r"[^\w.\-]")


def with_flow_ids(source: BundleSource) -> BundleSource:
    """The upload with an id on every sequence flow of its BPMN files (itself when all have
    one)."""
    changed = {}
    for path, data in source.files.items():
        if path.lower().endswith(BPMN_SUFFIXES):
            new = named(data)
            if new is not data:
                changed[path] = new
    if not changed:
        return source
    return BundleSource(source.name, {**source.files, **changed})


def named(data: bytes) -> bytes:
    """A BPMN file's bytes with an id on every sequence flow (the same object when every flow
    has one, or when the file is not XML that parses: the compiler reports that)."""
    if b"sequenceFlow" not in data:
        return data
    masked = _OPAQUE.sub(lambda m: b" " * len(m.group()), data)
    tags = list(_START_TAG.finditer(masked))
    if all(_HAS_ID.search(t.group()) for t in tags):
        return data
    try:
        tree = parse_xml(data)
    except XmlProblem:
        return data
    flows = list(tree.getroot().iter(tag(BPMN, "sequenceFlow")))
    ids = _new_ids(tree.getroot(), flows)
    if len(tags) != len(flows) or any(
        bool(_HAS_ID.search(t.group())) != bool(f.get("id"))
        for t, f in zip(tags, flows, strict=True)
    ):
        return _rewritten(tree, flows, ids)  # text and tree disagree: serialize the tree
    pieces = []
    last = 0
    for found, new_id in zip(tags, ids, strict=True):
        if new_id is None:
            continue
        at = found.start() + len(found.group().split(b"sequenceFlow", 1)[0]) + len("sequenceFlow")
        pieces += [data[last:at], f' id="{new_id}"'.encode()]
        last = at
    return b"".join([*pieces, data[last:]])


def _new_ids(root: etree._Element, flows: list[etree._Element]) -> list[str | None]:
    """The id each flow gets (None: it has one), in document order."""
    taken = {n.get("id") for n in root.iter(tag=etree.Element) if n.get("id")}
    found: list[str | None] = []
    for flow in flows:
        if flow.get("id"):
            found.append(None)
            continue
        ends = (
            _NOT_ID.sub("_", (flow.get(end) or "").strip()) for end in ("sourceRef", "targetRef")
        )
        base = "Flow_" + "_".join(ends)
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        found.append(candidate)
    return found


def _rewritten(
    tree: etree._ElementTree, flows: list[etree._Element], ids: list[str | None]
) -> bytes:
    for flow, new_id in zip(flows, ids, strict=True):
        if new_id is not None:
            flow.set("id", new_id)
    encoding = tree.docinfo.encoding or "UTF-8"
    return bytes(etree.tostring(tree, xml_declaration=True, encoding=encoding))
