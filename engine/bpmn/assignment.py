"""Who may work a human task, as the modelers write it (docs/bundles.md, Groups and Assignee).

Read at deploy time into the manifest (`manifest.read_human_tasks`), from the first of the
Camunda, Flowable and Activiti spellings of the same attributes, and from BPMN's own resource
assignments:

- `candidateGroups`, `candidateUsers` (comma separated) and `assignee` attributes;
- `bpmn:potentialOwner`'s `formalExpression`: `user(kermit), group(sales)`, a bare name being a
  group (Activiti/Flowable); or its `resourceRef` to a `bpmn:resource`, whose name is a group;
- `bpmn:humanPerformer`'s `formalExpression` (or `user(x)`): the assignee.

An assignee may be an expression (`${reviewer}`), evaluated on the case data when the task
opens (`opening_assignee`); the start event's `initiator` attribute names the variable holding
who started the case. A candidate group may be one too (`${town_group}`: the group named by the
case data, `opening_groups`), so that each village's or town's cases go to its own worklist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

from engine.domain.bundle_versions import HumanTaskInfo
from engine.expressions import EvaluationError, ExpressionError, compile_expression

from .errors import StepFailed
from .functions import ENGINE_FUNCTIONS
from .namespaces import ACTIVITI, BPMN, CAMUNDA, FLOWABLE, tag

# the modelers' namespaces for the same attributes, the first that gives a value wins
EXTENSION_NAMESPACES = (CAMUNDA, FLOWABLE, ACTIVITI)
MAX_NAME = 100  # what the task table stores of a user or group name (bundles/checks.py)

_FUNCTION_FORM = re.compile(r"^\s*(user|group)\s*\(\s*(.*?)\s*\)\s*$", re.DOTALL)
# a whole value that is one expression: `${reviewer}`, `#{approver}`
_WHOLE_EXPRESSION = re.compile(r"^\s*[$#]\{.*\}\s*$", re.DOTALL)
_ANY_EXPRESSION = re.compile(r"[$#]\{")


def attribute(node: etree._Element, name: str) -> str | None:
    """`camunda:<name>`, else `flowable:<name>`, else `activiti:<name>`, stripped (None if
    none is given or all are blank)."""
    for ns in EXTENSION_NAMESPACES:
        value: str | None = node.get(tag(ns, name))
        if value is not None and value.strip():
            return value.strip()
    return None


def split_names(value: str | None) -> tuple[str, ...]:
    """A comma separated list, blanks dropped, each name once, in order; a comma inside a
    `${...}` expression does not split it."""
    if not value:
        return ()
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in value:
        if char == "{" and current and current[-1] in "$#":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        if char == "," and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return tuple(dict.fromkeys(n.strip() for n in parts if n.strip()))


def _split_expression_list(text: str) -> list[str]:
    """`user(a), group(b)`: split on the commas outside parentheses and braces."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _resource_names(root: etree._Element) -> dict[str, str]:
    return {
        r.get("id", ""): (r.get("name") or r.get("id") or "").strip()
        for r in root.iter(tag(BPMN, "resource"))
    }


def _formal_expressions(node: etree._Element, role: str) -> Iterable[str]:
    for owner in node.iterchildren(tag(BPMN, role)):
        for expression in owner.iter(tag(BPMN, "formalExpression")):
            if expression.text and expression.text.strip():
                yield expression.text.strip()


