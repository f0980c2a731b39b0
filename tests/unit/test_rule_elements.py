"""Rule `elements` (engine/bundles/rules/elements.py) and link events at parse time
(engine/bpmn/links.py), on small documents: links matched by name within one process or
subprocess, signals matched by name across the files of an upload, event-based gateways with at
most one timer; and the elements refused as not supported (engine/bundles/unsupported.py)."""

from __future__ import annotations

from engine.bpmn.xml import parse_xml
from engine.bundles import unsupported
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.rules import Upload, elements
from engine.bundles.source import from_upload
from tests.fixtures import bpmn

T = 'camunda:candidateGroups="g"'


def found(*bodies: str) -> list[tuple[str | None, str]]:
    documents = {f"p{i}.bpmn": parse_xml(bpmn.document(body)) for i, body in enumerate(bodies)}
    return [(p.element, p.message) for p in elements.check(Upload(documents))]


def link(kind: str, id_: str, name: str, flow: str = "") -> str:
    tag = "intermediateThrowEvent" if kind == "throw" else "intermediateCatchEvent"
    return f'<bpmn:{tag} id="{id_}"><bpmn:linkEventDefinition name="{name}" /></bpmn:{tag}>{flow}'


SUB_LINK = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp" />
  <bpmn:subProcess id="sp">
    <bpmn:startEvent id="ss" /><bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="lt" />
    {link("throw", "lt", "L")}{link("catch", "lc", "L")}
    <bpmn:sequenceFlow id="sf2" sourceRef="lc" targetRef="t" /><bpmn:userTask id="t" {T} />
    <bpmn:sequenceFlow id="sf3" sourceRef="t" targetRef="se" /><bpmn:endEvent id="se" />
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e" /><bpmn:endEvent id="e" />"""


def test_a_link_in_a_subprocess_reaches_its_catch_and_runs() -> None:
    assert found(SUB_LINK) == []
    compiled = compile_bundle(from_upload("t.bpmn", bpmn.document(SUB_LINK)), FormLibrary(None))
    assert not [w for w in compiled.warnings if "无法" in w.message]  # lc and t are reached


def test_a_link_catch_of_another_scope_does_not_count() -> None:
    outside = SUB_LINK.replace(link("catch", "lc", "L"), link("catch", "lc", "M")).replace(
        '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="e" />' + link("catch", "lc2", "L")
    )
    assert [e for e, _ in found(outside)] == ["lt"]


def test_two_catches_of_one_name_and_a_throw_with_a_flow_are_refused() -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="lt" />
  {link("throw", "lt", "L")}<bpmn:sequenceFlow id="f2" sourceRef="lt" targetRef="e" />
  {link("catch", "c1", "L")}{link("catch", "c2", "L")}<bpmn:endEvent id="e" />"""
    said = dict(found(body))
    assert set(said) == {"c2", "lt"}
    assert "都是 'L'" in said["c2"] and "不能再有出口连线" in said["lt"]


def signal(kind: str, id_: str, ref: str = "", name: str = "") -> str:
    attr = f' signalRef="{ref}"' if ref else ""
    return (
        f'<bpmn:{kind} id="{id_}" name="{name}"><bpmn:signalEventDefinition{attr} /></bpmn:{kind}>'
    )


def test_signals_are_matched_by_name_across_the_files_of_an_upload() -> None:
    catching = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="c" />
  {signal("intermediateCatchEvent", "c", ref="sig_a")}
  <bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="e" /><bpmn:endEvent id="e" />
</bpmn:process><bpmn:signal id="sig_a" name="ready" /><bpmn:process id="other" isExecutable="false">"""
    throwing = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x" />
  {signal("endEvent", "x", ref="sig_b")}
</bpmn:process><bpmn:signal id="sig_b" name="ready" /><bpmn:process id="other" isExecutable="false">"""
    assert found(catching, throwing) == []  # an end event in another file throws "ready"
    said = found(catching)
    assert [e for e, _ in said] == ["c"] and "信号 'ready' 没有任何元素发出" in said[0][1]
    by_name = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x" />
  {signal("intermediateThrowEvent", "x", name="ready")}
  <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e" /><bpmn:endEvent id="e" />"""
    assert found(catching, by_name) == []  # no signalRef: the event's name


def test_an_event_gateway_with_one_timer_is_accepted() -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g" />
  <bpmn:eventBasedGateway id="g" />
  <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="t1" /><bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="t2" />
  <bpmn:intermediateCatchEvent id="t1"><bpmn:timerEventDefinition><bpmn:timeDate>2026-01-01T00:00:00</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  {signal("intermediateCatchEvent", "t2", name="go")}
  <bpmn:sequenceFlow id="f4" sourceRef="t1" targetRef="e" /><bpmn:sequenceFlow id="f5" sourceRef="t2" targetRef="e" />
  <bpmn:endEvent id="e" />"""
    assert [e for e, _ in found(body)] == ["t2"]  # only the signal nobody throws
    two = body.replace(
        signal("intermediateCatchEvent", "t2", name="go"),
        '<bpmn:intermediateCatchEvent id="t2"><bpmn:timerEventDefinition><bpmn:timeDuration>'
        "PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
    )
    assert [e for e, _ in found(two)] == ["g"]


def test_unsupported_elements_are_named_and_not_parsed() -> None:
    body = f"""
  <bpmn:startEvent id="s"><bpmn:signalEventDefinition /></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" {T} />
  <bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    root = parse_xml(bpmn.document(body)).getroot()
    said = {p.element: p.message for p in unsupported.constructs(root, "p.bpmn")}
    assert set(said) == {"s", "b"}
    assert "信号开始事件" in said["s"] and "补偿事件 'b'" in said["b"]


def test_a_data_object_association_is_documentation_a_data_store_one_is_refused() -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" {T}><bpmn:dataInputAssociation id="dia">
    <bpmn:sourceRef>REF</bpmn:sourceRef><bpmn:targetRef>t</bpmn:targetRef>
  </bpmn:dataInputAssociation></bpmn:userTask>
  <bpmn:dataObjectReference id="dor" dataObjectRef="do" /><bpmn:dataObject id="do" />
  <bpmn:dataStoreReference id="ds" name="档案库" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    library = FormLibrary(None)
    compile_bundle(from_upload("t.bpmn", bpmn.document(body.replace("REF", "dor"))), library)
    try:
        compile_bundle(from_upload("t.bpmn", bpmn.document(body.replace("REF", "ds"))), library)
    except BundleInvalid as err:
        assert [(p.element, p.message) for p in err.problems] == [
            ("t", "元素 't' 的数据关联 (dataInputAssociation) 指向的数据对象不存在或不受支持")
        ]
    else:
        raise AssertionError("a data store association was accepted")
