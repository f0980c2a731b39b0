"""The parser we hand SpiffWorkflow documents to: standard BPMN and DMN, already parsed safely.

Documents reach it as lxml trees produced by `engine.bpmn.xml.parse_xml`, so SpiffWorkflow
never parses raw bytes itself. Schema validation is done beforehand (all errors, not the
first), so no validator is configured here.
"""

from __future__ import annotations

from functools import cache
from itertools import islice
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS, BpmnDmnParser

from . import dmn_model
from .data_objects import without_data_object_associations
from .dmn import DecisionTask, decision_ref
from .namespaces import BPMN, CAMUNDA, NSMAP, local_name, tag
from .schema_messages import translate
from .shallow_parse import ShallowAdHocParser, ShallowProcessParser
from .untyped_tasks import PassThroughTask, UntypedTaskParser

__all__ = [
    "DMN_SCHEMAS",
    "LianbanParser",
    "ValidationException",
    "dmn_schema_errors",
    "schema_errors",
]

# DMN namespace -> the XSD SpiffWorkflow ships for it (DMN 1.1, 1.2, 1.3).
DMN_SCHEMAS: dict[str, str] = dict(SCHEMAS)


class DecisionTaskParser(TaskParser):  # type: ignore[misc]
    """A business rule task names its decision in Camunda's or bpmn.io's spelling."""

    def create_task(self) -> DecisionTask:
        ref = decision_ref(self.node) or ""
        known = self.process_parser.parser.decisions
        if ref not in known:
            raise ValidationException(
                f"业务规则任务引用的决策 '{ref}' 不存在", node=self.node, file_name=self.filename
            )
        return DecisionTask(
            self.spec,
            self.bpmn_id,
            decision=ref,
            decisions=dmn_model.closure(known, ref),
            result_variable=(self.node.get(tag(CAMUNDA, "resultVariable")) or "").strip() or None,
            map_decision_result=self.node.get(tag(CAMUNDA, "mapDecisionResult")),
            **self.bpmn_attributes,
        )

    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return decision_ref(node)


class LianbanParser(BpmnDmnParser):  # type: ignore[misc]
    """Standard BPMN 2.0 and DMN decision tables; our extensions are read separately
    (engine.bpmn.manifest)."""

    OVERRIDE_PARSER_CLASSES = {
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        full_tag("task"): (UntypedTaskParser, PassThroughTask),  # passed through, or human
    }
    PROCESS_PARSER_CLASS = ShallowProcessParser  # long paths without deep recursion
    AD_HOC_PARSER_CLASS = ShallowAdHocParser

    def __init__(self) -> None:
        super().__init__(namespaces=NSMAP)
        self.decisions: dmn_model.Decisions = {}

    def add_bpmn_xml(self, bpmn: Any, filename: str | None = None) -> None:
        """Add a BPMN document, its associations to data objects left out (documentation:
        engine/bpmn/data_objects.py)."""
        tree = bpmn if isinstance(bpmn, etree._ElementTree) else bpmn.getroottree()
        super().add_bpmn_xml(without_data_object_associations(tree), filename=filename)

    def add_dmn_xml(self, node: Any, filename: str | None = None) -> None:
        """Add a DMN document (a tree from `parse_xml`, checked by the upload checks): every
        decision in it, read as lianban runs it (`dmn_model`); SpiffWorkflow's DMN parser is
        not used."""
        root = node.getroot() if isinstance(node, etree._ElementTree) else node
        self.decisions.update(dmn_model.read_decisions(root))


@cache
def _bpmn_validator() -> BpmnValidator:
    return BpmnValidator()


_XSD = "http://www.w3.org/2001/XMLSchema"
_DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
_DMNDI12 = "http://www.omg.org/spec/DMN/20180521/DMNDI/"


@cache
def _dmn_schema(namespace: str) -> etree.XMLSchema:
    """SpiffWorkflow's XSD for one DMN version (a trusted local file, imports beside it).

    SpiffWorkflow 3.2.0 ships the DI schema under the name of DMN 1.2's diagram schema
    (DMNDI12.xsd), so its DMN 1.2 schema does not load; for DMN 1.2 the diagram (`dmndi:DMNDI`,
    layout only) is skipped and everything else is validated."""
    document = etree.parse(DMN_SCHEMAS[namespace])
    if namespace == _DMN12:
        root = document.getroot()
        for node in root.findall(f"{{{_XSD}}}import[@namespace='{_DMNDI12}']"):
            root.remove(node)
        for node in root.iter(f"{{{_XSD}}}element"):
            if node.get("ref") == "dmndi:DMNDI":
                skip = etree.Element(f"{{{_XSD}}}any", namespace=_DMNDI12)
                skip.set("processContents", "skip")
                skip.set("minOccurs", "0")
                node.getparent().replace(node, skip)
    return etree.XMLSchema(document)


def schema_errors(tree: etree._ElementTree) -> list[tuple[str, int | None, str | None]]:
    """Every BPMN 2.0 schema violation as (message, line, id of the nearest element with one)."""
    validator = _bpmn_validator()
    validator.preprocess(tree)
    return _validation_errors(validator.validator, tree, NSMAP)


def dmn_schema_errors(tree: etree._ElementTree) -> list[tuple[str, int | None, str | None]]:
    """Every violation of the DMN schema of the document's version, as `schema_errors` gives
    them. The document must be DMN (`is_dmn`)."""
    namespace = dmn_namespace(tree)
    assert namespace is not None, "not a DMN document"
    return _validation_errors(_dmn_schema(namespace), tree, {**NSMAP, "dmn": namespace})


