"""Upload checks of who may work a human task (engine/bpmn/assignment.py reads it).

- a human task needs someone who may work it: groups (candidateGroups, potentialOwner, a lane),
  candidate users, or an assignee;
- names fit the task table (at most 100 characters);
- an assignee, and a candidate group, may be one expression of our language (`${reviewer}`,
  `${town_group}`), evaluated on the case data when the task opens; candidate users are names,
  not expressions (a 会签/或签 task's `${item}` is checked in multi_sign.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.bpmn.assignment import MAX_NAME, assignee_problem, group_problem, is_expression
from engine.bpmn.namespaces import BPMN, NSMAP, tag
from engine.domain.bundle_versions import HumanTaskInfo

from .problems import Problem

NOBODY = (
    "人工任务 '{task}' 没有办理组或办理人: 请设置 candidateGroups (办理组)、candidateUsers (候选人)、"
    "assignee (办理人) 或 potentialOwner, 或把它放进泳道"
)


def multi_instance_tasks(root: etree._Element) -> frozenset[str]:
    """The ids of the document's multi-instance human tasks (会签/或签)."""
    return frozenset(
        node.get("id", "")
        for node in root.xpath("//bpmn:userTask | //bpmn:manualTask", namespaces=NSMAP)
        if node.find(tag(BPMN, "multiInstanceLoopCharacteristics")) is not None
    )


def task_problems(info: HumanTaskInfo, file: str, looped: frozenset[str]) -> Iterator[Problem]:
    """What is wrong with who may work `info` (`looped`: `multi_instance_tasks`)."""

    def problem(message: str) -> Problem:
        return Problem(message, info.element[:200], info.line, file)

    if not (info.groups or info.candidate_users or info.assignee):
        yield problem(NOBODY.format(task=info.name))
    for user in info.candidate_users:
        if is_expression(user):
            yield problem(f"候选人 `{user}` 引用了变量: 候选人 (candidateUsers) 只能是用户名")
        elif len(user) > MAX_NAME:
            yield problem(f"候选人 '{user:.40}…' 过长 ({len(user)} 个字符, 上限 {MAX_NAME})")
    if info.element in looped:
        return  # a 会签/或签 task's `${item}` is checked with its loop (multi_sign.py)
    for group in info.groups:
        why = group_problem(group) if is_expression(group) else None
        if why:
            yield problem(f"办理组 `{group}` {why}")
    if info.assignee and is_expression(info.assignee):
        why = assignee_problem(info.assignee)
        if why:
            yield problem(f"办理人 `{info.assignee}` {why}")
