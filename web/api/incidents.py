"""Incidents (出错的办件): GET /incidents (administrators and designers); administrators only:
POST /cases/ID/retry, /cases/ID/resume, /cases/ID/correct-data, /cases/ID/migrate."""

from __future__ import annotations

from typing import Any

from engine.errors import Invalid
from engine.services import incidents, recovery

from ..state import services
from . import api
from .common import current_user, json_body


@api.get("/incidents")
def list_incidents() -> Any:
    return {"incidents": incidents.list_incidents(services(), current_user())}


@api.post("/cases/<int:case_id>/retry")
def retry(case_id: int) -> Any:
    """The failed step carried out again, with corrected values for its form if given."""
    user = current_user()
    return recovery.retry(services(), user, case_id, json_body().get("data"))


@api.post("/cases/<int:case_id>/resume")
def resume(case_id: int) -> Any:
    return incidents.resume(services(), current_user(), case_id)


@api.post("/cases/<int:case_id>/correct-data")
def correct_data(case_id: int) -> Any:
    user = current_user()
    return recovery.correct_data(services(), user, case_id, json_body().get("data"))


@api.post("/cases/<int:case_id>/migrate")
def migrate(case_id: int) -> Any:
    """Move the case to another version; with {"check": true} only say whether it can."""
    user = current_user()
    body = json_body()
    check = body.get("check", False)
    if not isinstance(check, bool):
        raise Invalid("check 应为 true 或 false", [{"field": "check", "message": "应为布尔值"}])
    if check:
        return recovery.check_migration(
            services(), user, case_id, body.get("version"), body.get("mapping")
        )
    return recovery.migrate(services(), user, case_id, body.get("version"), body.get("mapping"))
