"""Uploaded XML is data: no entities, no DTD, no network, bounded size, clear errors."""

from __future__ import annotations

import time

import pytest

from engine.bpmn.xml import MAX_XML_BYTES, XmlProblem, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definitions>&lol9;</definitions>"""


def xxe(target: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{target}">]>'
        "<definitions>&x;</definitions>"
    ).encode()


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(XmlProblem) as err:
        parse_xml(BILLION_LAUGHS)
    assert time.perf_counter() - started < 2
    assert "DTD" in err.value.message or "实体" in err.value.message


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://127.0.0.1:9/secret"])
def test_external_entities_are_refused_and_never_read(target: str) -> None:
    with pytest.raises(XmlProblem) as err:
        parse_xml(xxe(target))
    assert "root:" not in err.value.message


def test_a_doctype_without_entities_is_refused_too() -> None:
    with pytest.raises(XmlProblem):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE definitions SYSTEM "x.dtd"><definitions/>')


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(XmlProblem) as err:
        parse_xml(b"<a>\n<b>\n</a>")
    assert err.value.line in (2, 3)
    assert "XML" in err.value.message


def test_oversized_and_empty_files_are_refused() -> None:
    with pytest.raises(XmlProblem, match="过大"):
        parse_xml(b"<a>" + b" " * MAX_XML_BYTES + b"</a>")
    with pytest.raises(XmlProblem, match="为空"):
        parse_xml(b"   ")


def test_plain_xml_parses() -> None:
    tree = parse_xml('<?xml version="1.0" encoding="UTF-8"?><a id="1"><b>文本</b></a>'.encode())
    assert tree.getroot().find("b").text == "文本"
