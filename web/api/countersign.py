"""加签 / 减签 (issue 18 · 5): POST /tasks/ID/add-signer, /tasks/ID/sign, /tasks/ID/remove-signer.

"position": "parallel" (a new instance of a running 会签) and removing such an instance are
engine/services/add_signer.py; before / after are engine/services/countersign.py."""

from __future__ import annotations

from typing import Any

from engine.services import add_signer, countersign

from ..state import services
from . import api
from .common import current_user, json_body


@api.post("/tasks/<task_id>/add-signer")
def add_task_signer(task_id: str) -> Any:
    body = json_body()
    if body.get("position") == "parallel":  # a new instance of a running 会签
        return add_signer.add_parallel(
            services(), current_user(), task_id, body.get("to"), body.get("reason")
        )
    return countersign.add_signer(
        services(),
        current_user(),
        task_id,
        body.get("position"),
        body.get("to"),
        body.get("reason"),
        body.get("data"),
    )


@api.post("/tasks/<task_id>/sign")
def sign_task(task_id: str) -> Any:
    body = json_body()
    return countersign.sign(
        services(), current_user(), task_id, body.get("decision"), body.get("opinion")
    )


@api.post("/tasks/<task_id>/remove-signer")
def remove_task_signer(task_id: str) -> Any:
    body = json_body()
    svc, user = services(), current_user()
    if not countersign.held_by_signer(svc, task_id):  # a 会签 instance: 并行减签
        return add_signer.remove_parallel(svc, user, task_id, body.get("reason"))
    return countersign.remove_signer(svc, user, task_id, body.get("reason"))
