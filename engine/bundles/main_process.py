"""Which process of an upload a case runs (the bundle's main process), and the bundle key taken
from it, said so that a designer whose modeler wrote several pools, no `isExecutable`, or ids
starting with `_` (Bizagi, Signavio, Trisotech and the OMG reference files do) knows what to do.

A process counts as executable unless it says `isExecutable="false"`. Choosing automatically, a
process without any element (the empty pool Bizagi adds for its "main participant") is not a
candidate, nor one that a `callActivity` of the upload calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.namespaces import BPMN, tag

from .libraries import is_copied
from .limits import FLOW_NODES
from .metadata import KEY_PATTERN, METADATA_FILE
from .problems import Problem

Documents = dict[str, etree._ElementTree]

# at most this many processes are listed in a message
_LISTED = 8


@dataclass(frozen=True)
class ProcessFound:
    """One `bpmn:process` of the upload, as the choice of the main process sees it."""

    id: str
    name: str
    file: str
    line: int | None
    marked: str | None
    """The `isExecutable` attribute as written, None when it is not."""
    elements: int
    """Its flow elements (tasks, events, gateways, subprocesses) directly inside it."""
    called: bool

    @property
    def executable(self) -> bool:
        return self.marked != "false"

    def describe(self) -> str:
        named = f" ({self.name})" if self.name else ""
        if self.marked is None:
            mark = "未写 isExecutable, 视为可执行"
        elif self.executable:
            mark = f'isExecutable="{self.marked}"'
        else:
            mark = 'isExecutable="false", 不可执行'
        size = f"{self.elements} 个元素" if self.elements else "没有任何元素"
        called = ", 被调用活动调用" if self.called else ""
        return f"'{self.id}'{named}: {mark}, {size}{called}"


def processes(documents: Documents) -> list[ProcessFound]:
    """Every process with an id, in file order."""
    called = {
        node.get("calledElement", "")
        for tree in documents.values()
        for node in tree.getroot().iter(tag(BPMN, "callActivity"))
    }
    found = []
    for path, tree in documents.items():
        for process in tree.getroot().iter(tag(BPMN, "process")):
            process_id = process.get("id")
            if not process_id:
                continue
            found.append(
                ProcessFound(
                    id=process_id,
                    name=(process.get("name") or "").strip(),
                    file=path,
                    line=process.sourceline,
                    marked=process.get("isExecutable"),
                    elements=sum(1 for child in process if child.tag in FLOW_NODES),
                    called=process_id in called,
                )
            )
    return found


def _listing(found: list[ProcessFound]) -> str:
    shown = "; ".join(p.describe() for p in found[:_LISTED])
    more = f"; 另有 {len(found) - _LISTED} 个" if len(found) > _LISTED else ""
    return f"上传中的流程: {shown}{more}"


def choose(documents: Documents, wanted: str | None) -> tuple[str | None, list[Problem]]:
    """The main process's id (None when it cannot be chosen) and the problems of the choice."""
    found = processes(documents)
    if not documents:
        return None, []
    if wanted is not None:
        named = [p for p in found if p.id == wanted]
        if named and named[0].executable:
            return wanted, []
        if named:
            message = (
                f"bundle.json 指定的主流程 '{wanted}' 标为不可执行 (isExecutable=\"false\"): "
                f'请在建模工具中把它设为可执行 (isExecutable="true")'
            )
        else:
            message = f"bundle.json 指定的主流程 '{wanted}' 不存在或不可执行"
        return None, [Problem(f"{message}. {_listing(found)}", file=METADATA_FILE)]
    # a library's file copied in (engine/bundles/libraries.py) never holds the main process
    candidates = [
        p for p in found if p.executable and p.elements and not p.called and not is_copied(p.file)
    ]
    if len(candidates) == 1:
        return candidates[0].id, []
    if candidates:
        ids = "、".join(f"'{p.id}'" for p in candidates[:_LISTED])
        message = (
            f"无法确定主流程: 有 {len(candidates)} 个可执行的流程 ({ids}) 都没有被调用活动调用. "
            f'请在 bundle.json 中写 {{"process": "{candidates[0].id}"}} 指定要运行的那个, '
            f'或在建模工具中把其余流程设为不可执行 (isExecutable="false"). {_listing(found)}'
        )
        return None, [Problem(message, file=METADATA_FILE)]
    if not found:
        return None, [Problem("上传中没有流程 (bpmn:process)", file=next(iter(documents)))]
    real = [p for p in found if p.elements and not p.called]
    if not real:
        first = found[0]
        message = f"流程中没有任何元素: 请画出开始事件、任务和结束事件后再上传. {_listing(found)}"
        return None, [Problem(message, first.id, first.line, first.file)]
    first = real[0]
    message = (
        f"没有可执行的流程 (isExecutable): 请在建模工具中把要运行的流程 (如 '{first.id}') "
        f'设为可执行 (isExecutable="true"). {_listing(found)}'
    )
    return None, [Problem(message, first.id, first.line, first.file)]


def suggested_key(process_id: str) -> str:
    """A key the pattern accepts, made from a process id it does not."""
    key = re.sub(r"[^A-Za-z0-9_.-]+", "-", process_id)
    key = re.sub(r"^[^A-Za-z0-9]+", "", key)[:64].rstrip("-")
    return key or "my-bundle"


def key_problem(main: str, documents: Documents) -> Problem | None:
    """The problem of a main process id that cannot be the bundle key (bundle.json has none)."""
    if re.match(KEY_PATTERN, main):
        return None
    where = next((p for p in processes(documents) if p.id == main), None)
    example = json.dumps({"key": suggested_key(main)})
    message = (
        f"事项包标识取自主流程的 id '{main}', 但标识只能以字母或数字开头, 只能包含字母、数字、"
        f"_ . -, 最长 64 个字符: 请在 bundle.json 中写 {example} 指定标识 (上传 zip, 与 .bpmn "
        f"文件放在一起), 或在建模工具中把流程 id 改成这样的形式"
    )
    return Problem(message, main, where.line if where else None, where.file if where else None)
