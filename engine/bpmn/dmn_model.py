"""Decisions as lianban runs them: read from a DMN document, evaluated by the safe language.

A decision is kept as plain JSON data (it is stored in the process version's spec):

    {"id", "name", "hit_policy", "aggregation", "required": [decision ids],
     "inputs": [input expression], "outputs": [output name], "output_values": [text | None],
     "rules": [{"id", "inputs": [unary tests | None], "outputs": [output entry]}]}

`evaluate` runs a decision and, first, the decisions it requires (DMN's `requiredDecision`),
in Camunda 7's order (depth first, each once); a required decision's outputs become variables
of the decisions after it, as Camunda 7 makes them: the value of each output (the list of them
for COLLECT and RULE ORDER). Hit policies are DMN 1.3's; where no rule matches, the outputs are
null (an empty list for the policies that give lists), as in Camunda. Every cell is an
expression of our language (input entries are FEEL unary tests, `dmn_feel`), so nothing is run
by Python.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from lxml import etree

from engine.expressions import EvaluationError
from engine.expressions.errors import shorten

from . import dmn_feel
from .xml import XmlProblem, parse_xml

Decision = dict[str, Any]
Decisions = dict[str, Decision]

SINGLE = ("UNIQUE", "FIRST", "ANY", "PRIORITY")
LISTS = ("COLLECT", "RULE ORDER", "OUTPUT ORDER")
HIT_POLICIES = SINGLE + LISTS
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
# Policies that order the matches by the output columns' `outputValues`.
BY_PRIORITY = ("PRIORITY", "OUTPUT ORDER")


def _text(node: etree._Element | None, q: Callable[[str], str]) -> str | None:
    found = node.find(q("text")) if node is not None else None
    return found.text if found is not None else None


def required_refs(decision: etree._Element) -> list[etree._Element]:
    """The `requiredDecision` elements of a decision's information requirements."""
    namespace = etree.QName(decision).namespace or ""
    return [
        node
        for requirement in decision.findall(f"{{{namespace}}}informationRequirement")
        for node in requirement.findall(f"{{{namespace}}}requiredDecision")
    ]


def read_decision(decision: etree._Element) -> Decision:
    """A `decision` element as data (a decision that is not a table has `"table": False`)."""
    namespace = etree.QName(decision).namespace or ""

    def q(local: str) -> str:
        return f"{{{namespace}}}{local}"

    required = [(node.get("href") or "").strip().lstrip("#") for node in required_refs(decision)]
    found: Decision = {
        "id": decision.get("id") or "",
        "name": decision.get("name") or "",
        "required": required,
        "table": False,
    }
    table = decision.find(q("decisionTable"))
    if table is None:
        return found
    outputs = table.findall(q("output"))
    found.update(
        table=True,
        hit_policy=" ".join((table.get("hitPolicy") or "UNIQUE").upper().replace("_", " ").split()),
        aggregation=(table.get("aggregation") or "").upper() or None,
        inputs=[_text(i.find(q("inputExpression")), q) or "" for i in table.findall(q("input"))],
        outputs=[o.get("name") or o.get("label") or "" for o in outputs],
        output_values=[_text(o.find(q("outputValues")), q) for o in outputs],
        rules=[
            {
                "id": rule.get("id") or "",
                "inputs": [_text(e, q) for e in rule.findall(q("inputEntry"))],
                "outputs": [_text(e, q) or "" for e in rule.findall(q("outputEntry"))],
            }
            for rule in table.findall(q("rule"))
        ],
    )
    return found


def read_decisions(root: etree._Element) -> Decisions:
    """Every decision of a DMN document, by id."""
    namespace = etree.QName(root).namespace or ""
    return {d.get("id") or "": read_decision(d) for d in root.iter(f"{{{namespace}}}decision")}


