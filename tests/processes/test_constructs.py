"""BPMN constructs beyond the restaurant bundle, run by the engine with a save and reload at
every step: multi-instance, embedded subprocess, call activity, boundary timer."""

from __future__ import annotations

from typing import Any

from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle
from engine.bundles.source import from_upload
from tests.fixtures import bpmn

MULTI_INSTANCE = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="逐项审查" camunda:candidateGroups="g">
    <bpmn:multiInstanceLoopCharacteristics>
      <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
      <bpmn:inputDataItem id="item" name="item" />
    </bpmn:multiInstanceLoopCharacteristics>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")

SUBPROCESS = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sp" />
  <bpmn:subProcess id="sp" name="联合勘验">
    <bpmn:startEvent id="ss" /><bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="inner" />
    <bpmn:userTask id="inner" name="勘验" camunda:candidateGroups="inspection" />
    <bpmn:sequenceFlow id="sf2" sourceRef="inner" targetRef="se" /><bpmn:endEvent id="se" />
  </bpmn:subProcess>
  <bpmn:sequenceFlow id="f2" sourceRef="sp" targetRef="e" /><bpmn:endEvent id="e" />""")

CALL_ACTIVITY = bpmn.document(
    """
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="ca" />
  <bpmn:callActivity id="ca" name="调用子流程" calledElement="child" />
  <bpmn:sequenceFlow id="f2" sourceRef="ca" targetRef="e" /><bpmn:endEvent id="e" />""",
    "parent",
).replace(
    b"</bpmn:definitions>",
    """<bpmn:process id="child" isExecutable="true">
  <bpmn:startEvent id="cs" /><bpmn:sequenceFlow id="cf1" sourceRef="cs" targetRef="ct" />
  <bpmn:userTask id="ct" name="子流程任务" camunda:candidateGroups="child_group" />
  <bpmn:sequenceFlow id="cf2" sourceRef="ct" targetRef="ce" /><bpmn:endEvent id="ce" />
</bpmn:process></bpmn:definitions>""".encode(),
)

BOUNDARY_TIMER = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:userTask id="t" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:boundaryEvent id="late" attachedToRef="t">
    <bpmn:timerEventDefinition><bpmn:timeDuration>"P10D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalated" /><bpmn:endEvent id="escalated" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" /><bpmn:endEvent id="e" />""")


def compiled(document: bytes) -> tuple[CompiledBundle, ProcessRuntime]:
    bundle = compile_bundle(from_upload("t.bpmn", document), FormLibrary(None))
    return bundle, ProcessRuntime(specs_from_json(bundle.specs_json))


def work_through(rt: ProcessRuntime, data: dict[str, Any]) -> list[str]:
    """Complete whatever is ready until nothing is; reload between steps; return the order."""
    workflow = rt.start(data)
    done = []
    while ready := rt.load(workflow.dump()).ready_tasks():
        workflow = rt.load(workflow.dump())
        workflow.complete(ready[0].id, {"step": len(done)})
        done.append(ready[0].element)
    assert workflow.is_finished()
    return done


def test_multi_instance_opens_one_task_per_item() -> None:
    _, rt = compiled(MULTI_INSTANCE)
    workflow = rt.start({"items": ["甲", "乙", "丙"]})
    assert [t.element for t in workflow.ready_tasks()] == ["t", "t", "t"]
    assert work_through(rt, {"items": ["甲", "乙", "丙"]}) == ["t", "t", "t"]


def test_embedded_subprocess_tasks_are_human_tasks_with_their_groups() -> None:
    bundle, rt = compiled(SUBPROCESS)
    assert bundle.human_tasks["inner"].groups == ("inspection",)
    assert work_through(rt, {}) == ["inner"]


def test_call_activity_runs_the_called_process_of_the_same_bundle() -> None:
    bundle, rt = compiled(CALL_ACTIVITY)
    assert bundle.process_id == "parent"
    assert bundle.human_tasks["ct"].groups == ("child_group",)
    assert work_through(rt, {}) == ["ct"]


def test_a_waiting_timer_keeps_the_case_open_until_the_task_is_done() -> None:
    _, rt = compiled(BOUNDARY_TIMER)
    workflow = rt.load(rt.start({}).dump())
    assert [t.element for t in workflow.ready_tasks()] == ["t"]
    assert not workflow.is_finished()
    assert len(workflow.spiff.waiting_events()) == 1
    workflow.complete(workflow.ready_tasks()[0].id, {})
    workflow = rt.load(workflow.dump())
    assert workflow.is_finished() and workflow.spiff.waiting_events() == []


def test_timers_run_on_the_injected_clock_not_the_wall_clock() -> None:
    from datetime import UTC, datetime, timedelta

    _, rt = compiled(BOUNDARY_TIMER)
    started = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # far from today: the wall clock plays no part
    workflow = rt.load(rt.start({}, at=started).dump())
    [timer] = workflow.pending_timers()
    assert timer.element == "late" and timer.due == started + timedelta(days=10)
    workflow.fire_timers(started + timedelta(days=9))
    assert [t.element for t in workflow.ready_tasks()] == ["t"]
    workflow = rt.load(workflow.dump())
    workflow.fire_timers(started + timedelta(days=10, seconds=1))
    assert workflow.ready_tasks() == [] and workflow.pending_timers() == []
    assert workflow.is_finished()
    ended = [
        t.task_spec.bpmn_id
        for t in workflow.spiff.tasks.values()
        if t.task_spec.bpmn_id == "escalated"
    ]
    assert ended == ["escalated"]
