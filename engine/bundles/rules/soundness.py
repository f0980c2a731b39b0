"""Rule `soundness`: control flow that certainly dead-ends, or does what nobody drew.

Graph analysis of our own rather than pm4py's BPMN → Petri net check: pm4py brings numpy,
pandas and graphviz into the server for one check, and its BPMN import knows neither terminate
end events nor boundary events as our engine runs them. Here every process and subprocess is
read as a token game (sequence flows hold tokens, every gateway choice is open) and its states
are explored, within a budget (`MAX_GAME_NODES`, `MAX_MOVES`: the upload checks stay linear
in the size of the upload, tests/unit/test_upload_scale.py; the token game is exponential in
the worst case, so larger scopes get only the path checks):

- errors (a case certainly gets stuck): a start event with no outgoing flow; an element from
  which no end can be reached; a parallel join waiting for a branch that will not come (an
  exclusive split joined by a parallel join);
- warnings (the process still finishes): an element no start reaches (it never runs); a flow
  that may carry two tokens at once (a parallel split merged by an exclusive join: what follows
  runs once per branch).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from itertools import combinations

from lxml import etree

from ..problems import Problem, Severity
from .graph import Graph, Node, scopes

NAME = "soundness"
MAX_GAME_NODES = 120  # larger scopes are not given to the token game
MAX_MOVES = 20_000  # moves tried per scope; beyond, the token game stops where it is
MAX_CHOICES = 4  # an inclusive split with more outgoing flows is tried per flow and all at once

Marking = tuple[tuple[str, int], ...]


def check(root: etree._Element, file: str) -> Iterator[Problem]:
    for graph in scopes(root):
        yield from _scope(graph, file)


def _problem(message: str, node: Node, file: str, severity: Severity = "error") -> Problem:
    return Problem(message, node.id, node.element.sourceline, file, severity)


def _scope(graph: Graph, file: str) -> Iterator[Problem]:
    for node in graph.nodes.values():
        if node.kind == "startEvent" and not graph.outgoing[node.id]:
            yield _problem(f"{node.label} 没有出口连线: 办件开始后不会进入任何环节", node, file)
    sources = graph.sources()
    reached = _closure(graph, [n.id for n in sources], forward=True)
    for node in graph.nodes.values():
        if node.id not in reached and not node.detached and node.kind != "boundaryEvent":
            yield _problem(
                f"{node.label} 无法从开始事件到达, 永远不会执行: 请连上它或删除它",
                node,
                file,
                "warning",
            )
    ends = [n for n in graph.nodes if not graph.outgoing[n] and n in reached]
    finishing = _closure(graph, ends, forward=False)
    stuck = [n for n in graph.nodes if n in reached and n not in finishing]
    entries = [n for n in stuck if any(p in finishing for p in graph.predecessors(n))]
    for node_id in entries or stuck[:1]:
        node = graph.nodes[node_id]
        yield _problem(
            f"从{node.label} 出发的路径都到不了结束事件 (没有出口的循环): 办件走到这里将永远无法办结",
            node,
            file,
        )
    small = len(graph.nodes) <= MAX_GAME_NODES
    if small and not stuck and all(n.kind != "complexGateway" for n in graph.nodes.values()):
        yield from _token_game(graph, sources, file)


def _closure(graph: Graph, start: list[str], forward: bool) -> set[str]:
    seen = set(start)
    pending = list(start)
    while pending:
        node = pending.pop()
        step = graph.successors(node) if forward else graph.predecessors(node)
        for other in step:
            if other not in seen:
                seen.add(other)
                pending.append(other)
    return seen


def _token_game(graph: Graph, sources: list[Node], file: str) -> Iterator[Problem]:
    game = _Game(graph)
    initial: list[Counter[str]] = []
    starts = [n for n in sources if n.kind == "startEvent"]
    if starts:
        initial = [Counter(f.id for f in graph.outgoing[s.id]) for s in starts]
    else:
        initial = [Counter(f.id for s in sources for f in graph.outgoing[s.id])]
    seen: set[Marking] = set()
    pending = deque(_freeze(m) for m in initial)
    waiting: dict[str, set[str]] = {}  # a join that may wait for ever -> flows it waits for
    doubled: set[str] = set()  # nodes that may put a second token on a flow
    budget = MAX_MOVES
    while pending and budget > 0:
        marking = pending.popleft()
        if marking in seen:
            continue
        seen.add(marking)
        tokens = Counter(dict(marking))
        moved = False
        for fired, after in game.moves(tokens):
            moved = True
            budget -= 1
            extra = [f for f, n in after.items() if n > 1]
            if extra:
                doubled.add(fired)
                continue  # unbounded beyond this point: not explored further
            frozen = _freeze(after)
            if frozen not in seen:
                pending.append(frozen)
        if not moved and tokens:
            for flow_id in tokens:
                join = graph.flows[flow_id].target
                missing = {f.id for f in graph.incoming[join] if not tokens[f.id]}
                waiting.setdefault(join, set()).update(missing)
    for join, missing in waiting.items():
        node = graph.nodes[join]
        flows = "、".join(sorted(missing))
        yield _problem(
            f"{node.label} 可能永远等待: 进入它的连线 {flows} 在某些路径上不会有办件到达 "
            "(例如来自排他网关的分支只会走一条), 办件将卡在这里; 排他分支请用排他网关汇合",
            node,
            file,
        )
    for node_id in sorted(doubled):
        node = graph.nodes[node_id]
        yield _problem(
            f"{node.label} 之后的步骤可能执行多次: 并行网关分出的分支在这里被非并行的方式汇合, "
            "每条分支都会单独走下去; 并行分支请用并行网关汇合",
            node,
            file,
            "warning",
        )


def _freeze(tokens: Counter[str]) -> Marking:
    return tuple(sorted((f, n) for f, n in tokens.items() if n > 0))


class _Game:
    """Which elements may fire in a marking, and the markings they lead to."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._reach: dict[tuple[str, str], set[str]] = {}

    def moves(self, tokens: Counter[str]) -> Iterator[tuple[str, Counter[str]]]:
        graph = self.graph
        ready = {graph.flows[f].target for f in tokens}
        for node_id in sorted(ready):
            node = graph.nodes[node_id]
            inputs = [f.id for f in graph.incoming[node_id] if tokens[f.id]]
            outputs = [f.id for f in graph.outgoing[node_id]]
            if node.kind == "parallelGateway":
                if len(inputs) == len(graph.incoming[node_id]):
                    yield node_id, _step(tokens, inputs, outputs)
            elif node.kind == "inclusiveGateway":
                if self._or_join_ready(tokens, node_id):
                    for chosen in _subsets(outputs):
                        yield node_id, _step(tokens, inputs, chosen)
            elif node.kind in ("exclusiveGateway", "eventBasedGateway"):
                for flow in inputs:
                    for chosen in [[o] for o in outputs] or [[]]:
                        yield node_id, _step(tokens, [flow], chosen)
            elif node.terminates:
                yield node_id, Counter()
            else:
                for flow in inputs:
                    for produced in self._outcomes(node_id, outputs):
                        yield node_id, _step(tokens, [flow], produced)

    def _outcomes(self, node_id: str, outputs: list[str]) -> Iterator[list[str]]:
        """An activity completes, or one of its boundary events fires (an interrupting one
        instead of the activity's own flows)."""
        yield outputs
        for boundary in self.graph.boundaries.get(node_id, ()):
            after = [f.id for f in self.graph.outgoing[boundary.id]]
            yield after if boundary.interrupting else outputs + after

    def _or_join_ready(self, tokens: Counter[str], join: str) -> bool:
        """An inclusive join fires when no token elsewhere can still reach one of its empty
        incoming flows."""
        incoming = self.graph.incoming[join]
        if not any(tokens[f.id] for f in incoming):
            return False
        empty = [f for f in incoming if not tokens[f.id]]
        others = [self.graph.flows[f].target for f in tokens if self.graph.flows[f].target != join]
        return not any(f.source in self._reachable(o, join) for f in empty for o in others)

    def _reachable(self, start: str, avoid: str) -> set[str]:
        key = (start, avoid)
        if key not in self._reach:
            seen = {start}
            pending = [start]
            while pending:
                for other in self.graph.successors(pending.pop()):
                    if other not in seen and other != avoid:
                        seen.add(other)
                        pending.append(other)
            self._reach[key] = seen
        return self._reach[key]


def _step(tokens: Counter[str], consumed: list[str], produced: list[str]) -> Counter[str]:
    after = Counter(tokens)
    after.subtract(consumed)
    after.update(produced)
    return +after


def _subsets(outputs: list[str]) -> Iterator[list[str]]:
    if len(outputs) > MAX_CHOICES:
        yield from ([o] for o in outputs)
        yield outputs
        return
    for size in range(1, len(outputs) + 1):
        for chosen in combinations(outputs, size):
            yield list(chosen)
    if not outputs:
        yield []
