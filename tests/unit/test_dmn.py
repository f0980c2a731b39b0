"""Business rule tasks with DMN decision tables, run for real: each table is compiled by the upload
checks, read by lianban's parser, stored as spec JSON and evaluated through the safe expression
language, with the case state saved and reloaded (around a freshly restored spec) at every step."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.script_engine import SafeEnvironment, SafeScriptEngine, ScriptsNotAllowed
from engine.bpmn.serializer import specs_from_json, specs_to_json
from engine.bpmn.task_table import completed_ids, decision_outputs
from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle
from engine.bundles.source import from_upload
from engine.expressions import ExpressionError
from tests.fixtures import bpmn

DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"

Rule = tuple[Sequence[str | None], Sequence[str]]


def dmn(
    decision: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    rules: Sequence[Rule],
    hit_policy: str = "UNIQUE",
    namespace: str = DMN13,
    doctype: str = "",
) -> str:
    """One decision table. Ids: `<decision>_in<j>` (input), `<decision>_in<j>_expr`
    (inputExpression), `<decision>_r<i>` (rule), `<decision>_r<i>_in<j>` (input entry),
    `<decision>_r<i>_out<j>` (output entry), 1-based. An input entry None is an empty cell."""
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>{doctype}']
    lines.append(
        f'<definitions xmlns="{namespace}" id="{decision}_defs" name="决策" namespace="http://lianban.test">'
    )
    lines.append(f'  <decision id="{decision}" name="决策 {decision}">')
    lines.append(f'    <decisionTable id="{decision}_table" hitPolicy="{hit_policy}">')
    for j, expression in enumerate(inputs, 1):
        lines.append(f'      <input id="{decision}_in{j}" label="输入 {j}">')
        lines.append(f'        <inputExpression id="{decision}_in{j}_expr" typeRef="string">')
        lines.append(f"          <text>{escape(expression)}</text>")
        lines.append("        </inputExpression>")
        lines.append("      </input>")
    for j, name in enumerate(outputs, 1):
        lines.append(f'      <output id="{decision}_out{j}" label="输出 {j}" name="{name}" />')
    for i, (entries, results) in enumerate(rules, 1):
        lines.append(f'      <rule id="{decision}_r{i}">')
        for j, entry in enumerate(entries, 1):
            text = "<text></text>" if entry is None else f"<text>{escape(entry)}</text>"
            lines.append(f'        <inputEntry id="{decision}_r{i}_in{j}">{text}</inputEntry>')
        for j, result in enumerate(results, 1):
            lines.append(
                f'        <outputEntry id="{decision}_r{i}_out{j}"><text>{escape(result)}</text></outputEntry>'
            )
        lines.append("      </rule>")
    lines.append("    </decisionTable>")
    lines.append("  </decision>")
    lines.append("</definitions>")
    return "\n".join(lines) + "\n"


# 审批路线: by the kind of business and the premises area (m²). UNIQUE: the rules do not overlap.
ROUTE = dmn(
    "route",
    ["kind", "area"],
    ["route", "fee"],
    [
        (['"food"', "> 100"], ['"inspection"', "300"]),
        (['"food"', "0 < ? <= 100"], ['"fast"', "100"]),
        (['? in ["retail", "office"]', "-"], ['"fast"', "0"]),
        (['"hazardous"', None], ['"refuse"', "0"]),
    ],
)

# 需要的部门: every department concerned (COLLECT).
DEPARTMENTS = dmn(
    "departments",
    ["kind", "area"],
    ["departments"],
    [
        (["-", "-"], ['"市场监管"']),
        (['"food"', "-"], ['"食品安全"']),
        (["-", ">= 200"], ['"消防"']),
    ],
    hit_policy="COLLECT",
)

# 风险等级: the first matching rule wins (FIRST); the rules overlap on purpose.
RISK = dmn(
    "risk",
    ["area", "kind"],
    ["risk"],
    [
        ([">= 500", "-"], ['"high"']),
        (["-", '"food"'], ['"medium"']),
        (["-", "-"], ['"low"']),
    ],
    hit_policy="FIRST",
)


def business_rule_task(element: str, decision: str, spelling: str) -> str:
    """A business rule task naming its decision the way Camunda Modeler or bpmn.io writes it."""
    if spelling == "camunda":
        return f'<bpmn:businessRuleTask id="{element}" name="决策 {decision}" camunda:decisionRef="{decision}" />'
    return (
        f'<bpmn:businessRuleTask id="{element}" name="决策 {decision}"><bpmn:extensionElements>'
        f"<spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )


def routed_process(spelling: str = "camunda") -> bytes:
    """申请 (user task) -> 定路线 (ROUTE) -> gateway on `route` -> 踏勘 / 快办 / 不予受理;
    踏勘 and 快办 -> 部门 (DEPARTMENTS) -> 风险 (RISK) -> 发证 (user task) -> end."""
    return bpmn.document(f"""
  <bpmn:startEvent id="start" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply" />
  <bpmn:userTask id="apply" name="申请" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="decide_route" />
  {business_rule_task("decide_route", "route", spelling)}
  <bpmn:sequenceFlow id="f3" sourceRef="decide_route" targetRef="route_gw" />
  <bpmn:exclusiveGateway id="route_gw" name="路线" default="to_fast" />
  <bpmn:sequenceFlow id="to_inspection" sourceRef="route_gw" targetRef="inspect">
    <bpmn:conditionExpression>route == "inspection"</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_refuse" sourceRef="route_gw" targetRef="refused">
    <bpmn:conditionExpression>route == "refuse"</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="to_fast" sourceRef="route_gw" targetRef="fast" />
  <bpmn:userTask id="inspect" name="现场踏勘" camunda:candidateGroups="inspection" />
  <bpmn:userTask id="fast" name="快速办理" camunda:candidateGroups="front_desk" />
  <bpmn:endEvent id="refused" name="不予受理" />
  <bpmn:sequenceFlow id="f4" sourceRef="inspect" targetRef="merge" />
  <bpmn:sequenceFlow id="f5" sourceRef="fast" targetRef="merge" />
  <bpmn:exclusiveGateway id="merge" />
  <bpmn:sequenceFlow id="f6" sourceRef="merge" targetRef="decide_departments" />
  {business_rule_task("decide_departments", "departments", spelling)}
  <bpmn:sequenceFlow id="f7" sourceRef="decide_departments" targetRef="decide_risk" />
  {business_rule_task("decide_risk", "risk", spelling)}
  <bpmn:sequenceFlow id="f8" sourceRef="decide_risk" targetRef="issue" />
  <bpmn:userTask id="issue" name="发证" camunda:candidateGroups="issuance" />
  <bpmn:sequenceFlow id="f9" sourceRef="issue" targetRef="done" />
  <bpmn:endEvent id="done" name="办结" />""")


def bundle(files: dict[str, bytes | str]) -> CompiledBundle:
    return compile_bundle(from_upload("b.zip", bpmn.zipped(dict(files))), FormLibrary(None))


def routed_bundle(spelling: str = "camunda") -> CompiledBundle:
    return bundle(
        {
            "p.bpmn": routed_process(spelling),
            "dmn/route.dmn": ROUTE,
            "dmn/departments.dmn": DEPARTMENTS,
            "dmn/risk.dmn": RISK,
        }
    )


class Run:
    """A case run the way the services run it: after every step the state is dumped, and the
    next step loads it around specs restored afresh from their stored JSON."""

    def __init__(self, compiled: CompiledBundle, data: dict[str, Any]) -> None:
        self.specs_json = compiled.specs_json
        workflow = self.runtime().start(data)
        self.outputs = [workflow.decisions()]
        self.state = workflow.dump()
        self.workflow = workflow

    def runtime(self) -> ProcessRuntime:
        specs = specs_from_json(self.specs_json)
        again = specs_to_json(*specs)  # the round trip keeps every decision table as it was
        assert json.loads(again) == json.loads(self.specs_json)
        self.specs_json = again
        return ProcessRuntime(specs)

    def open(self) -> list[str]:
        return [t.element for t in self.workflow.ready_tasks()]

    def complete(self, element: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        runtime = self.runtime()
        workflow = runtime.load(self.state)
        task = next(t for t in workflow.ready_tasks() if t.element == element)
        workflow.complete(task.id, data or {})
        self.outputs.append(workflow.decisions())
        self.state = workflow.dump()
        self.workflow = runtime.load(self.state)
        return self.outputs[-1]


@pytest.mark.parametrize("spelling", ["camunda", "spiffworkflow"])
@pytest.mark.parametrize(
    ("data", "route", "fee", "branch", "departments", "risk"),
    [
        (
            {"kind": "food", "area": 150},
            "inspection",
            300,
            "inspect",
            ["市场监管", "食品安全"],
            "medium",
        ),
        ({"kind": "food", "area": 100}, "fast", 100, "fast", ["市场监管", "食品安全"], "medium"),
        (
            {"kind": "food", "area": 600},
            "inspection",
            300,
            "inspect",
            ["市场监管", "食品安全", "消防"],
            "high",
        ),
        ({"kind": "retail", "area": 250}, "fast", 0, "fast", ["市场监管", "消防"], "low"),
        ({"kind": "office", "area": 5}, "fast", 0, "fast", ["市场监管"], "low"),
    ],
)
def test_decisions_route_the_case_through_a_real_run(
    spelling: str,
    data: dict[str, Any],
    route: str,
    fee: int,
    branch: str,
    departments: list[str],
    risk: str,
) -> None:
    run = Run(routed_bundle(spelling), {})
    assert run.outputs == [{}] and run.open() == ["apply"]
    assert run.complete("apply", data) == {"route": route, "fee": fee}
    assert run.open() == [branch]
    assert run.complete(branch) == {"departments": departments, "risk": risk}
    assert run.open() == ["issue"]
    assert run.complete("issue") == {}
    assert run.workflow.is_finished()
    final = run.workflow.spiff.last_task.data
    assert (final["route"], final["fee"], final["departments"], final["risk"]) == (
        route,
        fee,
        departments,
        risk,
    )


def test_a_decision_can_end_the_case() -> None:
    run = Run(routed_bundle(), {})
    assert run.complete("apply", {"kind": "hazardous", "area": 1}) == {"route": "refuse", "fee": 0}
    assert run.open() == [] and run.workflow.is_finished()


def test_no_matching_rule_outputs_null_as_camunda_does_and_the_gateway_takes_its_default() -> None:
    run = Run(routed_bundle(), {})
    # no rule: 0 is not > 0; every output is null, not an error
    assert run.complete("apply", {"kind": "food", "area": 0}) == {"route": None, "fee": None}
    assert run.open() == ["fast"]


def test_a_decision_in_the_first_step_runs_at_start_and_the_state_never_holds_the_spec() -> None:
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="d" />
  {business_rule_task("d", "risk", "camunda")}
  <bpmn:sequenceFlow id="f2" sourceRef="d" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    compiled = bundle({"p.bpmn": bpmn.document(body), "risk.dmn": RISK})
    assert '"decisions"' in compiled.specs_json and "medium" in compiled.specs_json
    run = Run(compiled, {"kind": "food", "area": 20})
    assert run.outputs == [{"risk": "medium"}]
    assert '"decisions"' not in run.state and '"medium\\"' not in run.state
    assert "task_specs" not in run.state


def test_collect_outputs_are_replaced_on_every_round_of_a_loop_not_accumulated() -> None:
    """SpiffWorkflow deep-merges a decision's result into the task data, so a COLLECT list would
    grow with each 补正 round; our task replaces it, as a form's field is replaced."""
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="m" />
  <bpmn:exclusiveGateway id="m" /><bpmn:sequenceFlow id="f2" sourceRef="m" targetRef="t" />
  <bpmn:userTask id="t" name="补正" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="d" />
  {business_rule_task("d", "departments", "camunda")}
  <bpmn:sequenceFlow id="f4" sourceRef="d" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="out" />
  <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="m">
    <bpmn:conditionExpression>again</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="e" /><bpmn:endEvent id="e" />"""
    run = Run(bundle({"p.bpmn": bpmn.document(body), "d.dmn": DEPARTMENTS}), {})
    first = run.complete("t", {"kind": "food", "area": 300, "again": True})
    assert first == {"departments": ["市场监管", "食品安全", "消防"]}
    second = run.complete("t", {"kind": "retail", "area": 10, "again": False})
    assert second == {"departments": ["市场监管"]}
    assert run.workflow.spiff.last_task.data["departments"] == ["市场监管"]


def test_decision_outputs_only_counts_tasks_completed_since_before() -> None:
    run = Run(routed_bundle(), {})
    runtime = run.runtime()
    workflow = runtime.load(run.state)
    before = completed_ids(workflow.spiff)
    task = next(t for t in workflow.ready_tasks() if t.element == "apply")
    workflow.complete(task.id, {"kind": "food", "area": 150})
    assert decision_outputs(workflow.spiff, completed_ids(workflow.spiff)) == {}
    assert decision_outputs(workflow.spiff, before) == {"route": "inspection", "fee": 300}
    assert workflow.decisions() == {"route": "inspection", "fee": 300}  # since the step
    # a loaded workflow: no step has run on it
    assert runtime.load(workflow.dump()).decisions() == {}


@pytest.mark.parametrize("namespace", [DMN11, DMN12, DMN13])
def test_every_dmn_version_spiffworkflow_knows_is_accepted(namespace: str) -> None:
    table = RISK.replace(DMN13, namespace)
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="d" />
  {business_rule_task("d", "risk", "spiffworkflow")}
  <bpmn:sequenceFlow id="f2" sourceRef="d" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    run = Run(bundle({"p.bpmn": bpmn.document(body), "risk.dmn": table}), {"area": 900})
    assert run.outputs == [{"risk": "high"}]


def test_a_prefixed_document_with_comments_and_annotations_is_read() -> None:
    """Modelers write descriptions and annotation columns; SpiffWorkflow's DMN parser trips
    over them and over comments, so its copy goes without; any namespace prefix works."""
    table = (
        RISK.replace("<definitions", '<dmn:definitions xmlns:dmn="' + DMN13 + '"')
        .replace(f'xmlns="{DMN13}" ', "")
        .replace("</definitions>", "</dmn:definitions>")
    )
    for local in ("decision", "decisionTable", "input", "inputExpression", "text", "output"):
        table = table.replace(f"<{local} ", f"<dmn:{local} ").replace(
            f"<{local}>", f"<dmn:{local}>"
        )
        table = table.replace(f"</{local}>", f"</dmn:{local}>")
    for local in ("rule", "inputEntry", "outputEntry"):
        table = table.replace(f"<{local} ", f"<dmn:{local} ").replace(
            f"</{local}>", f"</dmn:{local}>"
        )
    table = table.replace(
        '<dmn:decisionTable id="risk_table" hitPolicy="FIRST">',
        '<dmn:decisionTable id="risk_table" hitPolicy="FIRST">'
        "<dmn:description>按面积和类型定风险</dmn:description><!-- 面积优先 -->",
    ).replace(
        '<dmn:rule id="risk_r1">',
        '<dmn:rule id="risk_r1"><dmn:description>大面积</dmn:description><!-- note -->',
    )
    assert "<dmn:text>" in table and "<text>" not in table
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="d" />
  {business_rule_task("d", "risk", "camunda")}
  <bpmn:sequenceFlow id="f2" sourceRef="d" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />"""
    run = Run(bundle({"p.bpmn": bpmn.document(body), "risk.dmn": table}), {"area": 1, "kind": "x"})
    assert run.outputs == [{"risk": "low"}]


