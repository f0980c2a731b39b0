"""libxml2's XML Schema messages said in Chinese, for designers.

libxml2 reports a schema violation in English with Clark names ("Element
'{http://www.omg.org/spec/BPMN/20100524/MODEL}task': This element is not expected. Expected is one
of ( ... )."). `translate` turns the shapes a modeler's file meets into Chinese, names elements
the way the XML is written (`bpmn:task`), says which element (by id) it is about, and keeps the
English sentence at the end in brackets (without its list) for whoever wants to look it up. A
message of a shape not listed here keeps its English, names shortened.
"""

from __future__ import annotations

import re

from lxml import etree

# `{uri}local`, as libxml2 writes a qualified name
_CLARK = re.compile(r"\{([^}]*)\}([A-Za-z_*][\w.\-*]*)")
_SUBJECT = re.compile(r"^Element '(?P<element>[^']*)'(?:, attribute '(?P<attribute>[^']*)')?: ")
_STANDARD_PREFIXES = frozenset({"bpmn", "bpmndi", "dc", "di", "dmn", "dmndi"})
_EXPECTED = re.compile(r" ?Expected is(?: one of)? \( (?P<names>.*?) \)\.?")


def shorten(message: str, prefixes: dict[str, str], preferred: dict[str, str] | None = None) -> str:
    """Clark names written with the prefixes given (those in `preferred` first); any other
    namespace's names as `local (命名空间 uri)`."""
    by_namespace: dict[str, str] = {}
    for prefix, namespace in [*(preferred or {}).items(), *prefixes.items()]:
        by_namespace.setdefault(namespace, prefix)

    def name(match: re.Match[str]) -> str:
        namespace, local = match.group(1), match.group(2)
        prefix = by_namespace.get(namespace)
        if prefix:
            return f"{prefix}:{local}"
        return f"{local} (命名空间 {namespace})" if namespace else local

    return _CLARK.sub(name, message)


def _is_ncname(value: str) -> bool:
    """Whether `value` could be an xsd:ID (an NCName): then an ID error means a duplicate."""
    try:
        etree.QName(value)
    except ValueError:
        return False
    return bool(value) and ":" not in value


_TYPES = {
    "xs:boolean": "布尔值: 请写 true 或 false (小写)",
    "xs:QName": "限定名 (QName): 应为 '名称' 或 '前缀:名称', 且前缀已在文档中声明 (xmlns:前缀)",
    "xs:NCName": "名称 (NCName): 以字母或 _ 开头, 只含字母、数字、_ - ., 不含空格和冒号",
    "xs:integer": "整数",
    "xs:int": "整数",
    "xs:nonNegativeInteger": "不小于 0 的整数",
    "xs:positiveInteger": "大于 0 的整数",
    "xs:double": "数字",
    "xs:anyURI": "URI",
}


def _value_problem(attribute: str, value: str, kind: str) -> str:
    if kind == "xs:ID":
        if _is_ncname(value):
            return f"id '{value}' 重复: 文档中已有元素使用这个 id, 每个 id 只能用一次"
        if not value:
            return f"属性 {attribute} 为空: 请给它一个 id"
        return (
            f"'{value}' 不是有效的 id: id 须以字母或 _ 开头, 只能包含字母、数字、_ - ., "
            "不能有空格或冒号"
        )
    if kind in ("xs:IDREF", "xs:IDREFS"):
        return (
            f"属性 {attribute} 引用的 '{value}' 不是有效的 id: id 须以字母或 _ 开头, 只能包含"
            "字母、数字、_ - ., 不能有空格或冒号"
        )
    wanted = _TYPES.get(kind, f"{kind} 类型的值")
    return f"属性 {attribute} 的值 '{value}' 不是有效的{wanted}"


