"""The 办事指南 of a bundle (bundle.json's `guide`, the 事项清单 facts) and the files its materials
offer (samples and blank forms): the schema, the files an upload may carry for them, and the
check that a public guide states every entry the applicant needs.

A bundle.json with a `guide` is a public service: the upload is refused unless the guide is
complete. A bundle without one is an internal or test process: accepted, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from .problems import Problem

_TEXT = {"type": "string", "maxLength": 2000}
_SHORT = {"type": "string", "maxLength": 200}

# Empty strings pass the schema: an entry left empty is said by the check below as missing
# (办事指南缺少 …), as an absent one is.
GUIDE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "maxLength": 64},
        "implementing_body": {"type": "string", "maxLength": 500},
        "legal_basis": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "law": {"type": "string", "maxLength": 500},
                    "articles": {"type": "string", "maxLength": 500},
                    "item": {"type": "string", "maxLength": 200},
                },
            },
        },
        "fee": {"type": "string", "maxLength": 500},
        "places": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": _SHORT,
                    "address": {"type": "string", "maxLength": 500},
                    "hours": _SHORT,
                },
            },
        },
        "phones": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "consult": {"type": "string", "maxLength": 50},
                "complaint": {"type": "string", "maxLength": 50},
            },
        },
        "scope": _TEXT,
        "results": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"name": _SHORT, "delivery": {"type": "string", "maxLength": 500}},
            },
        },
        "conditions": {"type": "array", "maxItems": 100, "items": _TEXT},
        # for a service the law sets no limit for (公共服务, 行政确认): says so in the 法定时限 entry
        "statutory_limit_note": {"type": "string", "maxLength": 500},
    },
}

# The files a material may offer as its sample (样表) or blank form (空白表格), by extension:
# what the public guide serves them as. Nothing else is stored or served.
ATTACHMENT_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ATTACHMENT_SUFFIXES = tuple(ATTACHMENT_TYPES)
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENT_PATH = 300
MATERIAL_FILE_KEYS = {"sample": "样表", "blank_form": "空白表格"}
MATERIAL_FILE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_ATTACHMENT_PATH}


def is_attachment(path: str) -> bool:
    return path.lower().endswith(ATTACHMENT_SUFFIXES)


def media_type(path: str) -> str | None:
    """The Content-Type a guide file is served as; None: not a file a guide serves."""
    return ATTACHMENT_TYPES.get(PurePosixPath(path.lower()).suffix)


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a file inside the upload (None: it can)."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or ":" in parts[0]:
        return "应为事项包内的相对路径, 不能是绝对路径"
    if ".." in parts or "." in parts or "" in parts:
        return "不能包含 '..'、'.' 或空的路径段"
    if any(ord(c) < 32 for c in path):
        return "不能包含控制字符"
    if media_type(path) is None:
        return "只能是 PDF、PNG、JPEG、DOCX 或 XLSX 文件 (" + "、".join(ATTACHMENT_SUFFIXES) + ")"
    return None


# What a public guide must state: (label, where in bundle.json) in the order the page shows them.
_REQUIRED_TEXT: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
    ("事项名称", "name", lambda raw: raw.get("name")),
    ("事项编码", "guide.code", lambda raw: _guide(raw).get("code")),
    ("实施主体", "guide.implementing_body", lambda raw: _guide(raw).get("implementing_body")),
    ("收费标准", "guide.fee", lambda raw: _guide(raw).get("fee")),
    (
        "咨询电话",
        "guide.phones.consult",
        lambda raw: _obj(_guide(raw).get("phones")).get("consult"),
    ),
    (
        "投诉电话",
        "guide.phones.complaint",
        lambda raw: _obj(_guide(raw).get("phones")).get("complaint"),
    ),
    ("适用范围", "guide.scope", lambda raw: _guide(raw).get("scope")),
)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _guide(raw: dict[str, Any]) -> dict[str, Any]:
    return _obj(raw.get("guide"))


def _stated(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _has_limit(raw: dict[str, Any], kind: str) -> bool:
    """A 法定 (`statutory`) or 承诺 (`promised`) limit: the bundle's time_limits, or every item's
    own (an item may promise in hours instead: `promised_hours`)."""
    if isinstance(_obj(raw.get("time_limits")).get(f"{kind}_workdays"), int):
        return True
    items = [i for i in _list(raw.get("items")) if isinstance(i, dict)]
    keys = [f"{kind}_workdays"] + (["promised_hours"] if kind == "promised" else [])
    return bool(items) and all(any(isinstance(i.get(k), int) for k in keys) for i in items)


def missing_entries(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """The entries a guide lacks, as (label, where): empty when it states them all."""
    missing = [(label, where) for label, where, read in _REQUIRED_TEXT if not _stated(read(raw))]
    guide = _guide(raw)
    laws = [b for b in _list(guide.get("legal_basis")) if isinstance(b, dict)]
    if not any(_stated(b.get("law")) and _stated(b.get("articles")) for b in laws):
        missing.append(("设定依据 (至少一部法律法规及其条款)", "guide.legal_basis"))
    places = [p for p in _list(guide.get("places")) if isinstance(p, dict)]
    if not any(_stated(p.get("address")) and _stated(p.get("hours")) for p in places):
        missing.append(("办理地点和办公时间 (至少一处, 含地址和办公时间)", "guide.places"))
    results = [r for r in _list(guide.get("results")) if isinstance(r, dict)]
    if not any(_stated(r.get("name")) for r in results):
        missing.append(("办理结果 (至少一项证照或批文)", "guide.results"))
    materials = [m for m in _list(raw.get("materials")) if isinstance(m, dict)]
    if not materials:
        missing.append(("申请材料 (至少一项)", "materials"))
    if not _has_limit(raw, "statutory") and not _stated(guide.get("statutory_limit_note")):
        missing.append(
            (
                "法定时限",
                "time_limits.statutory_workdays、各事项的 statutory_workdays"
                " 或 guide.statutory_limit_note",
            )
        )
    if not _has_limit(raw, "promised"):
        missing.append(
            (
                "承诺时限",
                "time_limits.promised_workdays 或各事项的 promised_workdays/promised_hours",
            )
        )
    return missing


def in_upload(metadata_path: str, path: str) -> str:
    """Where a material's file is in the upload: its path is relative to bundle.json's folder
    (`restaurant/bundle.json` names `files/a.pdf`, the upload holds `restaurant/files/a.pdf`)."""
    folder = metadata_path.rsplit("/", 1)[0] + "/" if "/" in metadata_path else ""
    return folder + path


def material_files(raw: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Each (material index, key, path) a material names as its sample or blank form."""
    found = []
    for i, material in enumerate(_list(raw.get("materials"))):
        for key in MATERIAL_FILE_KEYS:
            path = material.get(key) if isinstance(material, dict) else None
            if isinstance(path, str):
                found.append((i, key, path))
    return found


