"""The BPMN parser we hand SpiffWorkflow documents to: standard BPMN, already parsed safely.

Documents reach it as lxml trees produced by `engine.bpmn.xml.parse_xml`, so SpiffWorkflow
never parses raw bytes itself. Schema validation is done beforehand (all errors, not the
first), so no validator is configured here.
"""

from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .namespaces import BPMN, NSMAP, local_name

__all__ = ["LianbanParser", "ValidationException", "schema_errors"]


class LianbanParser(BpmnParser):  # type: ignore[misc]
    """Standard BPMN 2.0; our extensions are read separately (engine.bpmn.manifest)."""

    def __init__(self) -> None:
        super().__init__(namespaces=NSMAP)


_VALIDATOR: BpmnValidator | None = None


def _validator() -> BpmnValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    return _VALIDATOR


def _shorten(message: str) -> str:
    for prefix, ns in NSMAP.items():
        message = message.replace("{" + ns + "}", prefix + ":")
    return message


def schema_errors(tree: etree._ElementTree) -> list[tuple[str, int | None, str | None]]:
    """Every BPMN 2.0 schema violation as (message, line, id of the nearest element with one)."""
    validator = _validator()
    validator.preprocess(tree)
    schema = validator.validator
    if schema.validate(tree):
        return []
    namespaces = {k: v for k, v in tree.getroot().nsmap.items() if k}
    found = []
    for entry in schema.error_log:
        node = _node_at(tree, entry.path, entry.line, namespaces)
        element_id = None
        while node is not None and element_id is None:
            element_id = node.get("id") if isinstance(node.tag, str) else None
            node = node.getparent()
        found.append((_shorten(entry.message), entry.line or None, element_id))
    return found


def _node_at(
    tree: etree._ElementTree, path: str | None, line: int | None, namespaces: dict[str, str]
) -> etree._Element | None:
    """The element a schema error is about: by its path, else the last one on its line."""
    if path:
        try:
            nodes = tree.xpath(path, namespaces=namespaces)
        except etree.XPathError:
            nodes = []
        if nodes and isinstance(nodes[0], etree._Element):
            return nodes[0]
    if line:
        on_line = [n for n in tree.getroot().iter() if n.sourceline == line]
        if on_line:
            return on_line[-1]
    return None


def is_bpmn(tree: etree._ElementTree) -> bool:
    return bool(tree.getroot().tag == f"{{{BPMN}}}definitions")


def root_label(tree: etree._ElementTree) -> str:
    return local_name(tree.getroot().tag)
