"""GET /tasks (worklist), GET /tasks/ID, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import Invalid
from engine.services import cases, messages, queries, task_handover

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


@api.post("/tasks/<task_id>/transfer")
def transfer(task_id: str) -> Any:
    """转办 (issue 18 · 2): the task to a colleague of its groups, with a reason."""
    body = json_body()
    user = current_user()
    return task_handover.transfer(services(), user, task_id, body.get("to"), body.get("reason"))


@api.post("/tasks/<task_id>/delegate")
def delegate(task_id: str) -> Any:
    """委派 (issue 18 · 3): a colleague is asked for an opinion; the task comes back after."""
    body = json_body()
    user = current_user()
    return task_handover.delegate(services(), user, task_id, body.get("to"), body.get("reason"))


@api.post("/tasks/<task_id>/answer")
def answer(task_id: str) -> Any:
    """委派: the delegate's opinion; the task goes back to who delegated it."""
    body = json_body()
    return task_handover.answer_delegation(services(), current_user(), task_id, body.get("opinion"))
