"""退回 and 撤回 (issue 18 · 1, 7): POST /tasks/ID/send-back, GET /tasks/ID/send-back (where to),
POST /tasks/ID/recall."""

from __future__ import annotations

from typing import Any

from engine.services import send_back

from ..state import services
from . import api
from .common import current_user, json_body


@api.get("/tasks/<task_id>/send-back")
def send_back_targets(task_id: str) -> Any:
    return send_back.targets(services(), current_user(), task_id)


@api.post("/tasks/<task_id>/send-back")
def send_back_task(task_id: str) -> Any:
    body = json_body()
    return send_back.send_back(
        services(),
        current_user(),
        task_id,
        body.get("target"),
        body.get("reason"),
        body.get("materials"),
    )


@api.post("/tasks/<task_id>/recall")
def recall_task(task_id: str) -> Any:
    body = json_body()
    return send_back.recall(services(), current_user(), task_id, body.get("reason"))
