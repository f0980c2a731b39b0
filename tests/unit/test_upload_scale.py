"""Every upload check is linear: the work of compiling an upload grows with its size, never
with its square (issue 14: a 10,000-task chain ran 60 s in the flow-ends check).

The growth is measured, not timed: the Python calls made compiling n and 4n elements of each
shape of `tests/fixtures/large_bpmn.py` (deterministic; the quadratic checks this replaced made
8.5 to 13.7 times as many calls for 4 times the size, a linear one makes 4). What libxml2 does
in C is not seen by counting calls: those paths are pinned by what they are given, and one
ratio of times, taken generously. The process-size limit (500 elements) is lifted so that the
checks and SpiffWorkflow's parse run at every size. The absolute figure is `python -m
bench.upload` (docs/performance.md)."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable, Iterator

import pytest
from lxml import etree

from bench.large_bpmn import SHAPES, chain, lanes, schema_errors
from engine.bpmn import parser as bpmn_parser
from engine.bpmn import shallow_parse
from engine.bpmn.namespaces import NSMAP
from engine.bpmn.parser import LianbanParser
from engine.bpmn.xml import parse_xml
from engine.bundles import checks, limits
from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import from_upload
from tests.fixtures import bpmn

LIBRARY = FormLibrary(None)


@pytest.fixture
def unlimited(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No size limits: every check and the parse run whatever the size."""
    for limit in ("MAX_FLOW_NODES", "MAX_UPLOAD_FLOW_NODES", "MAX_EXPRESSIONS"):
        monkeypatch.setattr(limits, limit, 10**6)
    yield


def compile_or_problems(document: bytes) -> CompiledBundle | list[Problem]:
    try:
        return compile_bundle(from_upload("big.bpmn", document), LIBRARY)
    except BundleInvalid as err:
        return err.problems


def calls(document: bytes) -> int:
    profile = cProfile.Profile()
    profile.enable()
    compile_or_problems(document)
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_compiling_makes_calls_in_proportion_to_the_size(shape: str, unlimited: None) -> None:
    build = SHAPES[shape]
    compile_or_problems(build(5))  # warm: the schema, the parser's classes
    small, large = calls(build(150)), calls(build(600))
    assert large / small < 5, f"{shape}: {small} calls for 150, {large} for 600"


def test_the_chain_of_issue_14_is_refused_at_once_for_its_size() -> None:
    problems = compile_or_problems(chain(10_000))
    assert isinstance(problems, list)
    assert [(p.element, p.file) for p in problems] == [(None, None), ("p", "big.bpmn")]
    assert "共有 10002 个流程元素" in problems[0].message and "上限 5000" in problems[0].message
    assert "10002 个元素" in problems[1].message and "上限 500" in problems[1].message


def test_an_upload_with_more_expressions_than_can_be_checked_is_refused_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each expression is compiled, each DMN input entry several times: past MAX_EXPRESSIONS
    for the whole upload none is, and the upload is refused with the count alone."""
    from tests.unit.test_dmn_upload import single, table

    compiled_texts: list[str] = []
    original = checks.check_expression

    def counting(text: str, functions: object) -> object:
        compiled_texts.append(text)
        return original(text, functions)  # type: ignore[arg-type]

    monkeypatch.setattr(checks, "check_expression", counting)
    monkeypatch.setattr(limits, "MAX_EXPRESSIONS", 50)
    rules = [([f'"k{i}"', f"> {i}"], [f'"r{i}"']) for i in range(19)]
    rules.append((['"k"', "__import__('os')"], ['"r"']))  # 2 input expressions + 60 entries
    upload = bpmn.zipped({"p.bpmn": single(), "d.dmn": table(*rules)})
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload("b.zip", upload), LIBRARY)
    assert [p.message for p in err.value.problems] == [
        "上传内容共有 62 个表达式 (条件、定时器、多实例、决策表单元格), 超过上限 50; "
        "没有逐一检查: 请精简决策表或拆分事项包"
    ]
    assert compiled_texts == []
    monkeypatch.setattr(limits, "MAX_EXPRESSIONS", 62)  # at the limit: each one checked
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload("b.zip", upload), LIBRARY)
    assert ["__import__" in p.message for p in err.value.problems] == [True]


def test_a_long_chain_parses_without_deep_recursion(unlimited: None) -> None:
    """SpiffWorkflow's parser recurses along the flows: about 450 elements in a row ended in
    RecursionError. Parsed by ShallowProcessParser, 2,000 connect exactly as drawn."""
    compiled = compile_or_problems(chain(2_000))
    assert isinstance(compiled, CompiledBundle), compiled
    parser = LianbanParser()
    parser.add_bpmn_xml(parse_xml(chain(2_000)), "big.bpmn")
    spec = parser.get_spec("p")
    assert [o.name for o in spec.task_specs["t0"].outputs] == ["t1"]
    assert [i.name for i in spec.task_specs["t1999"].inputs] == ["t1998"]
    assert [o.name for o in spec.task_specs["t1999"].outputs] == ["end"]


def test_a_shallow_parse_connects_exactly_as_the_recursive_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below DEFER_DEPTH nothing is deferred; with it at 3 most elements are: the specs are
    the same, conditions, defaults and order of outputs included."""
    document = SHAPES["decisions"](40) + b""

    def specs() -> str:
        from engine.bpmn.serializer import specs_to_json

        parser = LianbanParser()
        parser.add_bpmn_xml(parse_xml(document), "big.bpmn")
        return specs_to_json(parser.get_spec("p"), {})

    whole = specs()
    monkeypatch.setattr(shallow_parse, "DEFER_DEPTH", 3)
    assert specs() == whole


