"""Bundle checks: a good upload compiles; every kind of bad upload names each problem."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import BundleSource, from_path, from_upload, from_zip
from tests.conftest import FORMS, PROCESSES
from tests.fixtures import bpmn

LIBRARY = FormLibrary(FORMS)
FORM = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def problems_of(data: bytes, name: str = "t.bpmn", library: FormLibrary = LIBRARY) -> list[Problem]:
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload(name, data), library)
    return err.value.problems


def one(problems: list[Problem], element: str) -> Problem:
    found = [p for p in problems if p.element == element]
    assert found, f"no problem names {element}: {problems}"
    return found[0]


def test_the_restaurant_bundle_compiles_with_its_forms() -> None:
    compiled = compile_bundle(from_path(PROCESSES / "restaurant"), LIBRARY)
    assert compiled.key == "restaurant"
    assert compiled.name == "我要开餐馆"
    assert compiled.process_id == "restaurant"
    assert {"intake", "review_licence", "review_food", "site_inspection", "joint_issuance"} <= set(
        compiled.human_tasks
    )
    assert compiled.human_tasks["review_food"].groups == ("food_safety",)
    for info in compiled.human_tasks.values():
        assert info.form in compiled.forms
    assert compiled.start_form in compiled.forms
    assert '"spec"' in compiled.specs_json


def test_a_plain_bpmn_without_metadata_takes_its_key_and_name_from_the_process() -> None:
    compiled = compile_bundle(from_upload("x.bpmn", bpmn.linear()), LIBRARY)
    assert (compiled.key, compiled.name, compiled.process_id) == ("p", "测试流程", "p")
    assert compiled.human_tasks["task"].groups == ("front_desk",)


def test_groups_come_from_candidate_groups_then_property_then_lane() -> None:
    body = """
  <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="窗口"><bpmn:flowNodeRef>c</bpmn:flowNodeRef>
  <bpmn:flowNodeRef>b</bpmn:flowNodeRef><bpmn:flowNodeRef>a</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
  <bpmn:userTask id="a" camunda:candidateGroups="x, y" />
  <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b" />
  <bpmn:userTask id="b"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="candidateGroups" value="z" /></spiffworkflow:properties>
  </bpmn:extensionElements></bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="c" />
  <bpmn:userTask id="c" /><bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="e" />
  <bpmn:endEvent id="e" />"""
    tasks = compile_bundle(from_upload("g.bpmn", bpmn.document(body)), LIBRARY).human_tasks
    assert tasks["a"].groups == ("x", "y")
    assert tasks["b"].groups == ("z",)
    assert tasks["c"].groups == ("窗口",)


def test_script_task_is_refused_with_its_element_and_line() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="evil" />
  <bpmn:scriptTask id="evil" name="x"><bpmn:script>import os; os.system("id")</bpmn:script></bpmn:scriptTask>
  <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="e" /><bpmn:endEvent id="e" />"""
    problem = one(problems_of(bpmn.document(body)), "evil")
    assert "脚本" in problem.message
    assert problem.line == 6


def test_markup_in_documentation_is_refused_plain_text_kept() -> None:
    """An XHTML script in a documentation would reach browsers with the file: refused; plain
    text (and escaped markup, which is text) is what modelers write, and is kept."""
    script = '<html:script xmlns:html="http://www.w3.org/1999/xhtml">fetch("/work/")</html:script>'
    body = f"""
  <bpmn:startEvent id="s"><bpmn:documentation>申请 {script}</bpmn:documentation></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk">
    <bpmn:documentation>核对 &lt;b&gt;材料&lt;/b&gt;</bpmn:documentation></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />
  <bpmn:textAnnotation id="note"><bpmn:text><b xmlns="http://www.w3.org/1999/xhtml">!</b></bpmn:text></bpmn:textAnnotation>"""
    found = problems_of(bpmn.document(body))
    assert [(p.element, p.message) for p in found] == [
        ("s", "说明文字 (documentation) 只能是纯文本, 不能包含标记 (<script>)"),
        ("note", "说明文字 (text) 只能是纯文本, 不能包含标记 (<b>)"),
    ]
    plain = body.replace(script, "").replace('<b xmlns="http://www.w3.org/1999/xhtml">!</b>', "!")
    assert compile_bundle(from_upload("t.bpmn", bpmn.document(plain)), LIBRARY).key == "p"


def test_code_in_a_condition_is_refused_before_anything_runs() -> None:
    found = problems_of(bpmn.decision("__import__('os').system('touch /tmp/lianban-pwned')"))
    assert "条件" in one(found, "yes").message


def test_attribute_access_escape_is_refused() -> None:
    found = problems_of(bpmn.decision("().__class__.__base__.__subclasses__()"))
    assert one(found, "yes").line is not None


