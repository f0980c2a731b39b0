"""Rule `soundness`: each pattern on a small BPMN written the way bpmn.io writes it (incoming and
outgoing children, ids like Gateway_1), and the clean case not flagged."""

from __future__ import annotations

from pathlib import Path

from engine.bpmn.xml import parse_xml
from engine.bundles.problems import Problem
from engine.bundles.rules import soundness
from tests.fixtures import bpmn

RESTAURANT = Path(__file__).parents[2] / "processes" / "restaurant" / "restaurant.bpmn"


def _node(kind: str, node_id: str, flows: dict[str, tuple[str, str]], extra: str = "") -> str:
    incoming = "".join(
        f"<bpmn:incoming>{f}</bpmn:incoming>" for f, (_, t) in flows.items() if t == node_id
    )
    outgoing = "".join(
        f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f, (s, _) in flows.items() if s == node_id
    )
    return f'<bpmn:{kind} id="{node_id}">{incoming}{outgoing}{extra}</bpmn:{kind}>'


def model(
    nodes: dict[str, str], flows: dict[str, tuple[str, str]], extras: dict[str, str] | None = None
) -> list[Problem]:
    """The problems of a process with `nodes` (id -> kind) joined by `flows` (id -> (source, target))."""
    extras = extras or {}
    body = "\n".join(_node(kind, i, flows, extras.get(i, "")) for i, kind in nodes.items())
    body += "\n".join(
        f'<bpmn:sequenceFlow id="{f}" sourceRef="{s}" targetRef="{t}">'
        + (
            f"<bpmn:conditionExpression>{extras[f]}</bpmn:conditionExpression>"
            if f in extras
            else ""
        )
        + "</bpmn:sequenceFlow>"
        for f, (s, t) in flows.items()
    )
    root = parse_xml(bpmn.document(body)).getroot()
    return list(soundness.check(root, "p.bpmn"))


def found(problems: list[Problem]) -> set[tuple[str | None, str]]:
    return {(p.element, p.severity) for p in problems}


TASKS = {
    "StartEvent_1": "startEvent",
    "Activity_a": "userTask",
    "Activity_b": "userTask",
    "EndEvent_1": "endEvent",
}


def test_an_exclusive_split_joined_by_a_parallel_join_is_a_deadlock_error() -> None:
    nodes = {**TASKS, "Gateway_x": "exclusiveGateway", "Gateway_join": "parallelGateway"}
    flows = {
        "Flow_1": ("StartEvent_1", "Gateway_x"),
        "Flow_a": ("Gateway_x", "Activity_a"),
        "Flow_b": ("Gateway_x", "Activity_b"),
        "Flow_a2": ("Activity_a", "Gateway_join"),
        "Flow_b2": ("Activity_b", "Gateway_join"),
        "Flow_end": ("Gateway_join", "EndEvent_1"),
    }
    problems = model(nodes, flows, {"Flow_a": "x == 1", "Flow_b": "x != 1"})
    assert found(problems) == {("Gateway_join", "error")}
    assert "永远等待" in problems[0].message and problems[0].line is not None
    assert problems[0].file == "p.bpmn"


def test_a_parallel_split_merged_by_an_exclusive_join_is_a_warning() -> None:
    nodes = {**TASKS, "Gateway_split": "parallelGateway", "Gateway_merge": "exclusiveGateway"}
    flows = {
        "Flow_1": ("StartEvent_1", "Gateway_split"),
        "Flow_a": ("Gateway_split", "Activity_a"),
        "Flow_b": ("Gateway_split", "Activity_b"),
        "Flow_a2": ("Activity_a", "Gateway_merge"),
        "Flow_b2": ("Activity_b", "Gateway_merge"),
        "Flow_end": ("Gateway_merge", "EndEvent_1"),
    }
    problems = model(nodes, flows)
    assert found(problems) == {("Gateway_merge", "warning")}
    assert "执行多次" in problems[0].message


def test_matching_splits_and_joins_are_sound() -> None:
    for kind in ("parallelGateway", "exclusiveGateway", "inclusiveGateway"):
        nodes = {**TASKS, "Gateway_split": kind, "Gateway_join": kind}
        flows = {
            "Flow_1": ("StartEvent_1", "Gateway_split"),
            "Flow_a": ("Gateway_split", "Activity_a"),
            "Flow_b": ("Gateway_split", "Activity_b"),
            "Flow_a2": ("Activity_a", "Gateway_join"),
            "Flow_b2": ("Activity_b", "Gateway_join"),
            "Flow_end": ("Gateway_join", "EndEvent_1"),
        }
        conditions = {} if kind == "parallelGateway" else {"Flow_a": "x == 1", "Flow_b": "x != 1"}
        assert model(nodes, flows, conditions) == [], kind