def test_the_process_index_is_never_asked_of_libxml2(monkeypatch: pytest.MonkeyPatch) -> None:
    """`.//*[@id]` takes libxml2 time quadratic in the elements when ids sit at several depths
    (lanes of ten tasks: 3.7 s for 8,000): the parse walks the tree for it instead, with the
    same result."""
    asked: list[str] = []
    compiled = shallow_parse._compiled

    def recording(expression: str, namespaces: tuple[tuple[str, str], ...]) -> etree.XPath:
        asked.append(expression)
        return compiled(expression, namespaces)

    monkeypatch.setattr(shallow_parse, "_compiled", recording)
    tree = parse_xml(lanes(300))
    parser = LianbanParser()
    parser.add_bpmn_xml(tree, "big.bpmn")
    process = parser.get_process_parser("p")
    walked = process.xpath(".//*[@id]")
    assert walked == process.node.xpath(".//*[@id]", namespaces=NSMAP)
    parser.get_spec("p")
    assert asked and ".//*[@id]" not in asked


def test_many_schema_violations_are_counted_not_located(unlimited: None) -> None:
    """libxml2 locates each violation by counting the preceding siblings of its element and of
    every ancestor; past MAX_LOCATED_VIOLATIONS the document is only read, linearly, and the
    first violations are listed with their number."""
    problems = compile_or_problems(schema_errors(2_000))
    assert isinstance(problems, list)
    listed = [p for p in problems if "bpmn:bogus" in p.message]
    assert len(listed) == bpmn_parser.MAX_LISTED_VIOLATIONS
    assert all(p.line is None and "位置未定位" in p.message for p in listed)
    assert "共有 2000 处不符合规范" in problems[len(listed)].message
    few = compile_or_problems(schema_errors(20))  # few: each located, as before
    assert isinstance(few, list)
    located = [p for p in few if "bpmn:bogus" in p.message]
    assert len(located) == 20 and all(p.line and p.element for p in located)


def test_duplicate_ids_are_counted_too() -> None:
    body = "".join(f'<bpmn:task id="same" name="{i}" />' for i in range(4_000))
    document = (
        b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
        b'20100524/MODEL" id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true">'
        + body.encode()
        + b"</bpmn:process></bpmn:definitions>"
    )
    problems = compile_or_problems(document)
    assert isinstance(problems, list)
    assert problems[0].message == "不符合 BPMN 2.0 规范: id 'same' 重复" and problems[0].line == 1
    assert any("共有 3999 处不符合规范" in p.message for p in problems)


def best_time(work: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize("shape", ["lanes", "schema_errors"])
def test_what_libxml2_does_grows_linearly_too(shape: str, unlimited: None) -> None:
    """The two shapes libxml2 took quadratic time on (18 and 21 times as long for 4 times the
    size before); a linear compile takes about 4 times as long. Generous: a busy machine."""
    build = SHAPES[shape]
    small, large = build(800), build(3_200)
    ratio = best_time(lambda: compile_or_problems(large)) / best_time(
        lambda: compile_or_problems(small)
    )
    assert ratio < 10, f"{shape}: {ratio:.1f} times as long for 4 times the size"
