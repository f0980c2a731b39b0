"""评论 (comments), issue 18 · 9: any participant adds a comment to a case's timeline, with
attachments, without changing the case's data, status, tasks or time limit.

Who: clerks (every clerk can open every case page, copied readers among them) and
administrators; auditors read comments but do not write them. A comment on an ended case
(办结, 撤销) is allowed: questions about a result come after it. It is the case's
`case_commented` event {"text", "attachments"}, written under the case lock like every change.

Attachments are kept as the forms keep uploaded files (web/forms_render.py): data URL strings
`data:<type>;name=<url-quoted file name>;base64,<content>`, each at most the server's
`InputLimits.attachment_bytes` decoded (2 MB by default, `LIANBAN_MAX_ATTACHMENT_BYTES`), at most
`MAX_FILES` a comment; they are served for download by the case page's attachment route like the
forms' files (engine/services/case_record.py `attachment`, field = the file's index).
Replay leaves them alone: a comment is not an engine event and changes no state.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import unquote

from engine.domain.model import CaseEvent, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid

from .context import Services
from .steps import retrying, save

TEXT_MAX_CHARS = 2000
MAX_FILES = 5
_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.S)


def _problem(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": field, "message": message}])


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _problem("text", "请填写评论内容")
    value = text.strip()
    if len(value) > TEXT_MAX_CHARS:
        raise _problem("text", f"评论不能超过 {TEXT_MAX_CHARS} 个字 (现有 {len(value)} 个字)")
    return value


def describe_file(value: Any) -> dict[str, Any] | None:
    """{"type", "name", "size"} of an attachment kept as a data URL; None if it is not one."""
    if not isinstance(value, str):
        return None
    found = _DATA_URL.match(value)
    if not found:
        return None
    name = ""
    for param in found.group(2).split(";"):
        if param.startswith("name="):
            name = unquote(param[5:])
    body = value[found.end() :]
    if "base64" in found.group(2):
        try:
            size = len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            return None
    else:
        size = len(unquote(body).encode("utf-8"))
    return {
        "type": found.group(1) or "application/octet-stream",
        "name": name or "附件",
        "size": size,
    }


def _attachments(svc: Services, attachments: Any) -> list[str]:
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        raise _problem("attachments", "附件须为列表 (每个附件一个 data URL)")
    if len(attachments) > MAX_FILES:
        raise _problem(
            "attachments", f"一条评论最多 {MAX_FILES} 个附件 (现有 {len(attachments)} 个)"
        )
    limit = svc.limits.attachment_bytes
    for index, value in enumerate(attachments):
        found = describe_file(value)
        if found is None:
            raise _problem(
                f"attachments.{index}",
                "附件须为 data URL (data:<类型>;name=<文件名>;base64,<内容>)",
            )
        if found["size"] > limit:
            size = f"{limit / 1024 / 1024:g} MB"
            raise _problem(f"attachments.{index}", f"附件「{found['name']}」超过 {size}")
    return list(attachments)


def _require_viewer(user: User) -> None:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")


def comment(
    svc: Services, user: User, case_id: int, text: Any, attachments: Any = None
) -> dict[str, Any]:
    """A comment on the case's timeline; returns it as `comments` lists it."""
    _require_viewer(user)
    if not user.has_role(Role.CLERK, Role.ADMIN):
        raise Forbidden("审计人员只能查看评论, 不能发表评论")
    value = _text(text)
    files = _attachments(svc, attachments)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            now = svc.clock()
            event = case.record(
                EventType.CASE_COMMENTED,
                user.name,
                now,
                None,
                {"text": value, "attachments": files},
            )
            people = uow.users.signatures([user.name])
            save(uow, case)
            uow.commit()
        return _view(svc, case_id, event, people)

    return retrying(step)


def _view(svc: Services, case_id: int, event: CaseEvent, people: dict[str, str]) -> dict[str, Any]:
    files = []
    for index, value in enumerate(event.data.get("attachments") or []):
        found = describe_file(value) or {
            "type": "application/octet-stream",
            "name": "附件",
            "size": 0,
        }
        files.append(
            {
                **found,
                "index": index,
                "url": f"/cases/{case_id}/attachments/{event.seq}/{index}",
            }
        )
    return {
        "case_id": case_id,
        "seq": event.seq,
        "author": event.actor,
        "author_name": people.get(event.actor, event.actor),
        "at": event.at.isoformat(),
        "local_at": event.at.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M"),
        "text": str(event.data.get("text") or ""),
        "attachments": files,
    }


def comments(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    """The case's comments, oldest first, with their authors (display name and department) and
    attachments (name, type, size, download link)."""
    _require_viewer(user)
    with svc.uow() as uow:
        uow.cases.existing(case_id)
        events = [e for e in uow.cases.events(case_id) if e.type == EventType.CASE_COMMENTED]
        people = uow.users.signatures({e.actor for e in events})
    return [_view(svc, case_id, e, people) for e in events]
