"""Business rule tasks: DMN decisions, evaluated by the safe expression language.

lianban runs decisions itself (`dmn_model`, `dmn_feel`): SpiffWorkflow's DMN engine is not used
(it knows two hit policies, one decision per file, and builds cells by gluing texts). What this
module adds around it:

- `decision_ref`: the decision a `bpmn:businessRuleTask` names, in Camunda Modeler's spelling
  (`camunda:decisionRef`) or bpmn.io's Spiff extension (`spiffworkflow:calledDecisionId`);
- `DecisionTask`: the task spec, holding the decision it runs and every decision that one
  requires. Its outputs replace the fields they name (SpiffWorkflow deep-merges them, so a
  COLLECT list would grow on every round of a loop), must be data a case can store, and are
  remembered on the task so the step copies them into the case data;
- `DecisionTaskConverter`: the task spec's stored form (specs stored with SpiffWorkflow's form
  of one decision table are still read, and run as they were);
- `input_expression_problem`, `input_entry_problem`, `output_entry_problem`,
  `output_values_problem`: why a cell could not run, found at upload.
"""

from __future__ import annotations

import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.expressions import EvaluationError, check_expression
from engine.expressions.errors import shorten

from . import dmn_feel, dmn_model
from .functions import ENGINE_FUNCTIONS
from .namespaces import BPMN, CAMUNDA, SPIFF, tag
from .script_engine import SafeScriptEngine

HIT_POLICIES = dmn_model.HIT_POLICIES
AGGREGATIONS = dmn_model.AGGREGATIONS
# Where a DecisionTask keeps the outputs of its run (the task's internal data).
OUTPUTS_KEY = "decision_outputs"


def decision_ref(node: etree._Element) -> str | None:
    """The decision id a business rule task names: `camunda:decisionRef`, else bpmn.io's
    `<spiffworkflow:calledDecisionId>`; None when it names none."""
    ref = node.get(tag(CAMUNDA, "decisionRef"))
    if ref is None:
        found = node.find(f"./{tag(BPMN, 'extensionElements')}/{tag(SPIFF, 'calledDecisionId')}")
        ref = found.text if found is not None else None
    ref = (ref or "").strip()
    return ref or None


