"""SpiffWorkflow's parse errors, said in plain Chinese.

SpiffWorkflow parses the main process after our own checks (engine/bundles/compiler.py) and
raises `ValidationException`s in English, some with Python's words in them. The shapes its
parser raises for files other modelers write are matched here and said again in Chinese with
the element; anything else keeps SpiffWorkflow's text after a Chinese lead-in, so nothing is
lost. Errors that only repeat what our checks already said are dropped (`duplicates`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]


def _where(element: str) -> str:
    return f" '{element}'" if element else ""


_RULES: list[_Rule] = [
    (
        re.compile(r"The process '([^']*)' was not found"),
        lambda m, e: (
            f"调用活动{_where(e)} 调用的流程 '{m[1]}' 不在上传内容中: "
            "请把定义它的 .bpmn 文件一起放进 zip 上传, 或改正 calledElement"
        ),
    ),
    (
        re.compile(r'No "calledElement" attribute'),
        lambda m, e: f"调用活动{_where(e)} 没有指定要调用的流程 (calledElement)",
    ),
    (
        re.compile(r"A multiinstance task must specify (?:exactly one of|a) cardinality"),
        lambda m, e: (
            f"多实例任务{_where(e)} 需要且只能指定一种实例来源: 数量 (loopCardinality) "
            "或数据集合 (loopDataInputRef)"
        ),
    ),
    (
        re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)"),
        lambda m, e: f"子流程{_where(e)} 需要恰好一个开始事件, 现有 {m[1]} 个",
    ),
    (
        re.compile(r"A SubWorkflow Must contain an End event"),
        lambda m, e: f"子流程{_where(e)} 没有结束事件",
    ),
    (
        re.compile(r"Multiple outgoing flows are not supported for tasks of type"),
        lambda m, e: (
            f"元素{_where(e)} 有多条出口连线: 本系统不支持从任务或事件直接分叉, "
            "请在它后面加一个网关 (并行网关表示同时进行, 排他网关表示按条件选一条)"
        ),
    ),
    (
        re.compile(r"Data Store with name (.*) has no implementation"),
        lambda m, e: f"暂不支持数据存储 (dataStore) '{m[1].strip()}': 请删去它和它的数据关联",
    ),
    (
        re.compile(r"Cannot resolve (dataInputAssociation|dataOutputAssociation)"),
        lambda m, e: f"元素{_where(e)} 的数据关联 ({m[1]}) 指向的数据对象不存在或不受支持",
    ),
    (
        re.compile(r"Time Specification Error"),
        lambda m, e: (
            f"定时器{_where(e)} 没有可用的时间设置: 请写 timeDate (日期)、"
            "timeDuration (时长, 如 PT10M) 或 timeCycle (周期, 如 R3/PT1H) 之一"
        ),
    ),
    (  # SpiffWorkflow fails on its own message when a ref names no such definition
        re.compile(
            r"Expected (?:an|a) (error|Escalation|Message|Signal) node|"
            r"raise_validation_exception\(\) got an unexpected keyword argument"
        ),
        lambda m, e: (
            f"事件{_where(e)} 引用的"
            + {"error": "错误 (bpmn:error)", "Escalation": "升级 (bpmn:escalation)"}.get(
                m[1] or "", "错误、升级或信号 (bpmn:error / bpmn:escalation / bpmn:signal)"
            )
            + " 定义不存在: 请在 bpmn:definitions 下定义它, 或删去 errorRef/escalationRef/signalRef"
        ),
    ),
    (
        re.compile(r"There is no support implemented for this task type"),
        lambda m, e: (
            f"暂不支持元素{_where(e)} 的类型 (如复杂网关 complexGateway): "
            "请改用排他网关、并行网关或包容网关"
        ),
    ),
    (
        re.compile(r"A loopMaximum or loopCondition must be specified for Loop Tasks"),
        lambda m, e: (
            f"循环任务{_where(e)} (standardLoopCharacteristics) 需要循环条件 "
            "(loopCondition) 或最多次数 (loopMaximum), 否则会无限循环"
        ),
    ),
    (
        re.compile(r"No Script Provided"),
        lambda m, e: f"元素{_where(e)} 需要脚本才能运行: 上传的流程不能包含代码",
    ),
]

# SpiffWorkflow messages that only repeat a problem our own checks have already reported
_DUPLICATES = (re.compile(r"Non-default exclusive outgoing sequence flow without condition"),)


def duplicates(message: str) -> bool:
    """Whether a SpiffWorkflow parse error repeats one of our own checks' problems."""
    return any(p.search(message) for p in _DUPLICATES)


def in_chinese(message: str, element: str | None) -> str:
    """A SpiffWorkflow parse error in plain Chinese (its own text kept when not recognised)."""
    for pattern, say in _RULES:
        found = pattern.search(message)
        if found:
            return say(found, element or "")
    return f"流程无法解析: {message.strip().rstrip('.')}"
