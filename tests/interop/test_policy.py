"""What is refused by policy, as each modeler writes it: no code from an upload ever runs and
a case never calls out of the engine. Each refusal names the construct in Chinese, and nothing
else about the file is said in SpiffWorkflow's English."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import Interop

FILES = Path(__file__).parent / "files" / "policy"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "flowable_task_listener.bpmn20.xml",
            ["不允许任务监听器: 上传的流程不能包含代码 (taskListener)"],
        ),
        (
            "flowable_expression_service.bpmn20.xml",
            [
                "不支持服务任务: 流程不能调用外部服务 (serviceTask)",
                "不允许 flowable:expression",
                "不支持 flowable:resultVariable",
            ],
        ),
        (
            "camunda_execution_listener.bpmn",
            [
                "不允许执行监听器: 上传的流程不能包含代码 (executionListener)",
                "不允许脚本: 上传的流程不能包含代码 (script)",
            ],
        ),
        (
            "spiffarena_prescript.bpmn",
            ["不允许前置脚本 (preScript): 上传的流程不能包含代码 (preScript)"],
        ),
    ],
)
def test_code_and_calls_out_are_refused_by_name(
    interop: Interop, name: str, expected: list[str]
) -> None:
    messages = interop.refused(name, (FILES / name).read_bytes())
    assert sorted(messages) == sorted(expected)
    assert interop.client.get("/api/v1/bundles", headers=interop.designer).json["bundles"] == []