class DecisionTask(BusinessRuleTask):  # type: ignore[misc]
    """A `bpmn:businessRuleTask` running one decision (and those it requires) on the task's
    data."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        decision: str = "",
        decisions: dmn_model.Decisions | None = None,
        result_variable: str | None = None,
        map_decision_result: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("dmnEngine", None)
        super().__init__(wf_spec, bpmn_id, dmnEngine=None, **kwargs)
        self.decision = decision
        self.decisions: dmn_model.Decisions = decisions or {}
        # Camunda 7's `camunda:resultVariable` / `camunda:mapDecisionResult`: when a variable is
        # named, the result goes there alone, mapped as Camunda maps it.
        self.result_variable = result_variable
        self.map_decision_result = map_decision_result

    def _run_hook(self, my_task: Any) -> bool:
        try:
            environment = my_task.workflow.script_engine.environment
            columns, results = dmn_model.evaluate_results(
                self.decisions, self.decision, my_task.data, environment
            )
            result: dict[str, Any] = columns
            if self.result_variable:
                mapping = self.map_decision_result or "resultList"
                top = self.decisions[self.decision]
                result = {self.result_variable: dmn_model.map_result(mapping, results, top)}
            outputs = {str(key): storable(str(key), value) for key, value in result.items()}
        except SpiffWorkflowException as err:
            err.add_note(f"Business Rule Task '{my_task.task_spec.bpmn_name}'.")
            raise
        except Exception as err:
            raise WorkflowTaskException(str(err), task=my_task, exception=err) from err
        # Replace, as a form's fields do: SpiffWorkflow's deep merge would extend lists.
        my_task.data.update(outputs)
        my_task._set_internal_data(**{OUTPUTS_KEY: outputs})
        return bool(super(BusinessRuleTaskMixin, self)._run_hook(my_task))


class DecisionTaskConverter(BaseBusinessRuleTaskConverter):  # type: ignore[misc]
    """A DecisionTask's stored form: the default attributes, the decision and its decisions
    (plain data). A spec stored with SpiffWorkflow's `decision_table` is read as the one
    decision it was, run as it was then (`dmn_model.from_spiff_table`)."""

    def to_dict(self, spec: DecisionTask) -> dict[str, Any]:
        dct: dict[str, Any] = self.get_default_attributes(spec)
        dct["decision"] = spec.decision
        dct["decisions"] = spec.decisions
        if spec.result_variable:
            dct["result_variable"] = spec.result_variable
            dct["map_decision_result"] = spec.map_decision_result
        return dct

    def from_dict(self, dct: dict[str, Any]) -> DecisionTask:
        table = dct.pop("decision_table", None)
        if table is not None:
            dct["decision"], dct["decisions"] = dmn_model.from_spiff_table(table)
        spec: DecisionTask = self.task_spec_from_dict(dct)
        return spec


_JSON_SCALARS = (str, bool, int, float, type(None))


def storable(name: str, value: Any) -> Any:
    """`value` as case data stores it (tuples become lists); EvaluationError for a date, a
    set or anything else JSON cannot hold."""
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [storable(name, item) for item in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: storable(name, v) for k, v in value.items()}
    what = "日期" if isinstance(value, datetime.date) else type(value).__name__
    if isinstance(value, set | frozenset):
        what = "集合"
    elif isinstance(value, dict):
        what = "键不是文本的字典"
    raise EvaluationError(
        f"决策输出 '{name}' 的值是{what}, 不能存入办件数据: 请输出文本、数字、布尔值、空值或它们的列表/字典"
    )


# Checking cells at upload -------------------------------------------------------------------

_CHECKER = SafeScriptEngine(ENGINE_FUNCTIONS)
_ENTRY_FORMS = '如 "a"、"a", "b"、< 10、[1..5]、not("a")、- (任意值)'


def _expression_problem(text: str) -> str | None:
    error = check_expression(text, ENGINE_FUNCTIONS)
    return error.message if error is not None else None


def input_expression_problem(text: str | None) -> str | None:
    """Why an input column's expression cannot be used, or None."""
    if text is None or not text.strip():
        return "输入列缺少输入表达式 (inputExpression): 请写出要判断的数据字段或表达式"
    error = _expression_problem(text)
    if error is not None:
        return f"输入表达式 `{shorten(text)}` 无效: {error}"
    return None


def input_entry_problem(entry: str | None) -> str | None:
    """Why an input entry is not a unary test the engine can run (`dmn_feel`), or None."""
    try:
        built = dmn_feel.unary_test(entry, _expression_problem)
    except dmn_feel.UnaryTestError as err:
        hint = _ENTRY_FORMS
        if (entry or "").split(maxsplit=1)[:1] in (["in"], ["not"]):
            hint = '成员判断用 FEEL 写作 "a", "b" (不属于: not("a", "b")), 或写作 ? in [...]'
        return f"无效: {err.message}; 条目用 FEEL 的一元测试书写, {hint}"
    if built is not None:
        error = _expression_problem(built)
        if error is not None:
            return f"无效: {error}"
    return None


def output_entry_problem(entry: str, name: str) -> str | None:
    """Why the engine could not produce an output entry's value for the output `name`, or
    None. An empty entry outputs `""`."""
    if not entry.strip():
        return None
    error = check_expression(entry, ENGINE_FUNCTIONS)
    if error is not None:
        return f"无效: {error.message}"
    expression = _CHECKER.environment.compile(entry)
    if not expression.names:  # a constant: its value is known now
        try:
            value = expression.evaluate({})
        except EvaluationError as err:
            return f"无法求值: {err.message}"
        try:
            storable(name, value)
        except EvaluationError as err:
            return f"无效: {err.message}"
    return None


def output_values_problem(text: str) -> str | None:
    """Why an output column's `outputValues` is not a list of constants (PRIORITY and OUTPUT
    ORDER rank the outputs by it), or None."""
    try:
        values = dmn_feel.split_tests(text)
    except dmn_feel.UnaryTestError as err:
        return f"无效: {err.message}"
    for value in values:
        error = check_expression(value, ENGINE_FUNCTIONS)
        if error is not None:
            return f"无效: {error.message}"
        if _CHECKER.environment.compile(value).names:
            return f"`{shorten(value)}` 不是常量: 输出值列表只能写文本、数字等常量"
        try:
            _CHECKER.environment.compile(value).evaluate({})
        except EvaluationError as err:
            return f"无法求值: {err.message}"
    return None
