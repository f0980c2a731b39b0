"""Business rule tasks: DMN decision tables, evaluated by the safe expression language.

SpiffWorkflow's DMNEngine turns every cell of a decision table into an expression and hands it
to the workflow's script engine, which for lianban is always `SafeScriptEngine`: no cell ever
reaches `eval`. What this module adds around it:

- `decision_ref`: the decision a `bpmn:businessRuleTask` names, in Camunda Modeler's spelling
  (`camunda:decisionRef`) or bpmn.io's Spiff extension (`spiffworkflow:calledDecisionId`);
- `DecisionTask`: the task spec. Its outputs replace the fields they name (SpiffWorkflow
  deep-merges them, so a COLLECT list would grow on every round of a loop), must be data a
  case can store, and are remembered on the task so the step copies them into the case data;
- `input_expression_problem`, `input_entry_problem`, `output_entry_problem`: each cell built
  exactly as DMNEngine builds it (its own code runs, with a script engine that compiles and
  never evaluates: the same `?` substitution, the same `==` decision through `validate`, the
  same concatenation), so a table that could not run is refused at upload instead.
"""

from __future__ import annotations

import ast
import datetime
from types import SimpleNamespace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.expressions import EvaluationError, ExpressionError, check_expression
from engine.expressions.errors import shorten
from engine.expressions.parser import parse

from .functions import ENGINE_FUNCTIONS
from .namespaces import BPMN, CAMUNDA, SPIFF, tag
from .script_engine import SafeScriptEngine

# Hit policies run as DMN defines them: SpiffWorkflow 3.2.0 knows UNIQUE and COLLECT, `decide`
# adds FIRST; SpiffWorkflow would give any other policy its first matching rule.
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
# Where a DecisionTask keeps the outputs of its run (the task's internal data).
OUTPUTS_KEY = "decision_outputs"
# Stands in for an input expression that is itself refused, so its entries are still checked.
STAND_IN_INPUT = "dmn_input"


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
    """A `bpmn:businessRuleTask` running one decision table on the task's data."""

    def _run_hook(self, my_task: Any) -> bool:
        try:
            result = decide(self.dmnEngine, my_task)
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


def decide(engine: DMNEngine, task: Any) -> dict[str, Any]:
    """The decision table's result on the task's data.

    SpiffWorkflow's own for UNIQUE (the first matching rule) and COLLECT (every matching rule's
    outputs, as lists). For FIRST it would test every rule and then take the first match, so
    a later rule reading a field the case lacks would fail the step; here the rules are tested
    in order and the first match ends the decision, as DMN defines FIRST."""
    table = engine.decision_table
    if table.hit_policy != "FIRST":
        return dict(engine.result(task))
    for rule in table.rules:
        if all(
            engine.evaluate(entry.input.expression, test, task)
            for entry in rule.inputEntries
            for test in entry.lhs
        ):
            return dict(rule.output_as_dict(task))
    return {}


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
_DMN_ENGINE = DMNEngine(None)  # `evaluate` builds a cell's expressions; it never reads the table


class _Recorder:
    """The script engine DMNEngine sees while a cell is checked: it compiles every text exactly
    as SafeScriptEngine would, records what would be evaluated, and evaluates nothing."""

    def __init__(self) -> None:
        self.current = ""
        self.evaluated: list[str] = []

    def validate(self, text: str) -> None:
        self.current = text
        _CHECKER.validate(text)

    def evaluate(self, task: Any, text: str, external_context: Any = None) -> bool:
        self.current = text
        _CHECKER.validate(text)
        self.evaluated.append(text)
        return True


def _built(input_expression: str, entry: str) -> tuple[_Recorder, Exception | None]:
    recorder = _Recorder()
    task = SimpleNamespace(workflow=SimpleNamespace(script_engine=recorder), data={})
    try:
        _DMN_ENGINE.evaluate(input_expression, entry, task)
    except (SyntaxError, ExpressionError) as err:
        return recorder, err
    return recorder, None


