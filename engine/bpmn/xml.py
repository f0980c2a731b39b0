"""Parsing uploaded XML as data: no entities, no DTD, no network, bounded size."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

MAX_XML_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class XmlProblem(Exception):
    """An XML file that cannot be accepted, with the line where known."""

    message: str
    line: int | None = None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def _declares_dtd(data: bytes) -> bool:
    """Refuse before parsing: also catches DTDs hidden in UTF-16 documents."""
    return any(
        marker.encode(encoding) in data
        for marker in ("<!DOCTYPE", "<!ENTITY")
        for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    )


def parse_xml(data: bytes) -> etree._ElementTree:
    """Parse untrusted XML bytes; raise XmlProblem for anything we refuse."""
    if len(data) > MAX_XML_BYTES:
        raise XmlProblem(f"文件过大: {len(data)} 字节, 上限 {MAX_XML_BYTES} 字节")
    if not data.strip():
        raise XmlProblem("文件为空")
    if _declares_dtd(data):
        # DTDs are how entity attacks (XXE, billion laughs) get in; BPMN never needs one.
        raise XmlProblem("不允许 DOCTYPE 声明或实体定义 (DTD)", 1)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        line = err.lineno if err.lineno else None
        raise XmlProblem(f"XML 格式错误: {err.msg}", line) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlProblem("不允许 DOCTYPE 声明或实体定义 (DTD)", 1)
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise XmlProblem("不允许使用实体引用", node.sourceline)
    return tree
