"""Stored verifications (issue 20 · part 2): GET /cases/ID/verifications, and verifying many
cases at once in the worker: POST /verifications, GET /verifications/ID."""

from __future__ import annotations

from typing import Any

from engine.services import verifications

from ..state import services
from . import api
from .common import current_user, json_body


@api.get("/cases/<int:case_id>/verifications")
def case_verifications(case_id: int) -> Any:
    """The case's last verifications, newest first (auditors and admins)."""
    found = verifications.history(services(), current_user(), case_id)
    return {"case_id": case_id, "verifications": [verifications.api_record(v) for v in found]}


@api.post("/verifications")
def start_batch() -> Any:
    """{"case_ids": [...]} or {"since": "YYYY-MM-DD"}: one job per case; 202 with the batch."""
    body = json_body()
    batch = verifications.start_batch(
        services(), current_user(), case_ids=body.get("case_ids"), since=body.get("since")
    )
    return _api_batch(batch), 202


@api.get("/verifications/<int:batch_id>")
def batch(batch_id: int) -> Any:
    return _api_batch(verifications.batch(services(), current_user(), batch_id))


def _api_batch(batch: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "created_at", "created_by", "description", "total", "done", "failed", "finished")
    return {
        **{k: batch[k] for k in keys},
        "failures": [
            {"case_id": v["case_id"], **verifications.api_record(v)} for v in batch["failures"]
        ],
    }
