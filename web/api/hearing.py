"""听证 (Administrative Licensing Law Arts. 46–47): POST /cases/ID/hearing records the
applicant's written answer to the hearing notice (request or waive); GET /cases/ID/hearing
tells what the applicant was told and where the hearing stands. The hearing group records the
hearing by completing the 听证 task (POST /tasks/ID/complete with {minutes, held_on})."""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from engine.services import hearing, hearing_rights, queries

from ..state import services
from . import api
from .common import current_user, json_body


@api.post("/cases/<int:case_id>/hearing")
def answer_hearing(case_id: int) -> Any:
    body = json_body()
    return hearing.answer(services(), current_user(), case_id, body.get("action"), body.get("note"))


@api.get("/cases/<int:case_id>/hearing")
def case_hearing(case_id: int) -> Any:
    queries.get_case(services(), current_user(), case_id)  # who may see the case
    found = hearing_rights.case_hearing(services(), case_id)
    if found is None:
        raise NotFound(f"办件 {case_id} 没有听证权利告知")
    return found
