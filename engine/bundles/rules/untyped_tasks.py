"""Rule `untyped-tasks`: say which untyped tasks (`bpmn:task`) a case passes straight through.

An untyped task that names nobody to work it is not a human task: the engine completes it as
soon as it is reached, as Camunda does (engine/bpmn/untyped_tasks.py). A designer who drew the
palette's plain "Task" (bpmn.io's default) may have meant a person to do it; the upload is
stored, with a warning naming each such task. A lane alone does not make it a human task (the
warning says so); `camunda:candidateGroups`, candidate users or an assignee on it do.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn import manifest
from engine.bpmn.assignment import Reader
from engine.bpmn.namespaces import BPMN, tag

from ..problems import Problem
from .upload import Upload

NAME = "untyped-tasks"


def check(upload: Upload) -> Iterator[Problem]:
    for path, tree in upload.documents.items():
        root = tree.getroot()
        lanes = manifest.lanes_by_element(root)
        people = Reader(root)
        for node in root.iter(tag(BPMN, manifest.UNTYPED_TASK)):
            if manifest.is_human_task(node, people):
                continue
            element = node.get("id") or ""
            name = (node.get("name") or "").strip()
            label = f"'{name}' ({element})" if name else f"'{element}'"
            message = (
                f"任务 {label} 没有类型 (bpmn:task), 办件将直接经过它; 如需人工办理请改为用户任务"
            )
            lane = lanes.get(element)
            if lane:
                message += f" (它所在的泳道 '{lane}' 不会使它成为人工任务)"
            yield Problem(message, element or None, node.sourceline, path, "warning")
