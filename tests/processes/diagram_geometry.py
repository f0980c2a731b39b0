"""The layout checks the catalogue bundles' `*_files` tests share: every element and flow drawn,
each node inside its lane, flows orthogonal, starting and ending on their shapes' borders and
never crossing one another (a crossing makes a diagram hard to read at a glance)."""

from __future__ import annotations

import itertools
from typing import Any

from engine.bpmn.namespaces import NSMAP

NS = NSMAP  # bpmn, bpmndi, dc, di, camunda...
Box = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]


def shapes(tree: Any) -> dict[str, Box]:
    """Element id -> its shape's bounds."""
    found = {}
    for shape in tree.iterfind(".//bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        found[shape.get("bpmnElement")] = (
            float(b.get("x")),
            float(b.get("y")),
            float(b.get("width")),
            float(b.get("height")),
        )
    return found


def edges(tree: Any) -> dict[str, list[Point]]:
    """Flow id -> its edge's waypoints."""
    return {
        e.get("bpmnElement"): [
            (float(w.get("x")), float(w.get("y"))) for w in e.iterfind("di:waypoint", NS)
        ]
        for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)
    }


def process(tree: Any) -> Any:
    return tree.find("bpmn:process", NS)


def on_border(point: Point, box: Box) -> bool:
    x, y = point
    bx, by, w, h = box
    inside = bx - 0.5 <= x <= bx + w + 0.5 and by - 0.5 <= y <= by + h + 0.5
    return inside and (x in (bx, bx + w) or y in (by, by + h))


def assert_drawn_inside_lanes(tree: Any) -> None:
    """Every node and flow of the main process has its shape or edge; each lane's nodes lie
    inside it."""
    drawn, main = shapes(tree), process(tree)
    nodes = [n for n in main if n.get("id") and n.tag.rsplit("}", 1)[1] != "sequenceFlow"]
    nodes = [n for n in nodes if n.tag.rsplit("}", 1)[1] not in ("laneSet", "documentation")]
    assert {n.get("id") for n in nodes} <= set(drawn)
    flows = {f.get("id") for f in main.iterfind("bpmn:sequenceFlow", NS)}
    assert set(edges(tree)) == flows
    for lane in main.iterfind(".//bpmn:lane", NS):
        lx, ly, lw, lh = drawn[lane.get("id")]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x, y, w, h = drawn[ref.text]
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, ref.text


def assert_flows_orthogonal_and_uncrossed(tree: Any) -> None:
    """Each flow starts on its source's border and ends on its target's, in horizontal and
    vertical segments only, and no segment of one flow crosses another flow's (parallel
    segments may share a trunk into a join or out of a split)."""
    drawn, lines = shapes(tree), edges(tree)
    segments: list[tuple[str, Point, Point]] = []
    for flow in process(tree).iterfind("bpmn:sequenceFlow", NS):
        points = lines[flow.get("id")]
        assert on_border(points[0], drawn[flow.get("sourceRef")]), flow.get("id")
        assert on_border(points[-1], drawn[flow.get("targetRef")]), flow.get("id")
        for a, b in itertools.pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], f"{flow.get('id')} has a slanted segment"
            segments.append((flow.get("id"), a, b))
    for (f1, a1, b1), (f2, a2, b2) in itertools.combinations(segments, 2):
        if f1 == f2:
            continue
        horizontal = [(s, e) for s, e in ((a1, b1), (a2, b2)) if s[1] == e[1] and s[0] != e[0]]
        vertical = [(s, e) for s, e in ((a1, b1), (a2, b2)) if s[0] == e[0] and s[1] != e[1]]
        if len(horizontal) != 1 or len(vertical) != 1:
            continue
        (h1, h2), (v1, v2) = horizontal[0], vertical[0]
        crosses = min(h1[0], h2[0]) < v1[0] < max(h1[0], h2[0]) and min(v1[1], v2[1]) < h1[1] < max(
            v1[1], v2[1]
        )
        assert not crosses, f"{f1} crosses {f2} at ({v1[0]}, {h1[1]})"
