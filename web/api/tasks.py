"""GET /tasks (worklist), GET /tasks/ID, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import Invalid
from engine.services import cases, messages, queries

from ..state import services
from . import api
from .cases import once
from .common import current_user, json_body


@api.get("/tasks")
def worklist() -> Any:
    user = current_user()
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise Invalid("分页大小无效", [{"message": "limit 必须是整数", "field": "limit"}]) from None
    args = request.args
    return queries.worklist(
        services(),
        user,
        limit,
        args.get("after") or None,
        bundle=args.get("bundle") or None,
        element=args.get("element") or None,
        flag=args.get("flag") or None,
        claimed=args.get("claimed") or "all",
        search=args.get("q") or None,
    )


@api.get("/tasks/<task_id>")
def get_task(task_id: str) -> Any:
    return queries.get_task(services(), current_user(), task_id)


@api.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Any:
    return cases.claim(services(), current_user(), task_id)


@api.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Any:
    return cases.unclaim(services(), current_user(), task_id)


@api.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> Any:
    user = current_user()
    body = json_body()

    def run() -> tuple[Any, int]:
        return cases.complete(services(), user, task_id, body.get("data")), 200

    return once(user, body, run)


@api.post("/tasks/<task_id>/urge")
def urge(task_id: str) -> Any:
    """催办 (issue 17 · G): a supervisor or administrator urges an open task."""
    body = json_body()
    return messages.urge(services(), current_user(), task_id, body.get("message"))
