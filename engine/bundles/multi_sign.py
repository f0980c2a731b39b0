"""Upload checks of 会签 / 或签 (multi-instance user tasks; engine/bpmn/multi_sign.py).

- the element id of a multi-instance user task is a field name: its outcome is written to
  `<id>_result` and `<id>_signatures` for the gateway after it;
- `${name}` in `camunda:assignee` / `camunda:candidateGroups` (an instance's signer or group;
  or their `flowable:` / `activiti:` spellings) on a multi-instance task must name its
  `inputDataItem` (on a plain task: assignment.py);
- a `signers` property (signers fixed in the diagram, comma separated) only on a multi-instance
  task with a collection, within the limit on instances;
- the completion condition is in the expression language (checks.expressions) and reads only
  the counts (`nr_of_approvals`...), the instance's form fields and the case data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine.bpmn.assignment import attribute
from engine.bpmn.multi_sign import RESULT_SUFFIX, SIGNATURES_SUFFIX
from engine.bpmn.namespaces import BPMN, NSMAP, tag
from engine.config import engine_limits

from .problems import Problem

_REFERENCE = re.compile(r"[$#]\{\s*([^}]*?)\s*\}")
_MI = tag(BPMN, "multiInstanceLoopCharacteristics")
MAX_NAME = 100  # what the task table stores of a group or an assignee (checks.TASK_LIMITS)


def _problem(message: str, node: etree._Element, file: str) -> Problem:
    return Problem(message, node.get("id"), node.sourceline, file)


def outputs(element: str) -> frozenset[str]:
    """The case data fields a multi-instance task writes when it ends."""
    return frozenset({element + RESULT_SUFFIX, element + SIGNATURES_SUFFIX})


def check(root: etree._Element, file: str) -> Iterator[Problem]:
    for node in root.xpath("//bpmn:userTask | //bpmn:manualTask", namespaces=NSMAP):
        loop = node.find(_MI)
        element = node.get("id") or ""
        item = None
        if loop is not None:
            found = loop.find(tag(BPMN, "inputDataItem"))
            item = found.get("id") if found is not None else None
            if not element.isidentifier() or element.startswith("_"):
                yield _problem(
                    f"会签/或签任务的 id '{element}' 必须是字段名 (字母、数字、下划线, "
                    f"不以数字开头): 结果写入 {element}{RESULT_SUFFIX}",
                    node,
                    file,
                )
        fixed = node.xpath(
            "./bpmn:extensionElements/*/*[local-name()='property'][@name='signers']",
            namespaces=NSMAP,
        )
        for prop in fixed:
            yield from _fixed_signers(prop.get("value") or "", node, loop, file)
        if loop is None:
            continue  # a plain task's assignee expression and groups: assignment.py
        for attr, what in (("assignee", "办理人"), ("candidateGroups", "办理组")):
            value = attribute(node, attr) or ""  # camunda:, flowable: or activiti:
            for name in _REFERENCE.findall(value):
                if name != item:
                    yield _problem(
                        f"{what} `{value}` 只能引用多实例的元素变量 (inputDataItem "
                        f"'{item or '未设置'}'), 如 ${{{item or 'signer'}}}",
                        node,
                        file,
                    )


def _fixed_signers(
    value: str, node: etree._Element, loop: etree._Element | None, file: str
) -> Iterator[Problem]:
    """The `signers` property: signers fixed in the diagram, for the loop's collection."""
    if loop is None or loop.find(tag(BPMN, "loopDataInputRef")) is None:
        yield _problem(
            "属性 signers (固定的会签人) 只能用于以 loopDataInputRef 指定集合的会签/或签任务",
            node,
            file,
        )
        return
    names = [s.strip() for s in value.split(",")]
    limit = engine_limits().max_instances
    if not value.strip() or any(not n or len(n) > MAX_NAME for n in names):
        yield _problem(
            f"属性 signers 应为逗号分隔的组名或用户名 (每个至多 {MAX_NAME} 个字符), 不能是 '{value:.60}'",
            node,
            file,
        )
    elif len(names) > limit:
        yield _problem(f"属性 signers 有 {len(names)} 个会签人, 超过上限 {limit}", node, file)