# Schema violations located precisely (by libxml2's node path) when a document has at most this
# many; beyond it, the first `MAX_LISTED_VIOLATIONS` are listed with their message only.
MAX_LOCATED_VIOLATIONS = 100
MAX_LISTED_VIOLATIONS = 20
# A document with at most this many elements is always validated as a tree: its worst case (every
# element in violation, all siblings) costs milliseconds.
SMALL_DOCUMENT = 3000


def _validation_errors(
    schema: etree.XMLSchema, tree: etree._ElementTree, prefixes: dict[str, str]
) -> list[tuple[str, int | None, str | None]]:
    """Every violation, located, for a document with few; the first few and their number for
    one with many.

    Validating the tree, libxml2 gives each violation the path of its element, found by counting
    the element's and each ancestor's preceding siblings: 40,000 violations among as many
    siblings took 2.6 s, and a 5 MB file holds more. So the document is first validated as it is
    read (`_streamed_violations`, no paths, linear), and its duplicate ids (which only the tree's
    validation sees) are counted; only a document with few of both is validated as a tree."""
    if not any(True for _ in islice(tree.getroot().iter(), SMALL_DOCUMENT, None)):
        return _located_errors(schema, tree, prefixes)
    streamed = _streamed_violations(schema, tree)
    duplicates = _duplicate_ids(tree)
    if len(streamed) + len(duplicates) <= MAX_LOCATED_VIOLATIONS:
        return _located_errors(schema, tree, prefixes)
    found: list[tuple[str, int | None, str | None]] = [
        (f"id '{value}' 重复", node.sourceline, value)
        for value, node in duplicates[:MAX_LISTED_VIOLATIONS]
    ]
    for message in streamed[: MAX_LISTED_VIOLATIONS - len(found)]:
        found.append((translate(message, prefixes) + " (位置未定位)", None, None))
    total = len(streamed) + len(duplicates)
    found.append(
        (
            f"共有 {total} 处不符合规范, 以上只列出前 {len(found)} 处 (超过 "
            f"{MAX_LOCATED_VIOLATIONS} 处时不逐一定位); 请用建模工具检查并修正后重新上传",
            None,
            None,
        )
    )
    return found


def _streamed_violations(schema: etree.XMLSchema, tree: etree._ElementTree) -> list[str]:
    """The messages of the violations libxml2 finds validating the document while reading it
    (the tree serialized again: the same document, preprocessing included); in linear time,
    without locations, and without the uniqueness of ids."""
    parser = etree.XMLParser(
        schema=schema, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        etree.fromstring(etree.tostring(tree), parser)
    except etree.XMLSyntaxError:
        pass  # invalid: the violations are in the parser's log
    return [entry.message for entry in parser.error_log]


def _duplicate_ids(tree: etree._ElementTree) -> list[tuple[str, etree._Element]]:
    """Each element whose `id` an earlier element already has, with that id."""
    seen: set[str] = set()
    found = []
    for node in tree.getroot().iter(tag=etree.Element):
        value = node.get("id")
        if value is None:
            continue
        if value in seen:
            found.append((value, node))
        seen.add(value)
    return found


def _located_errors(
    schema: etree.XMLSchema, tree: etree._ElementTree, prefixes: dict[str, str]
) -> list[tuple[str, int | None, str | None]]:
    if schema.validate(tree):
        return []
    namespaces = {k: v for k, v in tree.getroot().nsmap.items() if k}
    by_line: dict[int, etree._Element] | None = None
    found = []
    for entry in schema.error_log:
        node = _node_at(tree, entry.path, namespaces)
        if node is None and entry.line:
            if by_line is None:  # the last element starting on each line, built once
                by_line = {n.sourceline: n for n in tree.getroot().iter() if n.sourceline}
            node = by_line.get(entry.line)
        element_id = None
        own_id = node.get("id") if node is not None and isinstance(node.tag, str) else None
        while node is not None and element_id is None:
            element_id = node.get("id") if isinstance(node.tag, str) else None
            node = node.getparent()
        message = translate(entry.message, prefixes, own_id, element_id, namespaces)
        found.append((message, entry.line or None, element_id))
    return found


def _node_at(
    tree: etree._ElementTree, path: str | None, namespaces: dict[str, str]
) -> etree._Element | None:
    """The element a schema error is about, by its path."""
    if path:
        try:
            nodes = tree.xpath(path, namespaces=namespaces)
        except etree.XPathError:
            nodes = []
        if nodes and isinstance(nodes[0], etree._Element):
            return nodes[0]
    return None


def is_bpmn(tree: etree._ElementTree) -> bool:
    return bool(tree.getroot().tag == f"{{{BPMN}}}definitions")


def dmn_namespace(tree: etree._ElementTree) -> str | None:
    """The DMN version's namespace of a `definitions` document, None if it is not DMN."""
    name = etree.QName(tree.getroot())
    namespace = str(name.namespace)
    return namespace if name.localname == "definitions" and namespace in DMN_SCHEMAS else None


def is_dmn(tree: etree._ElementTree) -> bool:
    return dmn_namespace(tree) is not None


def root_label(tree: etree._ElementTree) -> str:
    return local_name(tree.getroot().tag)