def test_validate_tells_text_that_does_not_parse_from_text_the_language_refuses() -> None:
    """DMNEngine.needs_eq catches SyntaxError (and only that) to choose between `input == entry`
    and `input + entry`."""
    engine = SafeScriptEngine()
    engine.validate('"accept"')
    engine.validate("v > 5")
    for text in ("> 5", "in [1, 2]", "[1..10]", "", "  ", "x ="):
        with pytest.raises(SyntaxError):
            engine.validate(text)
    for text in ("a.__class__", "open('x')", "__import__('os')", "v > a.b"):
        with pytest.raises(ExpressionError) as err:
            engine.validate(text)
        assert not isinstance(err.value, SyntaxError)
    try:  # as in needs_eq: the second validate runs while a SyntaxError is being handled
        raise SyntaxError("first")
    except SyntaxError:
        with pytest.raises(ExpressionError):
            engine.validate("v > a.b")
    with pytest.raises(ScriptsNotAllowed):
        SafeEnvironment().execute("import os", {})


def test_a_spec_stored_with_spiffworkflows_decision_table_still_runs_as_it_did() -> None:
    """Process versions published before lianban ran decisions itself hold SpiffWorkflow's
    `decision_table`: read as that one table, UNIQUE still takes the first match and no match
    still writes nothing."""
    body = f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="d" />
  {business_rule_task("d", "risk", "camunda")}
  <bpmn:sequenceFlow id="f3" sourceRef="d" targetRef="e" /><bpmn:endEvent id="e" />"""
    compiled = bundle({"p.bpmn": bpmn.document(body), "risk.dmn": RISK})
    stored = json.loads(compiled.specs_json)
    spec = stored["spec"]["task_specs"]["d"]
    decision = spec.pop("decisions")[spec.pop("decision")]
    spec["decision_table"] = {
        "id": "risk_table",
        "name": "",
        "hit_policy": "UNIQUE",  # overlapping rules: SpiffWorkflow took the first
        "inputs": [
            {"id": f"i{j}", "label": "", "name": "", "expression": text, "typeRef": ""}
            for j, text in enumerate(decision["inputs"])
        ],
        "outputs": [{"id": "o", "label": "", "name": "risk", "typeRef": ""}],
        "rules": [
            {
                "id": rule["id"],
                "row_number": n,
                "description": None,
                "input_entries": [
                    {
                        "id": f"{rule['id']}_{j}",
                        "input_id": f"i{j}",
                        "description": None,
                        "lhs": [None if text == "-" else text],
                    }
                    for j, text in enumerate(rule["inputs"])
                ],
                "output_entries": [
                    {
                        "id": f"{rule['id']}_o",
                        "output_id": "o",
                        "description": None,
                        "text": rule["outputs"][0],
                    }
                ],
            }
            for n, rule in enumerate(decision["rules"][:2], 1)  # no catch-all rule
        ],
    }
    runtime = ProcessRuntime(specs_from_json(json.dumps(stored)))
    for data, outputs in (
        ({"kind": "food", "area": 900}, {"risk": "high"}),  # both rules match: the first
        ({"kind": "retail", "area": 1}, {}),  # none matches: nothing written
    ):
        workflow = runtime.start({})
        task = next(t for t in workflow.ready_tasks() if t.element == "t")
        workflow.complete(task.id, data)
        assert workflow.decisions() == outputs
        assert workflow.spiff.is_completed()