def check(raw: Any, files: dict[str, bytes], file: str) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of bundle.json's guide and its materials' files, `files` the upload's
    files and `file` bundle.json's path in it."""
    if not isinstance(raw, dict):
        return [], []
    problems = []
    for i, key, path in material_files(raw):
        where = f"materials/{i}/{key}"
        label = MATERIAL_FILE_KEYS[key]
        said = path_problem(path)
        stored = in_upload(file, path)
        if said is None and stored not in files:
            said = "上传的事项包中没有这个文件 (路径相对于 bundle.json 所在的文件夹)"
        elif said is None and len(files[stored]) > MAX_ATTACHMENT_BYTES:
            said = f"文件过大 (上限 {MAX_ATTACHMENT_BYTES} 字节)"
        if said is not None:
            problems.append(Problem(f"材料的{label} {where} '{path:.300}' {said}", file=file))
    codes = {str(i.get("code")) for i in _list(raw.get("items")) if isinstance(i, dict)}
    for i, basis in enumerate(_list(_guide(raw).get("legal_basis"))):
        item = basis.get("item") if isinstance(basis, dict) else None
        if isinstance(item, str) and item and item not in codes:
            problems.append(
                Problem(
                    f"设定依据 guide/legal_basis/{i}/item '{item:.200}' 不是本事项包的事项编码"
                    f" (items 中有: {'、'.join(sorted(codes)) or '无'})",
                    file=file,
                )
            )
    if "guide" not in raw:
        warning = Problem(
            "没有办事指南 (guide): 按内部或测试流程处理, 公开的办事指南页不会列出实施主体、"
            "设定依据、收费、地点和电话等信息; 对外办理的事项请在 bundle.json 中填写 guide",
            file=file,
            severity="warning",
        )
        return problems, [warning]
    for label, where in missing_entries(raw):
        problems.append(Problem(f"办事指南缺少 {label} ({where})", file=file))
    return problems, []