def test_a_timer_expression_with_code_is_refused() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="td">
    <bpmn:timeDuration>os.system("id") or "PT1H"</bpmn:timeDuration>
  </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e" /><bpmn:endEvent id="e" />"""
    assert "定时器" in one(problems_of(bpmn.document(body)), "td").message


def test_a_multi_instance_collection_must_be_a_field_name() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" camunda:candidateGroups="g"><bpmn:multiInstanceLoopCharacteristics>
    <bpmn:loopDataInputRef>items.__class__</bpmn:loopDataInputRef>
  </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    assert "多实例" in one(problems_of(bpmn.document(body)), "t").message


def test_spiff_prescripts_and_camunda_listeners_are_refused() -> None:
    extra = """<bpmn:extensionElements><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>
    <camunda:executionListener class="com.Evil" event="start" /></bpmn:extensionElements>"""
    data = bpmn.linear('camunda:candidateGroups="g"').replace(
        b"<bpmn:incoming>f1</bpmn:incoming>", extra.encode() + b"<bpmn:incoming>f1</bpmn:incoming>"
    )
    messages = [p.message for p in problems_of(data) if p.element == "task"]
    assert any("前置脚本" in m for m in messages)
    assert any("监听器" in m for m in messages)


def test_missing_and_invalid_forms_are_named() -> None:
    assert (
        "不存在"
        in one(
            problems_of(bpmn.linear('camunda:candidateGroups="g" camunda:formKey="nope.json"')),
            "task",
        ).message
    )
    bad = bpmn.zipped(
        {
            "p.bpmn": bpmn.linear('camunda:candidateGroups="g" camunda:formKey="f.json"'),
            "forms/f.json": {"type": "object", "properties": {"a": {"type": "no-such-type"}}},
        }
    )
    assert "无效" in one(problems_of(bad, "b.zip"), "task").message
    not_json = bpmn.zipped(
        {
            "p.bpmn": bpmn.linear('camunda:candidateGroups="g" camunda:formKey="f.json"'),
            "f.json": "{not json",
        }
    )
    assert "JSON" in one(problems_of(not_json, "b.zip"), "task").message


def test_a_zip_carries_its_own_forms() -> None:
    data = bpmn.zipped(
        {
            "p.bpmn": bpmn.linear('camunda:candidateGroups="g" camunda:formKey="f.json"'),
            "forms/f.json": FORM,
            "bundle.json": {"key": "zipped", "name": "打包的事项"},
        }
    )
    compiled = compile_bundle(from_upload("b.zip", data), FormLibrary(None))
    assert (compiled.key, compiled.name) == ("zipped", "打包的事项")
    assert compiled.forms["f.json"]["required"] == ["ok"]


def test_a_task_without_any_group_is_refused() -> None:
    assert "办理组" in one(problems_of(bpmn.linear("")), "task").message


def test_a_deciding_flow_without_condition_is_refused() -> None:
    assert "条件" in one(problems_of(bpmn.decision("ok == True", default_flow=False)), "no").message


def test_a_flow_to_a_missing_element_is_named_plainly() -> None:
    data = bpmn.linear().replace(b'targetRef="end"', b'targetRef="nowhere"', 1)
    assert data != bpmn.linear()
    problem = problems_of(data)[0]
    assert "终点 'nowhere' 不是同一流程中的元素" in problem.message
    assert problem.line is not None


def test_schema_violations_are_all_reported_with_lines() -> None:
    data = bpmn.linear(extra='<bpmn:bogus id="b1" /><bpmn:alsoBogus id="b2" />')
    found = problems_of(data)
    schema = [p for p in found if "BPMN 2.0" in p.message]
    assert len(schema) >= 1 and all(p.line for p in schema)
    assert "b1" in [p.element for p in schema]


def test_not_well_formed_and_not_bpmn() -> None:
    assert "XML" in problems_of(b"<bpmn:definitions")[0].message
    assert "BPMN" in problems_of(b"<html/>")[0].message


