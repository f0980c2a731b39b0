"""POST /cases, GET /cases/ID, GET /cases/ID/events, POST /cases/ID/cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, render_template, request

from engine.errors import Invalid
from engine.services import (
    audit,
    case_archive,
    cases,
    idempotency,
    intake,
    queries,
    suspension,
    verifications,
)

from ..state import services
from . import api
from .common import current_user, json_body


@api.post("/cases")
def start_case() -> Any:
    user = current_user()
    body = json_body()

    def run() -> tuple[Any, int]:
        return cases.start_case(services(), user, body.get("bundle"), body.get("data")), 201

    return once(user, body, run)


def once(user: Any, body: Any, run: Callable[[], tuple[Any, int]]) -> tuple[Any, int]:
    """`run`, at most once per `Idempotency-Key` when the request carries one."""
    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return run()
    digest = idempotency.request_hash(request.method, request.path, body)
    answer, status = idempotency.once(services(), user, key, digest, run)
    return answer, status


@api.get("/cases/<int:case_id>")
def get_case(case_id: int) -> Any:
    return queries.get_case(services(), current_user(), case_id, pauses=True)


@api.get("/cases/<int:case_id>/events")
def case_events(case_id: int) -> Any:
    return {"events": queries.events(services(), current_user(), case_id)}


@api.post("/cases/<int:case_id>/cancel")
def cancel_case(case_id: int) -> Any:
    user = current_user()
    return cases.cancel(services(), user, case_id, json_body().get("reason"))


@api.post("/cases/<int:case_id>/suspend")
def suspend_case(case_id: int) -> Any:
    """挂起 (engine/services/suspension.py)."""
    body = json_body()
    return suspension.suspend(
        services(),
        current_user(),
        case_id,
        body.get("reason"),
        body.get("kind"),
        body.get("expected_workdays"),  # 特别程序 (Art. 45): optional
    )


@api.post("/cases/<int:case_id>/resume")
def resume_case(case_id: int) -> Any:
    """恢复 after 挂起."""
    return suspension.resume(services(), current_user(), case_id, json_body().get("note"))


@api.get("/cases/<int:case_id>/materials")
def case_materials(case_id: int) -> Any:
    """The case's 一次性告知 checklist: what is asked of it, and what it need not bring."""
    return intake.case_checklist(services(), current_user(), case_id)


@api.get("/cases/<int:case_id>/correction-notice")
def correction_notice(case_id: int) -> Any:
    return intake.correction_notice(services(), current_user(), case_id)


@api.get("/cases/<int:case_id>/correction-notice/print")
def correction_notice_page(case_id: int) -> Any:
    notice = intake.correction_notice(services(), current_user(), case_id)
    return Response(render_template("correction_notice.html", n=notice), mimetype="text/html")


@api.get("/cases/<int:case_id>/replay")
def replay_case(case_id: int) -> Any:
    """Re-execute the case from its events and compare every step with the record; the result
    is stored (engine/services/verifications.py)."""
    return verifications.replay(services(), current_user(), case_id)


@api.get("/cases/<int:case_id>/steps/<int:seq>")
def case_step(case_id: int, seq: int) -> Any:
    """The case as it stood after its event `seq` (for scrubbing through its history)."""
    return audit.state_at(services(), current_user(), case_id, seq)


@api.get("/cases/<int:case_id>/export")
def export_case(case_id: int) -> Any:
    """办件档案: `?format=json` (default), `csv` (the events) or `html` (printable)."""
    against = request.args.get("against")  # a signed log size: add a consistency proof to it
    if against is not None and not against.isdigit():
        raise Invalid("检查点无效", [{"field": "against", "message": "应为日志大小 (正整数)"}])
    archive = audit.export(
        services(), current_user(), case_id, int(against) if against is not None else None
    )
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        table = case_archive.events_csv(services(), current_user(), case_id, archive)
        response = Response(table, mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="case-{case_id}.csv"'
        return response
    if fmt == "html":  # the archive in words (issue 17 · A, issue 20 · 2)
        view = case_archive.readable(services(), current_user(), case_id, archive)
        page = render_template("case_archive.html", a=archive, v=view)
        return Response(page, mimetype="text/html")
    if fmt != "json":
        raise Invalid("格式无效", [{"field": "format", "message": "应为 json、csv 或 html"}])
    return archive
