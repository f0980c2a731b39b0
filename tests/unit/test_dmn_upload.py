"""DMN at upload: whatever a decision table would fail on, or could be abused for, is refused with
the element's id and line, every problem at once; nothing in a table ever runs as code."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn.parser import LianbanParser
from engine.bpmn.runtime import ProcessRuntime, StepFailed
from engine.bpmn.serializer import specs_from_json, specs_to_json
from engine.bpmn.xml import parse_xml
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import BundleSource, from_upload
from tests.fixtures import bpmn
from tests.unit.test_dmn import DMN13, ROUTE, business_rule_task, dmn, routed_process


def problems_of(files: dict[str, bytes | str]) -> list[Problem]:
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload("b.zip", bpmn.zipped(dict(files))), FormLibrary(None))
    return err.value.problems


def one(problems: list[Problem], element: str) -> Problem:
    found = [p for p in problems if p.element == element]
    assert found, f"no problem names {element}: {problems}"
    assert len(found) == 1, found
    return found[0]


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the first line of `text` containing `marker`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


def single(decision: str = "d") -> bytes:
    """start -> business rule task (decision `decision`) -> user task -> end."""
    return bpmn.document(f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" />
  {business_rule_task("decide", decision, "camunda")}
  <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")


def table(*rules: tuple[list[str | None], list[str]], inputs: list[str] | None = None) -> str:
    return dmn("d", inputs or ["kind", "area"], ["route"], list(rules))


def refused(dmn_text: str) -> list[Problem]:
    return problems_of({"p.bpmn": single(), "d.dmn": dmn_text})


def test_code_in_an_input_entry_is_refused_with_its_id_and_line(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = table(([f"__import__('os').system('touch {marker}')", "-"], ['"x"']))
    problem = one(refused(text), "d_r1_in1")
    assert "下划线" in problem.message and "__import__" in problem.message
    assert (problem.line, problem.file) == (line_of(text, 'id="d_r1_in1"'), "d.dmn")
    assert not marker.exists()


def test_attribute_access_in_an_output_entry_is_refused() -> None:
    text = table((['"a"', "-"], ["a.__class__"]))
    problem = one(refused(text), "d_r1_out1")
    assert "不允许访问属性" in problem.message
    assert problem.line == line_of(text, 'id="d_r1_out1"')


def test_an_input_expression_calling_open_is_refused() -> None:
    text = table((['"a"', "> 5"], ['"x"']), inputs=["kind", "len(open('/etc/passwd'))"])
    problem = one(refused(text), "d_in2_expr")
    assert "不允许调用函数 'open'" in problem.message
    assert problem.line == line_of(text, 'id="d_in2_expr"')


def test_a_dmn_with_a_doctype_or_entities_is_refused_before_it_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doctype = f'<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    text = table((['"a"', "-"], ['"&xxe;"'])).replace("?>", "?>" + doctype, 1)
    [problem] = refused(text)
    assert "DOCTYPE" in problem.message and (problem.file, problem.line) == ("d.dmn", 1)
    assert "TOP-SECRET" not in problem.message


def test_a_dmn_not_valid_against_its_schema_reports_every_violation() -> None:
    text = (
        table((['"a"', "-"], ['"x"']))
        .replace('<output id="d_out1"', '<bogus id="b1" /><output id="d_out1"')
        .replace('hitPolicy="UNIQUE"', 'hitPolicy="SOMETIMES"')
    )
    found = [p for p in refused(text) if "DMN 规范" in p.message]
    assert {p.element for p in found} == {"d_table", "b1"}
    bogus = one(found, "b1")
    assert bogus.line == line_of(text, 'id="b1"') and "dmn:bogus" in bogus.message


def test_a_missing_decision_is_named_on_the_task_with_its_line() -> None:
    document = single("nowhere")
    problem = one(problems_of({"p.bpmn": document, "d.dmn": ROUTE}), "decide")
    assert "'nowhere' 不存在" in problem.message and "route" in problem.message
    text = document.decode()
    assert (problem.line, problem.file) == (line_of(text, 'id="decide"'), "p.bpmn")
    alone = one(problems_of({"p.bpmn": single("route")}), "decide")
    assert "没有 .dmn 文件" in alone.message


def test_a_business_rule_task_must_name_one_decision() -> None:
    nothing = single().replace(b' camunda:decisionRef="d"', b"")
    assert "没有指定决策" in one(problems_of({"p.bpmn": nothing, "d.dmn": ROUTE}), "decide").message
    both = single("route").replace(
        b' />\n  <bpmn:sequenceFlow id="f2"',
        b"><bpmn:extensionElements><spiffworkflow:calledDecisionId>other"
        b"</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>"
        b'\n  <bpmn:sequenceFlow id="f2"',
    )
    assert "不一致" in one(problems_of({"p.bpmn": both, "d.dmn": ROUTE}), "decide").message


def test_every_problem_of_an_upload_is_reported_at_once() -> None:
    text = dmn(
        "d",
        ["kind", "open('x')"],
        ["route", "route"],
        [
            (["__import__('os')", "-"], ['"a"', '"b"']),
            (['"a"', "-"], ["x.__class__", '"b"']),
            (['"a"'], ['"a"', '"b"']),
        ],
        hit_policy="OUTPUT ORDER",  # without outputValues to order by
    )
    body = routed_process().replace(
        b'camunda:decisionRef="departments"', b'camunda:decisionRef="no"'
    )
    found = problems_of({"p.bpmn": body, "d.dmn": text, "route.dmn": ROUTE})
    elements = {p.element for p in found}
    assert {"d_table", "d_in2_expr", "d_out2", "d_r1_in1", "d_r2_out1", "d_r3"} <= elements
    assert {"decide_departments", "decide_risk"} <= elements
    assert all(p.line is not None for p in found)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('in ["a", "b"]', 'FEEL 写作 "a", "b"'),
        ('not in ["a"]', "? in [...]"),
        ("= 5", "FEEL 中相等不写 ="),
        ("[1..10", "区间缺少结束的括号"),
        ("[1..10] 3", "多个条件请用逗号分隔"),
        ('"a",, "b"', "逗号之间缺少条件"),
        ("not()", "not() 中没有任何条件"),
        ("> a.b", "不允许访问属性"),
        ('date and time("2024-01-01")', "不允许调用函数 'time'"),
        ("? > len(x.y)", "不允许访问属性"),
    ],
)
def test_feel_and_entries_that_would_fail_or_mislead_at_run_time_are_refused(
    entry: str, says: str
) -> None:
    problem = one(refused(table(([entry, "-"], ['"x"']))), "d_r1_in1")
    assert says in problem.message, problem.message


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('date("2024-01-01")', "日期"),
        ("{1, 2}", "集合"),
        ("1 / 0", "无法求值"),
        ("a.b", "不允许访问属性"),
    ],
)
def test_output_entries_the_engine_could_not_produce_or_store_are_refused(
    entry: str, says: str
) -> None:
    problem = one(refused(table((['"a"', "-"], [entry]))), "d_r1_out1")
    assert says in problem.message, problem.message


def test_what_the_engine_cannot_run_as_dmn_defines_it_is_refused() -> None:
    def with_table(text: str) -> list[Problem]:
        return refused(text)

    base = table((['"a"', "-"], ['"x"']))
    # every hit policy and aggregation of the schema runs; the schema refuses any other
    first_sum = base.replace('hitPolicy="UNIQUE"', 'hitPolicy="FIRST" aggregation="SUM"')
    assert "只能用于命中策略 COLLECT" in one(with_table(first_sum), "d_table").message
    priority = base.replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"')
    assert "outputValues" in one(with_table(priority), "d_table").message
    literal = base.replace(
        base[base.index("<decisionTable") : base.index("</decisionTable>") + 16],
        '<literalExpression id="lit"><text>"x"</text></literalExpression>',
    )
    assert "不是决策表" in one(with_table(literal), "d").message
    no_expression = base.replace("<text>area</text>", "<text></text>")
    assert "缺少输入表达式" in one(with_table(no_expression), "d_in2_expr").message
    wrapped = base.replace("<text>kind</text>", "<text>${kind.x}</text>")
    assert "不允许访问属性" in one(with_table(wrapped), "d_in1_expr").message
    dotted = base.replace('name="route"', 'name="result.route"')
    assert "数据字段名" in one(with_table(dotted), "d_out1").message
    default = base.replace(
        '<output id="d_out1" label="输出 1" name="route" />',
        '<output id="d_out1" name="route"><defaultOutputEntry id="dflt"><text>"x"</text>'
        "</defaultOutputEntry></output>",
    )
    assert "默认值" in one(with_table(default), "d_out1").message
    no_id = base.replace('<rule id="d_r1">', "<rule>")
    assert "rule 缺少 id" in one(with_table(no_id), "d_table").message
    required = base.replace(
        '<decisionTable id="d_table"',
        '<informationRequirement id="ir"><requiredDecision href="#other" /></informationRequirement>'
        '<decisionTable id="d_table"',
    )
    assert "不在本文件中" in one(with_table(required), "ir").message
    itself = required.replace('href="#other"', 'href="#d"')
    assert "构成循环: d → d" in one(with_table(itself), "d").message


def test_decision_ids_are_unique_and_a_dmn_file_must_be_dmn() -> None:
    found = problems_of({"p.bpmn": single(), "a.dmn": table(), "b.dmn": table()})
    assert "重复" in one(found, "d").message
    found = problems_of({"p.bpmn": single(), "d.dmn": "<definitions/>"})
    assert "不是 DMN 文档" in found[0].message
    bpmn_as_dmn = problems_of({"p.bpmn": single(), "d.dmn": bpmn.linear()})
    assert "不是 DMN 文档" in bpmn_as_dmn[0].message and bpmn_as_dmn[0].file == "d.dmn"


def test_a_directory_bundle_reads_its_dmn_files(tmp_path: Path) -> None:
    from engine.bundles.source import from_directory

    (tmp_path / "rules").mkdir()
    (tmp_path / "p.bpmn").write_bytes(single())
    (tmp_path / "rules" / "d.dmn").write_text(table((['"a"', "-"], ['"x"'])), encoding="utf-8")
    compiled = compile_bundle(from_directory(tmp_path), FormLibrary(None))
    assert "rules/d.dmn" in compiled.files and '"decisions"' in compiled.specs_json
    changed = BundleSource(
        "x", {**compiled.files, "rules/d.dmn": table((['"b"', "-"], ['"x"'])).encode()}
    )
    assert compile_bundle(changed, FormLibrary(None)).checksum != compiled.checksum


def test_code_in_a_stored_decision_table_cannot_run_at_run_time(tmp_path: Path) -> None:
    """As if a stored spec had bypassed the upload checks: the cell reaches the safe script
    engine, which refuses it; the step fails and the marker file is never created."""
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    for rule in (
        ([code, "-"], ['"x"']),  # input entry
        (['"a"', "-"], [code]),  # output entry
        (["? == " + code, "-"], ['"x"']),  # input entry with ?
    ):
        parser = LianbanParser()
        parser.add_dmn_xml(parse_xml(table(rule).encode()).getroot(), "d.dmn")
        parser.add_bpmn_xml(parse_xml(single()), "p.bpmn")
        specs = specs_from_json(
            specs_to_json(parser.get_spec("p"), parser.get_subprocess_specs("p"))
        )
        with pytest.raises(StepFailed) as err:
            ProcessRuntime(specs).start({"kind": "a", "area": 1})
        assert err.value.element == "decide"
        assert "下划线" in err.value.message
    assert not marker.exists()
    # the same tables are refused at upload
    assert one(refused(table(([code, "-"], ['"x"']))), "d_r1_in1")


def test_an_output_the_case_cannot_store_fails_the_step_plainly() -> None:
    text = table((['"a"', "-"], ["{kind}"]))  # a set: refused at run time, not only at upload
    parser = LianbanParser()
    parser.add_dmn_xml(parse_xml(text.encode()).getroot(), "d.dmn")
    parser.add_bpmn_xml(parse_xml(single()), "p.bpmn")
    runtime = ProcessRuntime((parser.get_spec("p"), parser.get_subprocess_specs("p")))
    with pytest.raises(StepFailed) as err:
        runtime.start({"kind": "a", "area": 1})
    assert "集合" in err.value.message and err.value.element == "decide"
    fine = runtime.start({"kind": "b", "area": 1})  # no rule matches: nothing to store
    assert [t.element for t in fine.ready_tasks()] == ["t"]


def test_the_dmn_namespace_list_is_spiffworkflows() -> None:
    from engine.bpmn.parser import DMN_SCHEMAS

    assert DMN13 in DMN_SCHEMAS and len(DMN_SCHEMAS) == 3
