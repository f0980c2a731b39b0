"""Generated forms (engine/bpmn/task_forms.py), SpiffArena UI schemas
(engine/bundles/form_sources.py) and task instructions (web/instructions.py) on their own."""

from __future__ import annotations

from lxml import etree

from engine.bpmn import manifest, task_forms
from engine.bundles.form_sources import missing_message, with_ui_schema
from web.forms_render import reorder_like
from web.instructions import render_instructions

# written as Activiti Designer 5.x (Eclipse) writes a user task's form properties
ACTIVITI = """<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:activiti="http://activiti.org/bpmn" targetNamespace="http://www.activiti.org/test">
  <process id="p" isExecutable="true">
    <userTask id="usertask1" name="Check" activiti:candidateGroups="staff">
      <extensionElements>
        <activiti:formProperty id="when" name="When" type="date" datePattern="yyyy-MM-dd"
            default="2027-02-03" required="true"></activiti:formProperty>
        <activiti:formProperty id="ok" name="OK" type="boolean" required="maybe"></activiti:formProperty>
        <activiti:formProperty id="x" name="X" expression="#{bean.x}"></activiti:formProperty>
        <activiti:formProperty id="hidden" name="H" readable="false"></activiti:formProperty>
      </extensionElements>
    </userTask>
  </process>
</definitions>"""


def _task(xml: str, element: str) -> etree._Element:
    root = etree.fromstring(xml.encode())
    return next(n for n in root.iter() if n.get("id") == element)


def test_activiti_form_properties() -> None:
    node = _task(ACTIVITI, "usertask1")
    assert manifest.form_key(node) == "activiti:formProperty/usertask1"
    form = task_forms.generated_form(node)
    assert form is not None
    assert form.schema["properties"]["when"]["default"] == "2027-02-03"
    assert form.schema["required"] == ["when"]
    assert "hidden" not in form.schema["properties"]
    assert any("required 应为 true 或 false (现为 'maybe')" in p for p in form.problems)
    assert any("'x' 的 expression 不支持" in p for p in form.problems)


def test_dates_in_a_date_pattern() -> None:
    assert task_forms.iso_date("31/01/2027", None) == "2027-01-31"
    assert task_forms.iso_date("01-31-2027", "MM-dd-yyyy") == "2027-01-31"
    assert task_forms.iso_date("2027-01-31", "dd.MM.yyyy") == "2027-01-31"  # ISO always
    assert task_forms.iso_date("31/02/2027", None) is None


def test_a_form_key_wins_over_a_field_list() -> None:
    xml = ACTIVITI.replace('name="Check"', 'name="Check" activiti:formKey="check.json"')
    node = _task(xml, "usertask1")
    assert manifest.form_key(node) == "check.json"


def test_unsupported_form_keys() -> None:
    for key in ("embedded:app:forms/a.html", "app:forms/a.html", "forms/a.form", "a.htm"):
        assert "此类表单" in missing_message("x", key), key
    assert missing_message("x", "forms/a.json") == "'x' 引用的表单 'forms/a.json' 不存在"


def test_ui_order_and_the_renderer() -> None:
    schema = {"type": "object", "properties": {"a": {}, "b": {}, "c": {}, "d": {}}}
    ui = {"ui:order": ["c", "*", "a"], "b": {"ui:title": "Bee", "ui:widget": "radio"}}
    out = with_ui_schema(schema, ui)
    assert out["x-order"] == ["c", "b", "d", "a"]
    assert out["properties"]["b"] == {"title": "Bee", "x-widget": "radio"}
    # JSONB gives the keys back in another order: x-order puts them back
    stored = {**out, "properties": dict(sorted(out["properties"].items(), reverse=True))}
    assert list(reorder_like(stored, None)["properties"]) == ["c", "b", "d", "a"]


def test_instructions_run_nothing() -> None:
    html = render_instructions(
        "[x](javascript:alert(1)) [y](https://example.org) {{ a.b }} {{a}} \ue0000\ue001 `{{ a }}`",
        {"a": "<i>v</i>"},
    )
    assert html is not None
    assert 'href="javascript' not in html
    assert 'href="https://example.org" target="_blank" rel="noopener noreferrer"' in html
    assert "{{ a.b }}" in html and "<i>" not in html
    assert html.count("&lt;i&gt;v&lt;/i&gt;") == 2
    assert render_instructions("  ", {}) is None


def test_spiffarena_schema_file_wins_over_a_form_key_naming_no_json_file() -> None:
    # as SpiffArena's sample models keep it: an older camunda:formKey beside the schema file
    xml = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
        xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d">
      <bpmn:process id="p" isExecutable="true">
        <bpmn:userTask id="form1" camunda:formKey="ConfirmEmail">
          <bpmn:extensionElements><spiffworkflow:properties>
            <spiffworkflow:property name="formJsonSchemaFilename" value="form1.json" />
          </spiffworkflow:properties></bpmn:extensionElements>
        </bpmn:userTask>
        <bpmn:userTask id="form2" camunda:formKey="shared/form2.json">
          <bpmn:extensionElements><spiffworkflow:properties>
            <spiffworkflow:property name="formJsonSchemaFilename" value="form2.json" />
          </spiffworkflow:properties></bpmn:extensionElements>
        </bpmn:userTask>
      </bpmn:process>
    </bpmn:definitions>"""
    root = etree.fromstring(xml.encode())
    tasks = {t.get("id"): t for t in root.iter("{*}userTask")}
    assert manifest.form_key(tasks["form1"]) == "form1.json"
    assert manifest.form_key(tasks["form2"]) == "shared/form2.json"  # a JSON file: as written