def output_labels(text: str | bytes) -> dict[str, dict[str, str]]:
    """For the pages: each decision of a DMN document by id, {output name: its label (the
    name when it has none)}, with the decision's own name under the key "" ; {} when the text
    is no DMN document."""
    try:
        root = parse_xml(text.encode() if isinstance(text, str) else text).getroot()
    except XmlProblem:
        return {}
    namespace = etree.QName(root).namespace or ""
    found: dict[str, dict[str, str]] = {}
    for decision in root.iter(f"{{{namespace}}}decision"):
        labels = {"": decision.get("name") or decision.get("id") or ""}
        for output in decision.iter(f"{{{namespace}}}output"):
            name = output.get("name") or output.get("label") or ""
            labels[name] = " ".join((output.get("label") or name).split())
        found[decision.get("id") or ""] = labels
    return found


def order(decisions: Mapping[str, Decision], top: str) -> list[str]:
    """`top` and the decisions it requires, each after the ones it requires (Camunda's
    order). The graph must have no cycle (checked at upload)."""
    found: list[str] = []

    def visit(decision_id: str, path: tuple[str, ...]) -> None:
        if decision_id in found or decision_id in path:
            return
        for required in decisions[decision_id].get("required", ()):
            visit(required, (*path, decision_id))
        found.append(decision_id)

    visit(top, ())
    return found


def cycle(decisions: Mapping[str, Decision], start: str) -> list[str] | None:
    """A cycle of required decisions through `start` (its ids, `start` first), or None."""

    def walk(decision_id: str, path: list[str]) -> list[str] | None:
        for required in decisions.get(decision_id, {}).get("required", ()):
            if required == start:
                return path
            if required in path or required not in decisions:
                continue
            found = walk(required, [*path, required])
            if found is not None:
                return found
        return None

    return walk(start, [start])


def closure(decisions: Mapping[str, Decision], top: str) -> Decisions:
    """`top` and every decision it requires, directly or not."""
    return {d: decisions[d] for d in order(decisions, top)}


# Running ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _unary_test(entry: str | None) -> str | None:
    try:
        return dmn_feel.unary_test(entry)
    except dmn_feel.UnaryTestError as err:  # refused at upload; a stored spec could hold one
        raise EvaluationError(err.message) from None


def label(decision: Decision) -> str:
    name = decision.get("name") or ""
    return (
        f"'{decision['id']}' ({name})" if name and name != decision["id"] else f"'{decision['id']}'"
    )


def evaluate(
    decisions: Mapping[str, Decision], top: str, data: Mapping[str, Any], env: Any
) -> dict[str, Any]:
    """The outputs of decision `top` on `data`, after the decisions it requires (whose outputs
    are variables of the decisions after them, not outputs of `top`): each output column's
    value (null when no rule matched), or the list of them for COLLECT, RULE ORDER and OUTPUT
    ORDER (the aggregate for COLLECT with an aggregation)."""
    return evaluate_results(decisions, top, data, env)[0]