def test_several_problems_are_reported_at_once() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
  <bpmn:scriptTask id="a"><bpmn:script>x=1</bpmn:script></bpmn:scriptTask>
  <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="f4" />
  <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="b"><bpmn:conditionExpression>a.b</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="b" />
  <bpmn:userTask id="b" camunda:formKey="missing.json" />
  <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="e" /><bpmn:endEvent id="e" />"""
    elements = {p.element for p in problems_of(bpmn.document(body))}
    assert {"a", "f3", "b"} <= elements


def test_a_spiffworkflow_parse_error_names_the_element() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" camunda:candidateGroups="g"><bpmn:standardLoopCharacteristics /></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    problem = one(problems_of(bpmn.document(body)), "t")
    assert problem.line is not None


def test_dmn_files_are_refused_plainly() -> None:
    data = bpmn.zipped({"p.bpmn": bpmn.linear(), "d.dmn": "<definitions/>"})
    assert any("DMN" in p.message for p in problems_of(data, "b.zip"))


def test_zip_paths_may_not_escape_and_sizes_are_bounded() -> None:
    with pytest.raises(BundleInvalid) as err:
        from_zip("b.zip", bpmn.zipped({"../evil.bpmn": bpmn.linear()}))
    assert "越出" in err.value.problems[0].message
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.bpmn", b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>")
    with pytest.raises(BundleInvalid) as err:
        from_zip("bomb.zip", buffer.getvalue())
    assert "过大" in err.value.problems[0].message
    with pytest.raises(BundleInvalid):
        from_zip("x.zip", b"PK\x03\x04 not really a zip")


def test_only_bpmn_and_zip_uploads_are_accepted() -> None:
    with pytest.raises(BundleInvalid):
        from_upload("notes.txt", b"hello")


def test_the_main_process_must_be_clear() -> None:
    two = bpmn.document("<bpmn:startEvent id='s'/>", "one").replace(
        b"</bpmn:definitions>",
        b'<bpmn:process id="two" isExecutable="true"><bpmn:startEvent id="s2"/></bpmn:process></bpmn:definitions>',
    )
    assert any("主流程" in p.message for p in problems_of(two))
    source = BundleSource(
        "x", {"p.bpmn": bpmn.linear(), "bundle.json": json.dumps({"process": "zzz"}).encode()}
    )
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(source, LIBRARY)
    assert "zzz" in err.value.problems[0].message


def timer(expression: str, kind: str = "timeDuration") -> bytes:
    return bpmn.document(f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="td">
    <bpmn:{kind}>{expression}</bpmn:{kind}>
  </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e" /><bpmn:endEvent id="e" />""")


def test_timer_expressions_must_give_iso_8601() -> None:
    compile_bundle(from_upload("t.bpmn", timer('"P10D"')), LIBRARY)
    compile_bundle(
        from_upload(
            "t.bpmn",
            timer("wait_for"),
        ),
        LIBRARY,
    )  # from case data
    compile_bundle(from_upload("t.bpmn", timer('"2026-12-01T09:00:00+08:00"', "timeDate")), LIBRARY)
    compile_bundle(from_upload("t.bpmn", timer('"R3/PT1H"', "timeCycle")), LIBRARY)
    compile_bundle(from_upload("t.bpmn", timer("workdays(5)")), LIBRARY)  # 工作日
    assert "workdays" in one(problems_of(timer("workdays(-1)")), "td").message
    # unquoted ISO 8601, as Camunda Modeler, bpmn.io and Flowable write it (engine/bpmn/timer_texts.py)
    compile_bundle(from_upload("t.bpmn", timer("P10D")), LIBRARY)
    compile_bundle(from_upload("t.bpmn", timer("R3/PT1H", "timeCycle")), LIBRARY)
    compile_bundle(from_upload("t.bpmn", timer("2026-12-01T09:00:00", "timeDate")), LIBRARY)
    assert "ISO 8601 时长" in one(problems_of(timer("PT10")), "td").message
    assert "短于下限" in one(problems_of(timer("PT0S")), "td").message
    compile_bundle(from_upload("t.bpmn", timer("0 0/5 * * * ?", "timeCycle")), LIBRARY)  # Quartz
    assert "cron" in one(problems_of(timer("0 0/5 * * * ?")), "td").message  # not a duration
    assert "ISO 8601 时长" in one(problems_of(timer('"ten days"')), "td").message
    assert "ISO 8601" in one(problems_of(timer("10")), "td").message
    assert "日期" in one(problems_of(timer('"tomorrow"', "timeDate")), "td").message


def test_engine_parse_problems_are_reported_alongside_the_others() -> None:
    body = """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" camunda:formKey="missing.json" camunda:candidateGroups="g">
    <bpmn:standardLoopCharacteristics /></bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    messages = [p.message for p in problems_of(bpmn.document(body)) if p.element == "t"]
    assert any("表单" in m for m in messages)
    assert any("循环任务 't' (standardLoopCharacteristics) 需要循环条件" in m for m in messages)


def test_a_bpmn_saved_as_xml_is_read_as_bpmn() -> None:
    compiled = compile_bundle(from_upload("diagram.xml", bpmn.linear()), LIBRARY)
    assert compiled.process_id == "p"


def test_message_events_are_refused() -> None:
    body = """
  <bpmn:startEvent id="s"><bpmn:messageEventDefinition id="m" /></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e" /><bpmn:endEvent id="e" />"""
    assert "消息" in one(problems_of(bpmn.document(body)), "m").message


def test_names_too_long_to_store_are_refused_at_upload() -> None:
    long_task = bpmn.linear('camunda:candidateGroups="g"').replace(
        "办理".encode(), ("办" * 301).encode()
    )
    assert "name 过长" in one(problems_of(long_task), "task").message
    long_process = bpmn.document(
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/><bpmn:endEvent id="e"/>',
        name="事" * 201,
    )
    assert "过长" in problems_of(long_process)[0].message
