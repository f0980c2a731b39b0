"""Bounded work per step (engine/bpmn/bounds.py, engine/bundles/limits.py): multi-instance sizes,
loop iterations, engine tasks per step and timer intervals, refused at upload where the BPMN says
them and at run time always, with the case left as it was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine.bpmn.bounds import replaying
from engine.bpmn.runtime import ProcessRuntime, StepFailed, WorkLimitExceeded
from engine.bpmn.serializer import specs_from_json
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.limits import MAX_FLOW_NODES
from engine.bundles.problems import BundleInvalid, Problem
from engine.bundles.source import from_upload
from engine.config import engine_limits
from tests.fixtures import bpmn

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set LIANBAN_* limits for one test (they are read once per process: the cache is reset)."""
    engine_limits.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    engine_limits.cache_clear()


def set_limits(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"LIANBAN_{name.upper()}", value)
    engine_limits.cache_clear()


def compiled(document: bytes) -> ProcessRuntime:
    bundle = compile_bundle(from_upload("t.bpmn", document), FormLibrary(None))
    return ProcessRuntime(specs_from_json(bundle.specs_json))


def line_of(document: bytes, text: str) -> int:
    """The line (from 1) where `text` first appears in the document."""
    return document.decode()[: document.decode().index(text)].count("\n") + 1


def problems_of(document: bytes) -> list[Problem]:
    with pytest.raises(BundleInvalid) as err:
        compile_bundle(from_upload("t.bpmn", document), FormLibrary(None))
    return err.value.problems


