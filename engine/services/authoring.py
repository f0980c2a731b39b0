"""What the designer's editor asks while a bundle is being drawn (its properties panel): the groups
that exist with their member counts, the fields a condition may read at an element of the draft,
and a condition checked as it is typed. Queries only: nothing is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.bundles import hints
from engine.bundles.compiler import read_upload
from engine.bundles.rules import condition_fields
from engine.bundles.source import ACCEPTED_SUFFIXES, MAX_FILE_BYTES, MAX_FILES, BundleSource
from engine.domain.users import User
from engine.errors import Invalid
from engine.expressions import check_expression, compile_expression
from engine.expressions.limits import MAX_SOURCE_CHARS

from .publishing import require_designer

if TYPE_CHECKING:
    from .context import Services

MAX_ELEMENT_CHARS = 200
MAX_FIELD_NAMES = 2000


def _problem(message: str, field: str) -> Invalid:
    return Invalid(message, [{"field": field, "message": message, "element": None}])


def groups(svc: Services, actor: User) -> list[dict[str, Any]]:
    """Every group that has members, with how many, by name."""
    require_designer(actor)
    with svc.uow() as uow:
        sizes = uow.users.group_sizes()
    return [{"name": name, "members": count} for name, count in sorted(sizes.items())]


def draft_source(files: object) -> BundleSource:
    """The draft's files ({path: text}) as an upload, bounded like one (files a bundle does not
    read are left out)."""
    if not isinstance(files, dict):
        raise _problem("files 必须是 {路径: 文本} 形式的对象", "files")
    if len(files) > MAX_FILES:
        raise _problem(f"文件过多 ({len(files)} 个, 上限 {MAX_FILES})", "files")
    found: dict[str, bytes] = {}
    for path, text in files.items():
        if not isinstance(text, str):
            raise _problem(f"文件 '{path}' 的内容必须是文本", "files")
        parts = path.split("/")
        if path.startswith("/") or ".." in parts or "" in parts or "\\" in path:
            raise _problem(f"文件路径 '{path}' 无效", "files")
        data = text.encode("utf-8", errors="replace")
        if len(data) > MAX_FILE_BYTES:
            raise _problem(f"文件 '{path}' 过大 (上限 {MAX_FILE_BYTES} 字节)", "files")
        if path.lower().endswith(ACCEPTED_SUFFIXES):
            found[path] = data
    return BundleSource("draft", found)


def fields(svc: Services, actor: User, files: object, element: object) -> dict[str, Any]:
    """The fields a condition at `element` (a sequence flow, or a flow node) may read in the
    draft: declared by the start form and by the forms (and decisions) of every task that runs
    on every path before it, subprocesses followed (engine/bundles/rules/condition_fields.py).
    `complete`: every element on those paths has a form, so nothing else can be there. An
    element nothing reaches yet (a diagram being drawn) is offered every field of the draft,
    not complete."""
    require_designer(actor)
    if not isinstance(element, str) or not element or len(element) > MAX_ELEMENT_CHARS:
        raise _problem("element 必须是流程图中元素的标识", "element")
    upload = read_upload(draft_source(files), svc.forms)
    if upload is None:
        raise _problem("流程过大, 无法分析字段 (见上传限制)", "files")
    analysis = condition_fields.Analysis(upload)
    known = analysis.at(element)
    if known is None:
        names, complete = frozenset(analysis.everywhere()), False
    else:
        names, complete = known
    details = condition_fields.field_details(upload)
    listed = []

    def order(name: str) -> tuple[bool, str]:  # bundle.json's applicant data after the forms'
        info = details.get(name)
        return (info is None or info.form == "bundle.json", name)

    for name in sorted(names, key=order):
        info = details.get(name)
        listed.append(
            {
                "name": name,
                "title": info.title if info else "",
                "type": info.type if info else "",
                "form": info.form if info else "",
            }
        )
    return {"fields": listed, "complete": complete, "reached": known is not None}


def check(expression: object, names: object) -> dict[str, Any]:
    """A condition checked as the designer types it: valid in the expression language (the
    error with its 0-based offset and a hint), and, given the fields available there, each name
    it reads that is not among them with the field it most likely means."""
    if not isinstance(expression, str):
        raise _problem("expression 必须是文本", "expression")
    if len(expression) > MAX_SOURCE_CHARS:
        message = f"条件过长 ({len(expression)} 个字符, 上限 {MAX_SOURCE_CHARS})"
        error: dict[str, Any] = {"message": message, "offset": None, "hint": ""}
        return {"ok": False, "error": error, "unknown": []}
    if names is not None and (
        not isinstance(names, list)
        or len(names) > MAX_FIELD_NAMES
        or not all(isinstance(n, str) for n in names)
    ):
        raise _problem(f"fields 必须是字段名的列表 (至多 {MAX_FIELD_NAMES} 个) 或 null", "fields")
    text = expression.strip()
    if not text:
        error = {"message": "条件表达式为空", "offset": 0, "hint": ""}
        return {"ok": False, "error": error, "unknown": []}
    problem = check_expression(text, ENGINE_FUNCTIONS)
    if problem is not None:
        offset = problem.offset
        if offset is not None:  # an offset into the stripped text, as the designer typed it
            offset += len(expression) - len(expression.lstrip())
        hint = hints.condition_hint(text).removeprefix("; ")
        error = {"message": problem.message, "offset": offset, "hint": hint}
        return {"ok": False, "error": error, "unknown": []}
    unknown = []
    if names is not None:
        known = set(names)
        reads = compile_expression(text, ENGINE_FUNCTIONS).required  # get("x", ...) may lack x
        for name in sorted(reads - known):
            unknown.append({"name": name, "suggestion": condition_fields.suggestion(name, known)})
    return {"ok": not unknown, "error": None, "unknown": unknown}