def test_an_element_no_start_reaches_is_a_warning() -> None:
    nodes = {**TASKS}
    flows = {
        "Flow_1": ("StartEvent_1", "Activity_a"),
        "Flow_2": ("Activity_a", "EndEvent_1"),
        "Flow_3": ("Activity_b", "EndEvent_1"),
    }
    problems = model(nodes, flows)
    assert found(problems) == {("Activity_b", "warning")}
    assert "无法从开始事件到达" in problems[0].message


def test_a_loop_without_an_exit_is_an_error() -> None:
    nodes = {**TASKS, "Gateway_x": "exclusiveGateway", "Gateway_merge": "exclusiveGateway"}
    flows = {
        "Flow_1": ("StartEvent_1", "Gateway_x"),
        "Flow_done": ("Gateway_x", "EndEvent_1"),
        "Flow_loop": ("Gateway_x", "Gateway_merge"),
        "Flow_2": ("Gateway_merge", "Activity_a"),
        "Flow_3": ("Activity_a", "Activity_b"),
        "Flow_4": ("Activity_b", "Gateway_merge"),
    }
    problems = model(nodes, flows, {"Flow_loop": "x == 1", "Flow_done": "x != 1"})
    assert found(problems) == {("Gateway_merge", "error")}
    assert "到不了结束事件" in problems[0].message


def test_a_loop_with_an_exit_is_fine() -> None:
    root = parse_xml(bpmn.loop()).getroot()
    assert list(soundness.check(root, "loop.bpmn")) == []


def test_a_start_event_without_outgoing_flow_is_an_error() -> None:
    problems = model({"StartEvent_1": "startEvent", "Activity_a": "userTask"}, {})
    assert ("StartEvent_1", "error") in found(problems)
    assert any("没有出口连线" in p.message for p in problems)


def test_a_terminate_end_releases_a_waiting_join() -> None:
    """The restaurant's shape: one branch of a parallel split may end the case (terminate)
    while the other waits at the join; nothing is stuck."""
    nodes = {
        "StartEvent_1": "startEvent",
        "Gateway_split": "parallelGateway",
        "Activity_a": "userTask",
        "Activity_b": "userTask",
        "Gateway_x": "exclusiveGateway",
        "Gateway_join": "parallelGateway",
        "EndEvent_1": "endEvent",
        "EndEvent_denied": "endEvent",
    }
    flows = {
        "Flow_1": ("StartEvent_1", "Gateway_split"),
        "Flow_a": ("Gateway_split", "Activity_a"),
        "Flow_b": ("Gateway_split", "Activity_b"),
        "Flow_a2": ("Activity_a", "Gateway_x"),
        "Flow_grant": ("Gateway_x", "Gateway_join"),
        "Flow_deny": ("Gateway_x", "EndEvent_denied"),
        "Flow_b2": ("Activity_b", "Gateway_join"),
        "Flow_end": ("Gateway_join", "EndEvent_1"),
    }
    conditions = {"Flow_grant": "ok == True", "Flow_deny": "ok == False"}
    terminate = {**conditions, "EndEvent_denied": '<bpmn:terminateEventDefinition id="T_1" />'}
    assert model(nodes, flows, terminate) == []
    # without terminating, the denied branch leaves the join waiting for ever
    assert found(model(nodes, flows, conditions)) == {("Gateway_join", "error")}


def test_a_boundary_timer_leaving_a_task_is_a_path() -> None:
    nodes = {
        "StartEvent_1": "startEvent",
        "Activity_a": "userTask",
        "Event_timer": "boundaryEvent",
        "EndEvent_1": "endEvent",
        "EndEvent_2": "endEvent",
    }
    flows = {
        "Flow_1": ("StartEvent_1", "Activity_a"),
        "Flow_2": ("Activity_a", "EndEvent_1"),
        "Flow_3": ("Event_timer", "EndEvent_2"),
    }
    body_extra = {"Event_timer": ""}
    problems = model(nodes, flows, body_extra)
    # boundaryEvent needs attachedToRef: written as bpmn.io does
    text = bpmn.document(
        "".join(
            [
                '<bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>',
                '<bpmn:userTask id="Activity_a"><bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:userTask>',
                '<bpmn:boundaryEvent id="Event_timer" attachedToRef="Activity_a"><bpmn:outgoing>Flow_3</bpmn:outgoing>'
                '<bpmn:timerEventDefinition id="TD_1"><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
                '<bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>',
                '<bpmn:endEvent id="EndEvent_2"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>',
                '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_a" />',
                '<bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_a" targetRef="EndEvent_1" />',
                '<bpmn:sequenceFlow id="Flow_3" sourceRef="Event_timer" targetRef="EndEvent_2" />',
            ]
        )
    )
    assert list(soundness.check(parse_xml(text).getroot(), "p.bpmn")) == []
    assert ("EndEvent_2", "warning") in found(problems)  # unattached: nothing reaches it


def test_the_restaurant_bundle_is_sound() -> None:
    root = parse_xml(RESTAURANT.read_bytes()).getroot()
    assert list(soundness.check(root, "restaurant.bpmn")) == []