def multi_instance(characteristics: str, element: str = "userTask") -> bytes:
    """start → 登记 (sets the data) → a multi-instance activity → end."""
    return bpmn.document(f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="first" />
  <bpmn:userTask id="first" name="登记" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="mi" />
  <bpmn:{element} id="mi" name="逐项审查" camunda:candidateGroups="g">
    {characteristics}
  </bpmn:{element}>
  <bpmn:sequenceFlow id="f3" sourceRef="mi" targetRef="e" /><bpmn:endEvent id="e" />""")


def cardinality(text: str, sequential: bool = False, condition: str = "") -> bytes:
    flag = ' isSequential="true"' if sequential else ""
    extra = f"<bpmn:completionCondition>{condition}</bpmn:completionCondition>" if condition else ""
    return multi_instance(
        f"<bpmn:multiInstanceLoopCharacteristics{flag}>"
        f"<bpmn:loopCardinality>{text}</bpmn:loopCardinality>{extra}"
        "</bpmn:multiInstanceLoopCharacteristics>"
    )


COLLECTION = multi_instance(
    "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>"
    '<bpmn:inputDataItem id="item" name="item" /></bpmn:multiInstanceLoopCharacteristics>'
)


def after_first(rt: ProcessRuntime, data: dict[str, object]) -> tuple[str, str]:
    """Start a case and return its stored state and the id of its first task."""
    workflow = rt.start({}, at=AT)
    return workflow.dump(), workflow.ready_tasks()[0].id


# -- at upload ----------------------------------------------------------------------------------


def test_a_constant_cardinality_above_the_limit_is_refused_at_upload_with_element_and_line() -> (
    None
):
    for text, shown in (("10**64", "10**64"), ("201", "201")):
        document = cardinality(text)
        found = [p for p in problems_of(document) if "多实例数量" in p.message]
        assert len(found) == 1, (text, found)
        assert (found[0].element, found[0].file) == ("mi", "t.bpmn")
        assert found[0].line == line_of(document, "<bpmn:loopCardinality>")
        assert "超过上限 200" in found[0].message
        assert (shown if shown == "201" else "100000… (65 位数)") in found[0].message
    compiled(cardinality("200"))  # at the limit: accepted
    compiled(cardinality("n"))  # from case data: bounded when the step runs


def test_a_constant_cardinality_must_be_a_whole_number() -> None:
    for text in ('"many"', "-1", "2.5"):
        found = [p for p in problems_of(cardinality(text)) if "多实例数量" in p.message]
        assert found and "整数" in found[0].message and found[0].element == "mi", text


def test_a_loop_maximum_above_the_limit_is_refused_at_upload() -> None:
    loop = multi_instance(
        '<bpmn:standardLoopCharacteristics loopMaximum="100000">'
        "<bpmn:loopCondition>True</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
    )
    found = problems_of(loop)
    assert [p.element for p in found] == ["mi"]
    assert "loopMaximum 100000 超过上限 200" in found[0].message
    superscript = multi_instance(
        '<bpmn:standardLoopCharacteristics loopMaximum="²">'
        "<bpmn:loopCondition>True</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
    )  # str.isdigit() takes it, int() does not: a problem, never an exception
    assert any("loopMaximum 应为整数" in p.message for p in problems_of(superscript))


def test_the_upload_limit_follows_the_configured_one(limits: pytest.MonkeyPatch) -> None:
    set_limits(limits, max_instances="500")
    compiled(cardinality("300"))
    set_limits(limits, max_instances="20")
    assert "超过上限 20" in problems_of(cardinality("21"))[0].message


def test_a_process_larger_than_the_engine_can_run_is_refused() -> None:
    def chain(n: int) -> bytes:
        tasks = "".join(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{"s" if i == 0 else f"t{i - 1}"}" '
            f'targetRef="t{i}" /><bpmn:userTask id="t{i}" camunda:candidateGroups="g" />'
            for i in range(n)
        )
        return bpmn.document(
            f'<bpmn:startEvent id="s" />{tasks}'
            f'<bpmn:sequenceFlow id="last" sourceRef="t{n - 1}" targetRef="e" />'
            '<bpmn:endEvent id="e" />'
        )

    compiled(chain(MAX_FLOW_NODES - 2))  # with its start and end: exactly the limit
    document = chain(MAX_FLOW_NODES - 1)
    found = problems_of(document)
    assert [p.element for p in found] == ["p"]
    assert f"{MAX_FLOW_NODES + 1} 个元素" in found[0].message
    assert found[0].line == line_of(document, "<bpmn:process")


# -- at run time --------------------------------------------------------------------------------


def test_a_cardinality_from_case_data_above_the_limit_refuses_the_step_and_changes_nothing(
    limits: pytest.MonkeyPatch,
) -> None:
    set_limits(limits, max_instances="5")
    rt = compiled(cardinality("n"))
    saved, first = after_first(rt, {})
    for n, shown in ((6, "6"), (10**64, "100000… (65 位数)")):
        workflow = rt.load(saved)
        started = time.monotonic()
        with pytest.raises(WorkLimitExceeded) as err:
            workflow.complete(first, {"n": n}, at=AT)
        assert time.monotonic() - started < 5  # refused before any instance is made
        assert err.value.message == f"多实例数量 {shown} 超过上限 5"
        assert err.value.element == "mi"
    workflow = rt.load(saved)  # the service keeps the stored state: the step can be done again
    assert [t.id for t in workflow.ready_tasks()] == [first]
    workflow.complete(first, {"n": 5}, at=AT)
    assert [t.element for t in workflow.ready_tasks()] == ["mi"] * 5


@pytest.mark.parametrize(
    "items", [list(range(6)), {str(i): i for i in range(6)}, "甲乙丙丁戊己"], ids=str
)
def test_a_collection_above_the_limit_refuses_the_step(
    limits: pytest.MonkeyPatch, items: object
) -> None:
    set_limits(limits, max_instances="5")
    rt = compiled(COLLECTION)
    saved, first = after_first(rt, {})
    with pytest.raises(WorkLimitExceeded, match="多实例数量 6 超过上限 5"):
        rt.load(saved).complete(first, {"items": items}, at=AT)
    workflow = rt.load(saved)
    workflow.complete(first, {"items": list(range(5))}, at=AT)
    assert len(workflow.ready_tasks()) == 5


def test_a_sequential_multi_instance_is_bounded_before_its_first_instance(
    limits: pytest.MonkeyPatch,
) -> None:
    set_limits(limits, max_instances="5")
    rt = compiled(cardinality("n", sequential=True))
    saved, first = after_first(rt, {})
    with pytest.raises(WorkLimitExceeded, match="多实例数量 10000000000 超过上限 5"):
        rt.load(saved).complete(first, {"n": 10**10}, at=AT)
    workflow = rt.load(saved)
    workflow.complete(first, {"n": 5}, at=AT)
    assert [t.element for t in workflow.ready_tasks()] == ["mi"]  # one at a time


def test_a_completion_condition_does_not_lift_the_bound(limits: pytest.MonkeyPatch) -> None:
    """The count is checked before any instance exists, whatever the condition would end."""
    set_limits(limits, max_instances="5")
    rt = compiled(cardinality("n", sequential=True, condition="True"))
    saved, first = after_first(rt, {})
    with pytest.raises(WorkLimitExceeded, match="超过上限 5"):
        rt.load(saved).complete(first, {"n": 6}, at=AT)


def test_a_loop_activity_stops_at_the_limit(limits: pytest.MonkeyPatch) -> None:
    set_limits(limits, max_instances="3")
    rt = compiled(
        multi_instance(
            "<bpmn:standardLoopCharacteristics>"
            "<bpmn:loopCondition>True</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
        )
    )
    workflow = rt.start({}, at=AT)
    workflow.complete(workflow.ready_tasks()[0].id, {}, at=AT)
    for _ in range(2):  # iterations 1 and 2 end, 2 and 3 begin
        workflow.complete(workflow.ready_tasks()[0].id, {}, at=AT)
    saved = workflow.dump()
    with pytest.raises(WorkLimitExceeded, match="循环次数超过上限 3") as err:
        workflow.complete(workflow.ready_tasks()[0].id, {}, at=AT)
    assert err.value.element == "mi"
    assert [t.element for t in rt.load(saved).ready_tasks()] == ["mi"]


def test_a_stored_spec_past_the_upload_checks_is_still_bounded(limits: pytest.MonkeyPatch) -> None:
    """A cardinality constant that never went through the upload checks (a version deployed
    under a higher limit, or altered in the database) is refused when the step runs."""
    rt = compiled(cardinality("50"))
    set_limits(limits, max_instances="10")
    saved, first = after_first(rt, {})
    with pytest.raises(WorkLimitExceeded, match="多实例数量 50 超过上限 10"):
        rt.load(saved).complete(first, {}, at=AT)


def test_re_execution_allows_what_was_recorded_under_a_higher_limit(
    limits: pytest.MonkeyPatch,
) -> None:
    rt = compiled(cardinality("n"))
    saved, first = after_first(rt, {})
    set_limits(limits, max_instances="10")
    with replaying():  # the audit's re-execution: limits no lower than their floor
        workflow = rt.load(saved)
        workflow.complete(first, {"n": 150}, at=AT)
    assert len(workflow.ready_tasks()) == 150
    with replaying(), pytest.raises(WorkLimitExceeded, match="超过上限 10000"):
        rt.load(saved).complete(first, {"n": 10**6}, at=AT)


GATEWAY_CYCLE = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="登记" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="a" />
  <bpmn:exclusiveGateway id="a" /><bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b" />
  <bpmn:exclusiveGateway id="b" default="back" />
  <bpmn:sequenceFlow id="back" sourceRef="b" targetRef="a" />
  <bpmn:sequenceFlow id="out" sourceRef="b" targetRef="e">
    <bpmn:conditionExpression>done == True</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:endEvent id="e" />""")