def evaluate_results(
    decisions: Mapping[str, Decision], top: str, data: Mapping[str, Any], env: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`evaluate`'s outputs and Camunda's result list of `top`: the outputs of each rule the
    hit policy keeps, in order (one entry, the aggregate, for an aggregation)."""
    variables: dict[str, Any] = {}
    scope: Mapping[str, Any] = ChainMap(variables, data)  # type: ignore[arg-type]
    result: tuple[dict[str, Any], list[dict[str, Any]]] = ({}, [])
    for decision_id in order(decisions, top):
        result = _decide(decisions[decision_id], scope, env)
        if decision_id != top:
            variables.update(result[0])
    return result


# Camunda's `camunda:mapDecisionResult`, with the result list when none is written.
RESULT_MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


def map_result(mapping: str, results: list[dict[str, Any]], decision: Decision) -> Any:
    """The value Camunda 7 stores in a business rule task's `camunda:resultVariable`."""
    name = label(decision)
    if mapping in ("singleEntry", "collectEntries"):
        for result in results:
            if len(result) > 1:
                raise EvaluationError(
                    f"决策 {name} 的结果有 {len(result)} 个输出, camunda:mapDecisionResult "
                    f"为 {mapping} 时只能有一个输出列: 请改用 singleResult 或 resultList"
                )
    if mapping in ("singleEntry", "singleResult"):
        if len(results) > 1:
            raise EvaluationError(
                f"决策 {name} 命中了 {len(results)} 条规则, camunda:mapDecisionResult 为 "
                f"{mapping} 时只能有一个结果: 请改用 collectEntries 或 resultList"
            )
        if not results:
            return None
        return next(iter(results[0].values()), None) if mapping == "singleEntry" else results[0]
    if mapping == "collectEntries":
        return [value for result in results for value in result.values()]
    return results


def _decide(
    decision: Decision, scope: Mapping[str, Any], env: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    policy = decision.get("hit_policy", "UNIQUE")
    if decision.get("legacy") and policy == "UNIQUE":
        policy = "FIRST"  # how a table stored before lianban ran DMN itself was run
    cells = _Cells(decision, scope, env)
    matches: list[int] = []
    for index, rule in enumerate(decision["rules"]):
        if cells.matches(rule):
            matches.append(index)
            if policy == "FIRST":
                break
    outputs: list[str] = decision["outputs"]
    name = label(decision)
    if decision.get("legacy") and not matches:
        return {}, []
    if policy in SINGLE:
        if not matches:
            return dict.fromkeys(outputs), []
        if policy == "UNIQUE" and len(matches) > 1:
            ids = "、".join(decision["rules"][i]["id"] for i in matches)
            raise EvaluationError(
                f"决策 {name} 的命中策略为 UNIQUE (唯一), 但有 {len(matches)} 条规则同时命中: {ids}; "
                "请修改决策表使规则互不重叠, 或改用 FIRST 等命中策略"
            )
        if policy == "ANY":
            results = [cells.outputs(decision["rules"][i]) for i in matches]
            if any(r != results[0] for r in results[1:]):
                ids = "、".join(decision["rules"][i]["id"] for i in matches)
                raise EvaluationError(
                    f"决策 {name} 的命中策略为 ANY (任一), 但命中的规则 {ids} 的输出不相同"
                )
            return results[0], [results[0]]
        if policy == "PRIORITY":
            results = [cells.outputs(decision["rules"][i]) for i in matches]
            chosen = min(results, key=_priority(decision, env))
            return chosen, [chosen]
        chosen = cells.outputs(decision["rules"][matches[0]])
        return chosen, [chosen]
    results = [cells.outputs(decision["rules"][i]) for i in matches]
    if policy == "OUTPUT ORDER":
        results.sort(key=_priority(decision, env))
    aggregation = decision.get("aggregation")
    if aggregation:
        column = outputs[0]
        values = [
            r[column]
            for i, r in zip(matches, results, strict=True)
            if decision["rules"][i]["outputs"][0].strip()
        ]
        aggregate = {column: _aggregate(aggregation, values, name)}
        return aggregate, [aggregate]
    return {column: [r[column] for r in results] for column in outputs}, results


def _aggregate(aggregation: str, values: list[Any], name: str) -> Any:
    if aggregation == "COUNT":
        return len(values)
    if not values:
        return None
    if aggregation == "SUM":
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise EvaluationError(
                f"决策 {name} 的 COLLECT SUM 只能累加数字, 命中规则的输出为: {shorten(repr(values))}"
            )
        return sum(values)
    try:
        return min(values) if aggregation == "MIN" else max(values)
    except TypeError:
        raise EvaluationError(
            f"决策 {name} 的 COLLECT {aggregation} 无法比较命中规则的输出: {shorten(repr(values))}"
        ) from None


def output_values(text: str | None, env: Any) -> list[Any]:
    """The values an `outputValues` lists (FEEL: `"high", "medium", "low"`), in order."""
    if text is None or not text.strip():
        return []
    return [env.compile(piece).evaluate({}, env.functions) for piece in dmn_feel.split_tests(text)]


def _priority(decision: Decision, env: Any) -> Callable[[dict[str, Any]], tuple[int, ...]]:
    ranks = [
        (name, output_values(text, env))
        for name, text in zip(decision["outputs"], decision["output_values"], strict=True)
        if text
    ]

    def key(result: dict[str, Any]) -> tuple[int, ...]:
        return tuple(
            next((i for i, v in enumerate(values) if _same(v, result[name])), len(values))
            for name, values in ranks
        )

    return key


def _same(left: Any, right: Any) -> bool:
    return (
        type(left) is type(right)
        and bool(left == right)
        or (
            isinstance(left, int | float)
            and isinstance(right, int | float)
            and not isinstance(left, bool)
            and not isinstance(right, bool)
            and left == right
        )
    )


class _Cells:
    """One decision's cells on one scope: input values computed once, when first needed."""

    def __init__(self, decision: Decision, scope: Mapping[str, Any], env: Any) -> None:
        self.decision = decision
        self.scope = scope
        self.env = env
        self.values: dict[int, Any] = {}

    def _fail(self, where: str, text: str, err: EvaluationError) -> EvaluationError:
        return EvaluationError(
            f"决策 {label(self.decision)} 的{where} `{shorten(text)}` 无法求值: {err.message}"
        )

    def value(self, column: int) -> Any:
        if column not in self.values:
            text = self.decision["inputs"][column]
            try:
                self.values[column] = self.env.compile(text).evaluate(
                    self.scope, self.env.functions
                )
            except EvaluationError as err:
                raise self._fail("输入表达式", text, err) from err
        return self.values[column]

    def matches(self, rule: dict[str, Any]) -> bool:
        for column, entry in enumerate(rule["inputs"]):
            try:
                expression = _unary_test(entry)
            except EvaluationError as err:
                raise self._fail(f"规则 '{rule['id']}' 的输入条目", entry or "", err) from err
            if expression is None:
                continue
            value = self.value(column)
            cell = ChainMap({dmn_feel.INPUT: value, dmn_feel.JUEL_INPUT: value}, self.scope)  # type: ignore[arg-type]
            try:
                passed = self.env.compile(expression).evaluate(cell, self.env.functions)
            except EvaluationError as err:
                if value is None:  # FEEL: null compared with a value is null, no match
                    return False
                raise self._fail(f"规则 '{rule['id']}' 的输入条目", entry or "", err) from err
            if not passed:
                return False
        return True

    def outputs(self, rule: dict[str, Any]) -> dict[str, Any]:
        found = {}
        for name, entry in zip(self.decision["outputs"], rule["outputs"], strict=True):
            if not entry.strip():
                found[name] = ""  # lianban's rule: an empty output entry outputs ""
                continue
            try:
                found[name] = self.env.compile(entry).evaluate(self.scope, self.env.functions)
            except EvaluationError as err:
                raise self._fail(f"规则 '{rule['id']}' 的输出条目", entry, err) from err
        return found


def from_spiff_table(table: dict[str, Any]) -> tuple[str, Decisions]:
    """A decision table as SpiffWorkflow's DMN converter stored it (process versions published
    before lianban ran decisions itself), as a decision run as it was then: UNIQUE takes the
    first matching rule, and no match writes nothing."""
    outputs = table.get("outputs") or []
    decision: Decision = {
        "id": table.get("id") or "",
        "name": table.get("name") or "",
        "required": [],
        "table": True,
        "legacy": True,
        "hit_policy": table.get("hit_policy") or "UNIQUE",
        "aggregation": None,
        "inputs": [i.get("expression") or "" for i in table.get("inputs") or []],
        "outputs": [o.get("name") or o.get("label") or "" for o in outputs],
        "output_values": [None for _ in outputs],
        "rules": [
            {
                "id": rule.get("id") or "",
                "inputs": [(e.get("lhs") or [None])[0] for e in rule.get("input_entries") or []],
                "outputs": [e.get("text") or "" for e in rule.get("output_entries") or []],
            }
            for rule in table.get("rules") or []
        ],
    }
    return decision["id"], {decision["id"]: decision}
