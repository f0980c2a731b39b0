"""Why a step failed, said in Chinese and naming the element, for the failures the case data
causes that SpiffWorkflow 3.2.0 reports in its own English (or not at all):

- an exclusive or inclusive gateway whose conditions are all false and that has no default
  flow ("No conditions satisfied for Gateway_x", no element): which conditions, and the values
  of the fields they read;
- a multi-instance activity whose collection (`loopDataInputRef`) is not in the case data, or
  not a list ("'NoneType' object is not iterable", or "Missing data input for multiinstance
  task", attributed to the task completed before it): which field.

A condition reading a field the case does not have is already said by the expression language
("变量 'x' 未定义", with the gateway). The step is refused as any engine failure is: the case
stays as it was (engine/services/incidents.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.expressions import ExpressionError, compile_expression

from .errors import StepFailed
from .tree import all_tasks

_UNDER_WAY = TaskState.READY | TaskState.STARTED | TaskState.ERROR
_MAX_VALUE = 60  # characters of a field's value shown in a message


class DataMissing(StepFailed):
    """The case data lacks what the diagram needs to go on (see the module)."""


def _label(spec: Any) -> str:
    element = str(getattr(spec, "bpmn_id", None) or spec.name)
    name = getattr(spec, "bpmn_name", None)
    inner = getattr(spec, "task_spec", None)  # a multi-instance activity's name is its child's
    if not name and isinstance(inner, str):
        name = getattr(spec._wf_spec.task_specs.get(inner), "bpmn_name", None)
    return f"'{' '.join(str(name).split())}' ({element})" if name else f"'{element}'"


def _element(spec: Any) -> str:
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _conditions(spec: Any) -> list[str]:
    return [
        str(condition.args[0])
        for condition, _ in getattr(spec, "cond_task_specs", ())
        if condition is not None and getattr(condition, "args", None)
    ]


def _names(expressions: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for text in expressions:
        try:
            found.update(dict.fromkeys(sorted(compile_expression(text).names)))
        except ExpressionError:
            continue
    return list(found)


def explained(err: BaseException, workflow: Any) -> DataMissing | None:
    """The failure of the module the error is, said in Chinese; None for any other error."""
    found = no_way_out(err, workflow)
    if found is not None:
        return found
    task = getattr(err, "task", None)
    spec = getattr(task, "task_spec", None)
    if isinstance(spec, MultiInstanceTask) and "data input" in str(err):
        try:  # SpiffWorkflow's "Missing data input for multiinstance task" and the like
            collection_problem(spec, task)
        except DataMissing as missing:
            return missing
    return None


def no_way_out(err: BaseException, workflow: Any) -> DataMissing | None:
    """The gateway none of whose conditions holds (SpiffWorkflow's "No conditions satisfied"),
    explained; None for any other error."""
    if not isinstance(err, WorkflowException) or "No conditions satisfied" not in str(err):
        return None
    spec = getattr(err, "task_spec", None) or getattr(getattr(err, "task", None), "task_spec", None)
    if spec is None:
        return None
    conditions = _conditions(spec)
    data: Mapping[str, Any] = {}
    task = next(
        (t for t in all_tasks(workflow) if t.task_spec is spec and t.state & _UNDER_WAY), None
    )
    if task is not None:
        data = task.data
    values = "、".join(
        f"{name} = {_shown(data[name])}" if name in data else f"{name} (没有)"
        for name in _names(conditions)
    )
    listed = "、".join(f"`{c.strip()}`" for c in conditions)
    message = (
        f"网关 {_label(spec)} 的出口条件 {listed} 都不成立, 也没有默认连线, 办件无法继续"
        + (f"; 条件读取的数据: {values}" if values else "")
        + "。请检查填写的数据, 或在流程中为这个网关设一条默认连线"
    )
    return DataMissing(message, _element(spec))


def collection_problem(spec: MultiInstanceTask, my_task: Task) -> None:
    """Refuse, in Chinese, a multi-instance activity about to start whose collection is missing
    from the case data or is not a list."""
    data_input = spec.data_input
    if data_input is None:
        return
    name = str(getattr(data_input, "bpmn_id", "") or "")
    if not data_input.exists(my_task):
        raise DataMissing(
            f"多实例任务 {_label(spec)} 需要的列表字段 '{name}' 在办件数据中不存在, 无法生成"
            "各实例 (每人一份): 请在它之前的表单中填写这个字段, 或检查流程中的 loopDataInputRef",
            _element(spec),
        )
    collection = data_input.get(my_task)
    if not isinstance(collection, Iterable):
        raise DataMissing(
            f"多实例任务 {_label(spec)} 需要的字段 '{name}' 应为列表, 实际是 "
            f"{_shown(collection)}: 无法生成各实例",
            _element(spec),
        )