def test_a_cycle_without_a_wait_is_refused_after_the_engine_task_limit(
    limits: pytest.MonkeyPatch,
) -> None:
    rt = compiled(GATEWAY_CYCLE)
    saved, first = after_first(rt, {})
    with pytest.raises(WorkLimitExceeded) as err:  # the default limit, before SpiffWorkflow's
        rt.load(saved).complete(first, {"done": False}, at=AT)  # depth limit of 1000
    assert "一步中自动执行的任务超过上限 500 个" in err.value.message
    assert err.value.element in ("a", "b")
    set_limits(limits, max_engine_tasks="20")
    with pytest.raises(WorkLimitExceeded, match="超过上限 20 个"):
        rt.load(saved).complete(first, {"done": False}, at=AT)
    workflow = rt.load(saved)
    workflow.complete(first, {"done": True}, at=AT)  # leaves the cycle at once: fine


def test_the_limits_must_be_positive_numbers(limits: pytest.MonkeyPatch) -> None:
    set_limits(limits, max_instances="lots")
    with pytest.raises(ValueError, match="LIANBAN_MAX_INSTANCES"):
        engine_limits()
    set_limits(limits, max_instances="7", timer_budget="5/10")
    configured = engine_limits()
    assert (configured.max_instances, configured.timer_budget) == (7, 5)
    assert configured.timer_window_seconds == 10


# -- timers -------------------------------------------------------------------------------------


def timer(duration: str, kind: str = "timeDuration") -> bytes:
    return bpmn.document(f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="g" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="w" />
  <bpmn:intermediateCatchEvent id="w">
    <bpmn:timerEventDefinition><bpmn:{kind}>{duration}</bpmn:{kind}></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="w" targetRef="e" /><bpmn:endEvent id="e" />""")


def test_a_constant_timer_shorter_than_the_minimum_is_refused_at_upload() -> None:
    for text, kind in (
        ('"PT0S"', "timeDuration"),
        ('"PT0.5S"', "timeDuration"),
        ('"R/PT0S"', "timeCycle"),
    ):
        document = timer(text, kind)
        found = problems_of(document)
        assert [p.element for p in found] == ["w"], text
        assert "短于下限 1 秒" in found[0].message
        assert found[0].line == line_of(document, f"<bpmn:{kind}>")
    compiled(timer('"PT1S"'))
    compiled(timer('"R3/PT1H"', "timeCycle"))
    compiled(timer("wait"))  # from case data: held to the minimum when it starts


def test_a_timer_is_never_due_sooner_than_the_minimum_after_its_step(
    limits: pytest.MonkeyPatch,
) -> None:
    rt = compiled(timer("wait"))
    workflow = rt.start({"wait": "PT0S"}, at=AT)
    workflow.complete(workflow.ready_tasks()[0].id, {}, at=AT)
    assert [t.due for t in workflow.pending_timers()] == [AT + timedelta(seconds=1)]
    set_limits(limits, min_timer_seconds="90")
    assert [t.due for t in workflow.pending_timers()] == [AT + timedelta(seconds=90)]
    reloaded = rt.load(workflow.dump())  # no step ran on it: the engine's own due time
    assert [t.due for t in reloaded.pending_timers()] == [AT]
    reloaded.fire_timers(AT + timedelta(seconds=90))
    assert reloaded.pending_timers() == []


def test_a_step_the_bounds_refuse_is_a_step_failure() -> None:
    assert issubclass(WorkLimitExceeded, StepFailed)
