"""Checks of a DMN document: every decision is one the engine can run as written
(`engine.bpmn.dmn_model`): a decision table, a hit policy and aggregation it knows, every cell
an expression of our language (input entries FEEL unary tests), outputs that are field names,
required decisions in the same file and no cycle among them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from engine.bpmn import dmn, dmn_model
from engine.bpmn.namespaces import BPMN, CAMUNDA, tag

from .problems import Problem

_NEEDS_ID = ("decision", "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry")


def _problem(message: str, node: etree._Element, file: str) -> Problem:
    current: etree._Element | None = node
    while current is not None and not current.get("id"):
        current = current.getparent()
    owner = current if current is not None else node
    return Problem(message, owner.get("id"), node.sourceline, file)


def _text(node: etree._Element | None, q: Callable[[str], str]) -> str | None:
    found = node.find(q("text")) if node is not None else None
    return found.text if found is not None else None


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def decision_tables(root: etree._Element, file: str) -> Iterator[Problem]:
    """Every problem of a DMN document (its schema is checked apart)."""
    namespace = etree.QName(root).namespace or ""

    def q(local: str) -> str:
        return tag(namespace, local)

    found = list(root.iter(q("decision")))
    if not found:
        yield Problem("DMN 文件中没有决策 (decision)", None, root.sourceline, file)
    ids = {d.get("id") for d in found if d.get("id")}
    for decision in found:
        for local in _NEEDS_ID:
            for node in decision.iter(q(local)):
                if not node.get("id"):
                    yield _problem(f"DMN 元素 {local} 缺少 id", node, file)
        yield from _requirements(decision, ids, file)
        table = decision.find(q("decisionTable"))
        if table is None:
            yield _problem(
                f"决策 '{decision.get('id')}' 不是决策表: 只支持决策表 (decisionTable)",
                decision,
                file,
            )
            continue
        yield from _decision_table(table, q, file)
    yield from _cycles(root, found, file)


def _requirements(decision: etree._Element, ids: set[str | None], file: str) -> Iterator[Problem]:
    for node in dmn_model.required_refs(decision):
        href = (node.get("href") or "").strip()
        if not href.startswith("#") or href[1:] not in ids:
            known = "、".join(sorted(i for i in ids if i)) or "无"
            yield _problem(
                f"决策 '{decision.get('id')}' 依赖的决策 (requiredDecision href=\"{href}\") "
                f'不在本文件中: 请写作 href="#决策id", 本文件的决策: {known}',
                node,
                file,
            )


def _cycles(root: etree._Element, found: list[etree._Element], file: str) -> Iterator[Problem]:
    decisions = dmn_model.read_decisions(root)
    reported: set[str] = set()
    for decision in found:
        start = decision.get("id") or ""
        if start in reported:
            continue
        loop = dmn_model.cycle(decisions, start)
        if loop is not None:
            reported.update(loop)
            path = " → ".join([*loop, start])
            yield _problem(f"决策之间的依赖 (requiredDecision) 构成循环: {path}", decision, file)


def _decision_table(table: etree._Element, q: Callable[[str], str], file: str) -> Iterator[Problem]:
    policy = " ".join((table.get("hitPolicy") or "UNIQUE").upper().replace("_", " ").split())
    aggregation = (table.get("aggregation") or "").upper()
    if policy not in dmn.HIT_POLICIES:
        yield _problem(f"不支持命中策略 {policy}: 支持 {'、'.join(dmn.HIT_POLICIES)}", table, file)
    if aggregation and policy != "COLLECT":
        yield _problem(f"聚合 {aggregation} 只能用于命中策略 COLLECT", table, file)
    elif aggregation and aggregation not in dmn.AGGREGATIONS:
        yield _problem(
            f"不支持 COLLECT 的聚合 {aggregation}: 支持 {'、'.join(dmn.AGGREGATIONS)}", table, file
        )
    inputs = table.findall(q("input"))
    for column in inputs:
        expression = column.find(q("inputExpression"))
        problem = dmn.input_expression_problem(_text(expression, q))
        if problem is not None:
            yield _problem(problem, expression if expression is not None else column, file)
    outputs: list[str] = []
    ranked = False
    columns = table.findall(q("output"))
    for column in columns:
        name = column.get("name") or column.get("label") or ""
        if not name.isidentifier() or name.startswith("_"):
            yield _problem(
                f"输出列的 name '{name}' 必须是数据字段名 (字母、数字、下划线, 不以下划线或数字开头, 不含 .)",
                column,
                file,
            )
        elif name in outputs:
            yield _problem(f"输出列的 name '{name}' 重复", column, file)
        if column.find(q("defaultOutputEntry")) is not None:
            yield _problem(
                "不支持输出的默认值 (defaultOutputEntry): 请加一条所有输入都为 - 的规则",
                column,
                file,
            )
        values = _text(column.find(q("outputValues")), q)
        if values is not None and values.strip():
            ranked = True
            problem = dmn.output_values_problem(values)
            if problem is not None:
                yield _problem(
                    f"输出值列表 (outputValues) `{_snippet(values)}` {problem}", column, file
                )
        outputs.append(name)
    if policy in dmn_model.BY_PRIORITY and not ranked:
        yield _problem(
            f"命中策略 {policy} 按输出值列表排定优先级: 请至少为一个输出列写出输出值列表 (outputValues), "
            '如 "高", "中", "低"',
            table,
            file,
        )
    if aggregation and len(columns) != 1:
        yield _problem(
            f"COLLECT {aggregation} 聚合的决策表只能有一个输出列 (现有 {len(columns)} 个)",
            table,
            file,
        )
    for rule in table.findall(q("rule")):
        input_entries = rule.findall(q("inputEntry"))
        output_entries = rule.findall(q("outputEntry"))
        if len(input_entries) != len(inputs) or len(output_entries) != len(outputs):
            yield _problem(
                f"规则有 {len(input_entries)} 个输入条目、{len(output_entries)} 个输出条目, "
                f"决策表有 {len(inputs)} 个输入列、{len(outputs)} 个输出列",
                rule,
                file,
            )
            continue
        for entry in input_entries:
            text = _text(entry, q)
            problem = dmn.input_entry_problem(text)
            if problem is not None:
                yield _problem(f"输入条目 `{_snippet(text or '')}` {problem}", entry, file)
        for entry, name in zip(output_entries, outputs, strict=True):
            text = _text(entry, q) or ""
            problem = dmn.output_entry_problem(text, name)
            if problem is not None:
                yield _problem(f"输出条目 `{_snippet(text)}` {problem}", entry, file)


# A business rule task's result, as Camunda 7 stores it ---------------------------------------

_BUSINESS_RULE_TASK = tag(BPMN, "businessRuleTask")
_RESULT_VARIABLE = tag(CAMUNDA, "resultVariable")
_MAP_DECISION_RESULT = tag(CAMUNDA, "mapDecisionResult")


def allowed(node: etree._Element, attribute: str) -> bool:
    """Whether an attribute refused elsewhere is allowed here: `camunda:resultVariable` on a
    business rule task names where the decision's result goes (no code runs)."""
    return attribute == _RESULT_VARIABLE and node.tag == _BUSINESS_RULE_TASK


def result_mapping(node: etree._Element, file: str) -> Iterator[Problem]:
    """`camunda:resultVariable` is a case data field name; `camunda:mapDecisionResult` one of
    Camunda's four mappings."""
    variable = node.get(_RESULT_VARIABLE)
    if variable is not None and (
        not variable.strip().isidentifier() or variable.strip().startswith("_")
    ):
        yield _problem(
            f"camunda:resultVariable '{_snippet(variable)}' 必须是数据字段名 "
            "(字母、数字、下划线, 不以下划线或数字开头)",
            node,
            file,
        )
    mapping = node.get(_MAP_DECISION_RESULT)
    if mapping is not None and mapping not in dmn_model.RESULT_MAPPINGS:
        yield _problem(
            f"camunda:mapDecisionResult '{_snippet(mapping)}' 无效: 可选 "
            f"{'、'.join(dmn_model.RESULT_MAPPINGS)}",
            node,
            file,
        )