def resource_assignments(
    node: etree._Element, resources: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(groups, users, assignee) of a task's `bpmn:potentialOwner` and `bpmn:humanPerformer`."""
    groups: list[str] = []
    users: list[str] = []
    for text in _formal_expressions(node, "potentialOwner"):
        for part in _split_expression_list(text):
            found = _FUNCTION_FORM.match(part)
            if found and found.group(1) == "user":
                users.append(found.group(2))
            else:
                groups.append(found.group(2) if found else part)
    for owner in node.iterchildren(tag(BPMN, "potentialOwner")):
        ref = owner.find(tag(BPMN, "resourceRef"))
        if ref is not None and ref.text and resources.get(ref.text.strip()):
            groups.append(resources[ref.text.strip()])
    assignee = None
    for text in _formal_expressions(node, "humanPerformer"):
        found = _FUNCTION_FORM.match(text)
        assignee = found.group(2) if found else text
        break
    return tuple(dict.fromkeys(groups)), tuple(dict.fromkeys(users)), assignee


def initiators(root: etree._Element) -> dict[str, str]:
    """The variable each process's start event names for who started the case
    (`camunda:initiator="starter"`), by process id."""
    found = {}
    for process in root.iter(tag(BPMN, "process")):
        for start in process.findall(tag(BPMN, "startEvent")):
            name = attribute(start, "initiator")
            if name:
                found[process.get("id", "")] = name
    return found


class Reader:
    """The assignment of each human task of one document."""

    def __init__(self, root: etree._Element) -> None:
        self.resources = _resource_names(root)
        self.initiators = initiators(root)
        # the pool (participant) drawn around each process, by process id: its name stands in
        # for a lane when the task is in none
        self.pools = {
            p.get("processRef", ""): (p.get("name") or "").strip()
            for p in root.iter(tag(BPMN, "participant"))
            if p.get("processRef") and (p.get("name") or "").strip()
        }

    def pool(self, node: etree._Element) -> str | None:
        """The name of the pool around the task's process, if it is drawn in one."""
        for process in node.iterancestors(tag(BPMN, "process")):
            return self.pools.get(process.get("id", ""))
        return None

    def read(
        self,
        node: etree._Element,
        props: Mapping[str, str],
        lane: str | None,
        pool: bool = False,
    ) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
        """(groups, candidate users, assignee) of a human task: attributes, then the
        properties, then BPMN's resource assignments; groups from the lane when nothing else
        gives any, and with `pool` from the pool drawn around the process when nothing at all
        does (not for deciding whether an untyped task is a human task)."""
        res_groups, res_users, res_assignee = resource_assignments(node, self.resources)
        groups = (
            split_names(attribute(node, "candidateGroups"))
            or split_names(props.get("candidateGroups"))
            or res_groups
            or ((lane,) if lane else ())
        )
        users = (
            split_names(attribute(node, "candidateUsers"))
            or split_names(props.get("candidateUsers"))
            or res_users
        )
        assignee = attribute(node, "assignee") or (props.get("assignee") or "").strip()
        assignee = assignee or res_assignee or ""
        around = self.pool(node) if pool else None
        if not (groups or users or assignee) and around:
            groups = (around,)  # a pool is a swimlane too: drawn without lanes, it stands in
        return groups, users, assignee or None


def is_expression(value: str | None) -> bool:
    """Whether an assignee (or a name) is written with `${...}` / `#{...}`."""
    return bool(value and _ANY_EXPRESSION.search(value))


def assignee_problem(value: str) -> str | None:
    """Why an assignee expression cannot be used (None when it can): it must be one whole
    expression of our language."""
    if not _WHOLE_EXPRESSION.match(value):
        return "办理人只能是用户名, 或整个写成一个表达式 (如 ${reviewer}), 不能把表达式嵌在文字中"
    try:
        compile_expression(value, ENGINE_FUNCTIONS)
    except ExpressionError as err:
        return f"表达式无效: {err.message}"
    return None


def opening_assignee(
    element: str,
    assignee: str | None,
    data: Mapping[str, Any],
    starter: str | None = None,
    initiator: str | None = None,
) -> str | None:
    """The user a task opening now is assigned to: a literal assignee as written; an
    expression evaluated on the case data (and `initiator` bound to who started the case).
    None when there is no assignee, or the expression gives nothing (null, empty text, a
    field the case does not have). A value that is not a user name fails the step."""
    if not assignee:
        return None
    if not is_expression(assignee):
        return assignee
    expression = compile_expression(assignee, ENGINE_FUNCTIONS)
    variables: dict[str, Any] = {}
    if initiator and starter:
        variables[initiator] = starter
    variables.update(data)
    if not expression.names <= variables.keys():
        return None  # the case has no such field (yet): no one is assigned
    try:
        value = expression.evaluate(variables)
    except EvaluationError as err:
        raise StepFailed(
            f"任务 '{element}' 的办理人 `{assignee}` 无法求值: {err.message}", element
        ) from None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise StepFailed(
            f"任务 '{element}' 的办理人 `{assignee}` 应得到用户名, 却得到 {value!r:.60}", element
        )
    name = str(value).strip()
    if len(name) > MAX_NAME:
        raise StepFailed(
            f"任务 '{element}' 的办理人 `{assignee}` 得到的用户名过长 "
            f"({len(name)} 个字符, 上限 {MAX_NAME})",
            element,
        )
    return name


def group_problem(value: str) -> str | None:
    """Why a candidate group written as an expression cannot be used (None when it can): as an
    assignee, it must be one whole expression of our language."""
    why = assignee_problem(value)
    if why and not _WHOLE_EXPRESSION.match(value):
        return "只能是组名, 或整个写成一个表达式 (如 ${town_group}), 不能把表达式嵌在文字中"
    return why


def _group_name(element: str, written: str, value: Any) -> str | None:
    """An evaluated group: a name as a group is created with (text without commas or `${`, at
    most 100 characters); None for nothing (null, an empty text). Anything else fails the step."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise StepFailed(
            f"任务 '{element}' 的办理组 `{written}` 应得到组名 (文本), 却得到 {value!r:.60}",
            element,
        )
    name = value.strip()
    if "," in name or _ANY_EXPRESSION.search(name) or len(name) > MAX_NAME:
        raise StepFailed(
            f"任务 '{element}' 的办理组 `{written}` 得到的 '{name:.40}' 不是组名 "
            f"(组名不含逗号和 ${{, 至多 {MAX_NAME} 个字符)",
            element,
        )
    return name


def opening_groups(
    element: str,
    groups: Iterable[str],
    data: Mapping[str, Any],
    starter: str | None = None,
    initiator: str | None = None,
) -> tuple[str, ...]:
    """The groups of a task opening now: names as written; each `${...}` evaluated on the case
    data (and `initiator` bound to who started the case), giving a group name or nothing (null,
    an empty text, a field the case does not have). A value that is not a group name fails the
    step."""
    found: list[str] = []
    variables: dict[str, Any] | None = None
    for written in groups:
        if not is_expression(written):
            found.append(written)
            continue
        if variables is None:
            variables = {initiator: starter} if initiator and starter else {}
            variables.update(data)
        expression = compile_expression(written, ENGINE_FUNCTIONS)
        if not expression.names <= variables.keys():
            continue
        try:
            value = expression.evaluate(variables)
        except EvaluationError as err:
            raise StepFailed(
                f"任务 '{element}' 的办理组 `{written}` 无法求值: {err.message}", element
            ) from None
        name = _group_name(element, written, value)
        if name is not None:
            found.append(name)
    return tuple(dict.fromkeys(found))


def task_groups(
    info: HumanTaskInfo, data: Mapping[str, Any], starter: str | None = None
) -> tuple[str, ...]:
    """`opening_groups` of a human task of the manifest. When groups written as expressions give
    no group and the task names no candidate user nor assignee, nobody could work it: the step
    fails naming the task and the variables."""
    groups = opening_groups(info.element, info.groups, data, starter, info.initiator)
    written = [g for g in info.groups if is_expression(g)]
    if written and not groups and not (info.candidate_users or info.assignee):
        names = sorted({n for g in written for n in compile_expression(g, ENGINE_FUNCTIONS).names})
        fields = "、".join(names) or "、".join(written)
        raise StepFailed(
            f"人工任务 '{info.element}' 的办理组 `{', '.join(written)}` 没有得到组名 "
            f"(数据 {fields} 不存在或为空), 任务也没有办理人或候选人, 无人可以办理",
            info.element,
        )
    return groups


def group_choices(group: str, schema: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The groups a `${field}` group may give, as far as a form says: the values of the
    choice field `field` of `schema` (an enum, or oneOf consts); () when it cannot say."""
    found = re.match(r"^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$", group)
    props = (schema or {}).get("properties")
    prop = props.get(found.group(1)) if found and isinstance(props, Mapping) else None
    if not isinstance(prop, Mapping):
        return ()
    values: list[Any] = list(prop.get("enum") or [])
    one_of = prop.get("oneOf")
    if isinstance(one_of, list):
        values += [o.get("const") for o in one_of if isinstance(o, Mapping)]
    return tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def task_assignee(
    info: HumanTaskInfo, data: Mapping[str, Any], starter: str | None = None
) -> str | None:
    """`opening_assignee` of a human task of the manifest. An assignee expression that gives
    nobody leaves the task to its groups and candidate users; with neither, nobody could work
    it, and the step fails naming the task and the variables."""
    name = opening_assignee(info.element, info.assignee, data, starter, info.initiator)
    if name is None and is_expression(info.assignee) and not (info.groups or info.candidate_users):
        assert info.assignee is not None
        names = sorted(compile_expression(info.assignee, ENGINE_FUNCTIONS).names)
        fields = "、".join(names) or info.assignee
        raise StepFailed(
            f"人工任务 '{info.element}' 的办理人 `{info.assignee}` 没有得到用户名 "
            f"(数据 {fields} 不存在或为空), 任务也没有办理组或候选人, 无人可以办理",
            info.element,
        )
    return name
