"""Rule `item-conditions`: the items that apply to some cases only, and the tasks that issue or
revoke the certificates of some items only (docs/bundles.md, Items that apply).

- `items[].applies_if` may read only fields the upload declares somewhere: a form (start form
  or task form), a decision's output, a 会签/或签 outcome or the applicant fields of
  bundle.json. A field declared nowhere is never in the case data: an error. (Whether it
  compiles is checked with the rest of bundle.json: engine/bundles/metadata.py.)
- `materials[].applies_if` likewise; `materials[].item` names an item of the bundle, and a
  material says one of the two, not both. A certificate's `issuer_field` is a declared field.
- A task's `certificate_items` ("a,b") names items of the bundle that have a certificate, and
  only on a task with `certificate_action`. Without a bundle.json (or with one refused) the
  codes are not checked: a task naming items then issues nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.bpmn import manifest
from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bpmn.namespaces import BPMN, tag
from engine.domain.bundle_metadata import CERTIFICATE_ITEMS, item_codes
from engine.expressions import ExpressionError, compile_expression

from .. import multi_sign
from ..metadata import METADATA_FILE
from ..problems import Problem
from .condition_fields import Analysis, suggestion
from .upload import Upload

NAME = "item-conditions"


def _declared(upload: Upload) -> set[str]:
    found = Analysis(upload).everywhere()
    for tree in upload.documents.values():
        for loop in tree.getroot().iter(tag(BPMN, "multiInstanceLoopCharacteristics")):
            owner = loop.getparent()
            if owner is not None and owner.get("id"):
                found |= multi_sign.outputs(owner.get("id") or "")
    return found


def _undeclared(where: str, condition: str, declared: set[str]) -> Iterator[Problem]:
    """A condition's fields that nothing of the upload declares."""
    try:
        reads = compile_expression(condition, ENGINE_FUNCTIONS).names
    except ExpressionError:
        return  # refused with bundle.json (engine/bundles/metadata.py)
    for name in sorted(reads - declared):
        message = (
            f"元数据字段 {where} 读取的字段 `{name}` "
            "没有任何表单、决策表或 bundle.json 声明, 办件数据里不会有它"
        )
        if guess := suggestion(name, declared):
            message += f"; 您是否想写 `{guess}`?"
        yield Problem(message, file=METADATA_FILE)


def _material_problems(upload: Upload, declared: set[str]) -> Iterator[Problem]:
    """`materials[].applies_if` reads declared fields; `materials[].item` names an item."""
    meta = upload.metadata
    known = {i.code for i in meta.items}
    for i, material in enumerate(meta.materials):
        where = f"materials/{i}"
        if material.applies_if is not None and material.item is not None:
            yield Problem(
                f"元数据字段 {where} (材料 {material.name}) 的 applies_if 和 item 只能写一个: "
                "item 表示该事项适用时才需要这份材料",
                file=METADATA_FILE,
            )
        if material.applies_if is not None:
            label = f"{where}/applies_if (材料 {material.name})"
            yield from _undeclared(label, material.applies_if, declared)
        if material.item is not None and material.item not in known:
            message = (
                f"元数据字段 {where}/item (材料 {material.name}) 中的 '{material.item}' "
                "不是 bundle.json 中任何事项的编码"
            )
            if guess := suggestion(material.item, known):
                message += f"; 您是否想写 '{guess}'?"
            yield Problem(message, file=METADATA_FILE)


def check(upload: Upload) -> Iterator[Problem]:
    meta = upload.metadata
    issuer_fields = [
        (i, item)
        for i, item in enumerate(meta.items)
        if item.certificate and item.certificate.issuer_field
    ]
    if meta.conditional_items or meta.conditional_materials or issuer_fields:
        declared = _declared(upload)
        for i, item in enumerate(meta.items):
            if item.applies_if is not None:
                label = f"items/{i}/applies_if (事项 {item.name})"
                yield from _undeclared(label, item.applies_if, declared)
        yield from _material_problems(upload, declared)
        for i, item in issuer_fields:
            field = item.certificate.issuer_field if item.certificate else None
            if field and field not in declared:
                message = (
                    f"元数据字段 items/{i}/certificate/issuer_field (事项 {item.name}) 的字段 "
                    f"`{field}` 没有任何表单、决策表或 bundle.json 声明, 办件数据里不会有它"
                )
                if guess := suggestion(field, declared):
                    message += f"; 您是否想写 `{guess}`?"
                yield Problem(message, file=METADATA_FILE)
    with_certificate = {i.code for i in meta.items if i.certificate is not None}
    known = {i.code for i in meta.items}
    for path, tree in upload.documents.items():
        for info in manifest.read_human_tasks(tree.getroot()):
            text = info.properties.get(CERTIFICATE_ITEMS)
            if text is None:
                continue
            where = f"任务 {info.name} 的属性 {CERTIFICATE_ITEMS}"
            if info.properties.get("certificate_action") is None:
                yield Problem(
                    f"{where} 只能用在有 certificate_action (issue 发证或 revoke 撤销) 的任务上",
                    info.element,
                    info.line,
                    path,
                )
            codes = item_codes(text)
            if not meta.raw:
                continue  # no bundle.json, or one refused (said with it): nothing to check against
            if not codes:
                yield Problem(
                    f"{where} 应列出事项编码 (bundle.json items[].code), 用逗号分隔",
                    info.element,
                    info.line,
                    path,
                )
            for code in codes:
                if code not in known:
                    message = f"{where} 中的 '{code}' 不是 bundle.json 中任何事项的编码"
                    if guess := suggestion(code, known):
                        message += f"; 您是否想写 '{guess}'?"
                elif code not in with_certificate:
                    message = f"{where} 中的事项 '{code}' 没有证照 (items[].certificate)"
                else:
                    continue
                yield Problem(message, info.element, info.line, path)
