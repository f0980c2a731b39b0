"""Rule `certificate-cancel`: a task that cancels (注销) a certificate another case issued
(docs/bundles.md, Cancelling another case's certificate).

- `cancels_certificate` names the case data field holding the certificate's number, and comes
  with `cancels_kinds`, the kinds (items[].code of the issuing bundle) the task may cancel: one
  without the other is an error.
- The field is declared by some form of the upload (the start form or a task form): a field
  no form declares is never in the case data, and nothing would ever be cancelled.
- `cancels_kinds` lists at least one kind. The kinds are those of other bundles, so they are
  not looked up here: a number of another kind is refused when the task completes.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn import manifest
from engine.domain.bundle_metadata import CANCELS_CERTIFICATE, CANCELS_KINDS, item_codes

from ..problems import Problem
from .condition_fields import form_fields, suggestion
from .upload import Upload

NAME = "certificate-cancel"


def check(upload: Upload) -> Iterator[Problem]:
    declared: set[str] | None = None
    for path, tree in upload.documents.items():
        for info in manifest.read_human_tasks(tree.getroot()):
            field = info.properties.get(CANCELS_CERTIFICATE)
            kinds = info.properties.get(CANCELS_KINDS)
            if field is None and kinds is None:
                continue
            where = f"任务 {info.name} 的属性"

            def problem(message: str) -> Problem:
                return Problem(message, info.element, info.line, path)  # noqa: B023

            if field is None or not field.strip():
                yield problem(
                    f"{where} {CANCELS_KINDS} 只能与 {CANCELS_CERTIFICATE} (存放待注销证照"
                    "证号的数据字段) 一起使用"
                )
                continue
            field = field.strip()
            if kinds is None:
                yield problem(
                    f"{where} {CANCELS_CERTIFICATE} 需要同时设置 {CANCELS_KINDS}: 允许注销的"
                    "证照种类 (核发事项的 items[].code, 用逗号分隔, 如 business_licence)"
                )
            elif not item_codes(kinds):
                yield problem(
                    f"{where} {CANCELS_KINDS} 应列出允许注销的证照种类 (核发事项的 "
                    "items[].code), 用逗号分隔, 不能为空"
                )
            if declared is None:
                declared = set()
                for schema in upload.forms.values():
                    declared |= form_fields(schema)
            if field not in declared:
                message = (
                    f"{where} {CANCELS_CERTIFICATE} 的字段 `{field}` 没有任何表单声明, "
                    "办件数据里不会有待注销证照的证号"
                )
                if guess := suggestion(field, declared):
                    message += f"; 您是否想写 `{guess}`?"
                yield problem(message)
