"""延期 (Administrative Licensing Law Art. 42): POST /cases/ID/extension asks for one;
GET /cases/ID/extension tells what was granted and what waits for approval. The approver
decides by completing the 延期审批 task (POST /tasks/ID/complete)."""

from __future__ import annotations

from typing import Any

from engine.services import extension

from ..state import services
from . import api
from .common import current_user, json_body


@api.post("/cases/<int:case_id>/extension")
def request_extension(case_id: int) -> Any:
    body = json_body()
    return extension.request(
        services(), current_user(), case_id, body.get("workdays"), body.get("reason")
    )


@api.get("/cases/<int:case_id>/extension")
def case_extension(case_id: int) -> Any:
    return extension.overview(services(), current_user(), case_id)
