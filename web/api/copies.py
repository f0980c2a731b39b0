"""抄送 and 评论 (issue 18 · 6 and 9): POST /cases/ID/copies, GET /copies, POST /copies/ID/read,
POST and GET /cases/ID/comments."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.services import comments, copies

from ..state import services
from . import api
from .common import current_user, json_body


@api.post("/cases/<int:case_id>/copies")
def copy_case(case_id: int) -> Any:
    body = json_body()
    made = copies.copy_case(services(), current_user(), case_id, body.get("to"), body.get("note"))
    return made, 201


@api.get("/copies")
def my_copies() -> Any:
    user = current_user()
    unread_only = request.args.get("unread") in ("1", "true")
    found = copies.my_copies(services(), user, unread_only=unread_only)
    return {
        "copies": [c.to_dict() for c in found],
        "unread": copies.unread_count(services(), user),
    }


@api.post("/copies/<int:copy_id>/read")
def read_copy(copy_id: int) -> Any:
    return copies.read(services(), current_user(), copy_id)


@api.post("/cases/<int:case_id>/comments")
def add_comment(case_id: int) -> Any:
    body = json_body()
    made = comments.comment(
        services(), current_user(), case_id, body.get("text"), body.get("attachments")
    )
    return made, 201


@api.get("/cases/<int:case_id>/comments")
def case_comments(case_id: int) -> Any:
    return {"comments": comments.comments(services(), current_user(), case_id)}