def _same_meaning(joined: str, grouped: str) -> bool:
    """Whether two texts parse to the same expression (neither is ever evaluated)."""
    try:
        return ast.dump(parse(joined)[0]) == ast.dump(parse(grouped)[0])
    except ExpressionError:
        return False


_ENTRY_FORMS = '如 "accept"、> 5、1 <= ? <= 10、? in ["a", "b"]、- (任意值)'


def _syntax_hint(entry: str) -> str:
    if ".." in entry:
        return "; FEEL 的区间写法不支持, [1..10] 请写作 1 <= ? <= 10"
    return f"; 条目用本系统的表达式书写, 不是 FEEL: {_ENTRY_FORMS}"


def input_expression_problem(text: str | None) -> str | None:
    """Why an input column's expression cannot be used, or None."""
    if text is None or not text.strip():
        # SpiffWorkflow would fall back to evaluating the repr of a field named like the label.
        return "输入列缺少输入表达式 (inputExpression): 请写出要判断的数据字段或表达式"
    stripped = text.strip()
    if stripped.startswith(("${", "#{")):
        return f"输入表达式 `{shorten(text)}` 不要用 ${{...}} 包裹: 它会与条目拼接成一个表达式"
    error = check_expression(text, ENGINE_FUNCTIONS)
    if error is not None:
        return f"输入表达式 `{shorten(text)}` 无效: {error.message}"
    return None


def input_entry_problem(input_expression: str, entry: str) -> str | None:
    """Why DMNEngine could not test `entry` (a unary test, neither empty nor `-`) against the
    input expression as it will build it, or None. `input_expression` must compile."""
    if not entry.strip():
        return "为空白: 任意值请写 - 或留空"
    if entry.strip() == "-":
        return "任意值请只写 - (前后不要有空格或换行)"
    recorder, err = _built(input_expression, entry)
    if err is not None:
        failing = recorder.current
        if isinstance(err, SyntaxError) and failing == f"v {entry}":
            # neither a value (`"a"`) nor an operator and its operand (`> 5`)
            found = check_expression(entry, ENGINE_FUNCTIONS)
            message = found.message if found is not None else str(err)
            return f"无效: {message}{_syntax_hint(entry)}"
        where = f" (引擎构造的表达式为 `{shorten(failing)}`)" if failing != entry else ""
        hint = _syntax_hint(entry) if isinstance(err, SyntaxError) else ""
        return f"无效{where}: {err}{hint}"
    built = recorder.evaluated[-1]
    if built == input_expression + entry:  # DMNEngine writes `input` and `entry` side by side
        if not _same_meaning(built, f"({input_expression})" + entry):
            return (
                f"与输入表达式直接拼接成 `{shorten(built)}`, 含义与本意不同: "
                f"请写作 `? {shorten(entry.strip())}`"
            )
    elif built == f"({input_expression}) == ({entry})":
        root = parse(entry)[0]
        if isinstance(root, ast.Tuple):
            return '会与一个元组比较: FEEL 的多个取值 "a", "b" 请写作 ? in ["a", "b"]'
        if isinstance(root, ast.UnaryOp) and isinstance(root.op, ast.Not):
            return "会与布尔取反的结果比较: FEEL 的 not(...) 请写作 ? not in [...] 或 != ..."
    return None


def output_entry_problem(entry: str, name: str) -> str | None:
    """Why the engine could not produce an output entry's value for the output `name`, or
    None. An empty entry outputs `""`."""
    if not entry:
        return None
    error = check_expression(entry, ENGINE_FUNCTIONS)
    if error is not None:
        return f"无效: {error.message}"
    try:
        ast.parse(entry)  # SpiffWorkflow's DMN parser reads every output entry as Python first
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return (
            "无法被流程引擎读取: 输出条目请用 Python 写法 (不要 ${...}、&&、||、!), "
            "且开头不要有空格或换行"
        )
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