_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"This element is not expected\."), "not_expected"),
    (re.compile(r"Missing child element\(s\)\."), "missing_child"),
    (re.compile(r"The attribute '(?P<name>[^']*)' is required but missing\."), "missing_attr"),
    (re.compile(r"The attribute '(?P<name>[^']*)' is not allowed\."), "attr_not_allowed"),
    (
        re.compile(
            r"'(?P<value>[^']*)' is not a valid value of the (?:local )?atomic type"
            r"(?: '(?P<type>[^']*)')?\."
        ),
        "bad_value",
    ),
    (
        re.compile(
            r"\[facet 'enumeration'\] The value '(?P<value>[^']*)' is not an element of the set "
            r"\{(?P<set>.*)\}\."
        ),
        "enumeration",
    ),
    (re.compile(r"Character content other than whitespace is not allowed"), "text"),
    (re.compile(r"references an unknown ID \"(?P<value>[^\"]*)\""), "unknown_idref"),
    (re.compile(r"No match found for key-sequence \['(?P<value>[^']*)'\]"), "unknown_idref"),
]


def _expected(text: str) -> str:
    match = _EXPECTED.search(text)
    if not match:
        return ""
    names = [n.strip() for n in match.group("names").split(",")]
    names = [n for n in names if not n.startswith("##")] or names
    return "、".join(names)


def _where(element: str, own_id: str | None, holder_id: str | None) -> str:
    if own_id:
        return f"元素 {element} ('{own_id}')"
    if holder_id:
        return f"'{holder_id}' 中的元素 {element}"
    return f"元素 {element}"


def translate(
    message: str,
    prefixes: dict[str, str],
    own_id: str | None = None,
    holder_id: str | None = None,
    document_prefixes: dict[str, str] | None = None,
) -> str:
    """libxml2's `message` in Chinese. `own_id` is the id of the element it is about, if it has
    one; else `holder_id`, the id of the nearest element around it that has one. Names are
    written with `prefixes` (ours: `bpmn:task` whatever prefix the file uses), else with the
    document's own."""
    text = shorten(message.strip(), {**(document_prefixes or {}), **prefixes}, prefixes)
    subject = _SUBJECT.match(text)
    element = subject.group("element") if subject else ""
    attribute = (subject.group("attribute") if subject else None) or ""
    rest = text[subject.end() :] if subject else text
    original = _EXPECTED.sub("", rest).strip()
    where = _where(element, own_id, holder_id) if element else "文档"
    for pattern, shape in _SHAPES:
        found = pattern.search(rest)
        if not found:
            continue
        if shape == "not_expected":
            expected = _expected(rest)
            said = f"{where} 不能出现在这里 (位置或顺序不对, 或不能放在它的上级元素中)"
            if element.split(":")[0] not in _STANDARD_PREFIXES:
                said += "; 其他命名空间的扩展内容须放在 bpmn:extensionElements 中"
            if expected:
                said += f"; 这里可以是: {expected}"
        elif shape == "missing_child":
            expected = _expected(rest)
            said = f"{where} 缺少子元素" + (f", 应有: {expected}" if expected else "")
        elif shape == "missing_attr":
            said = f"{where} 缺少必需的属性 {found.group('name')}"
        elif shape == "attr_not_allowed":
            said = f"{where} 不能有属性 {found.group('name')}"
            if ":" not in found.group("name") and "(命名空间" not in found.group("name"):
                said += " (规范中没有这个属性: 扩展属性须带已声明的命名空间前缀)"
        elif shape == "bad_value":
            kind = found.group("type") or ""
            said = f"{where}: " + _value_problem(attribute or "值", found.group("value"), kind)
        elif shape == "enumeration":
            allowed = ", ".join(v.strip().strip("'") for v in found.group("set").split(","))
            said = (
                f"{where}: 属性 {attribute} 的值 '{found.group('value')}' 不在允许的取值中 "
                f"({allowed})"
            )
        elif shape == "text":
            said = f"{where} 中不能直接写文字, 只能包含子元素 (文字请放在 bpmn:documentation 中)"
        else:  # unknown_idref
            said = f"{where}: 引用的 id '{found.group('value')}' 不存在"
        return f"{said} [{original}]"
    return f"{where}: {original}" if element else original
