"""A refused submit keeps what was typed (issue 17 · B).

`parse_keeping` reads a posted form as `parse_form` does, but an oversize file no longer throws
the rest away: that field gets its error ("文件不能超过 2 MB") and every other value is kept.
Files that were accepted are held on the server for a while (`hold`) and the page carries a
token for each in a hidden field (`held:<token>`), so the clerk does not choose them again; the
next submit turns the tokens back into the files (`resolve_held`). A held file is readable only
by the user who uploaded it, and is dropped after an hour."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import Invalid
from engine.forms import is_attachment

from ..forms_render import AttachmentTooLarge, describe_data_url, parse_form, undeclared_fields

HELD_PREFIX = "held:"
# the page's own inputs besides the form's fields: the form's one-time token (a form sent twice
# starts one case) and "仍然收件" past the duplicate warning
FORM_TOKEN = "form_token"
ANYWAY = "anyway"
# 加签 after me: the task form's 提交并加签 posts these too (web/pages/countersign.py)
COUNTERSIGN_CONTROLS = frozenset({"countersign_position", "countersign_to", "countersign_reason"})
PAGE_CONTROLS = frozenset({FORM_TOKEN, ANYWAY}) | COUNTERSIGN_CONTROLS
HELD_SECONDS = 3600
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _folder() -> Path:
    folder = Path(
        os.environ.get("LIANBAN_HELD_UPLOADS_DIR")
        or Path(tempfile.gettempdir()) / "lianban-held-uploads"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _owner(user: str) -> str:
    return hashlib.sha256(user.encode()).hexdigest()


def _sweep(folder: Path) -> None:
    limit = time.time() - HELD_SECONDS
    for path in folder.glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def hold(user: str, data_url: str) -> str:
    """Keep an accepted upload for the next submit; its token."""
    folder = _folder()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.json"
    path.write_text(json.dumps({"owner": _owner(user), "data_url": data_url}), encoding="utf-8")
    return token


def take(user: str, token: str) -> str | None:
    """The upload held under `token` for `user`; None when unknown, expired or someone else's."""
    if not token or set(token) - _TOKEN_CHARS or len(token) > 64:
        return None
    path = _folder() / f"{token}.json"
    try:
        if path.stat().st_mtime < time.time() - HELD_SECONDS:
            return None
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(held, dict) or held.get("owner") != _owner(user):
        return None
    value = held.get("data_url")
    return value if isinstance(value, str) else None


class _Without:
    """request.files without the fields named (their files were refused)."""

    def __init__(self, files: Any, skip: set[str]) -> None:
        self.files, self.skip = files, skip

    def get(self, name: str) -> Any:
        return None if name in self.skip or self.files is None else self.files.get(name)

    def keys(self) -> Any:
        return [] if self.files is None else [k for k in self.files.keys() if k not in self.skip]


def _rewind(files: Any) -> None:
    for upload in files.values() if files is not None else ():
        try:
            upload.stream.seek(0)
        except (AttributeError, OSError, ValueError):
            pass


def parse_keeping(
    schema: Mapping[str, Any] | None, form: Any, files: Any, limit: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form as data, and {field: message} for each file over `limit` (left out)."""
    skip: set[str] = set()
    errors: dict[str, str] = {}
    while True:
        try:
            return parse_form(schema, form, _Without(files, skip), attachment_bytes=limit), errors
        except AttachmentTooLarge as err:
            if err.field in skip:  # cannot happen: a skipped field has no file
                raise
            skip.add(err.field)
            errors[err.field] = f"{err.message}, 请重新选择较小的文件"
            _rewind(files)


def parse_page_form(
    schema: Mapping[str, Any] | None, form: Any, files: Any, limit: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """`parse_keeping` for a page's form: a posted name that is no field of the form (a forged
    request, or a page older than the form) is refused, never silently dropped."""
    unknown = [n for n in undeclared_fields(schema, form, files) if n not in PAGE_CONTROLS]
    if unknown:
        raise Invalid(
            "表单填写有误",
            [{"field": name, "message": f"表单没有字段 {name}, 不能填写"} for name in unknown],
        )
    return parse_keeping(schema, form, files, limit)


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def form_token_of(form: Any) -> str | None:
    """The posted one-time token, when it looks like one `new_form_token` made."""
    token = form.get(FORM_TOKEN, "")
    ok = isinstance(token, str) and 16 <= len(token) <= 64 and not set(token) - _TOKEN_CHARS
    return token if ok else None


def _attachments(schema: Mapping[str, Any] | None, prefix: str = "") -> list[tuple[str, ...]]:
    """The paths (keys from the top) of the schema's file fields."""
    found: list[tuple[str, ...]] = []
    for key, prop in ((schema or {}).get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("type") == "object" or "properties" in prop:
            found += [(key, *inner) for inner in _attachments(prop)]
        elif is_attachment(prop):
            found.append((key,))
    return found


def _at(data: dict[str, Any], path: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
    here: Any = data
    for key in path[:-1]:
        here = here.get(key) if isinstance(here, dict) else None
    return (here if isinstance(here, dict) else None), path[-1]


def resolve_held(
    schema: Mapping[str, Any] | None, data: dict[str, Any], user: str
) -> dict[str, str]:
    """Held tokens in `data` turned back into their files, in place; {field: message} for a
    token that is gone (the file must be chosen again)."""
    errors: dict[str, str] = {}
    for path in _attachments(schema):
        parent, key = _at(data, path)
        value = parent.get(key) if parent is not None else None
        if parent is None or not isinstance(value, str) or not value.startswith(HELD_PREFIX):
            continue
        found = take(user, value[len(HELD_PREFIX) :])
        if found is None:
            del parent[key]
            errors[".".join(path)] = "上次上传的文件已过期, 请重新选择"
        else:
            parent[key] = found
    return errors


def held_for_page(
    schema: Mapping[str, Any] | None, data: dict[str, Any], user: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The values to show again without their files, and each accepted file held for the next
    submit: {name, token, file_name, size}."""
    values = json.loads(json.dumps(data))
    held: list[dict[str, Any]] = []
    for path in _attachments(schema):
        parent, key = _at(values, path)
        value = parent.get(key) if parent is not None else None
        if parent is None or not isinstance(value, str) or not value.startswith("data:"):
            continue
        file_name, size = describe_data_url(value)
        held.append(
            {
                "name": ".".join(path),
                "token": hold(user, value),
                "file_name": file_name,
                "size": size,
            }
        )
        del parent[key]
    return values, held
