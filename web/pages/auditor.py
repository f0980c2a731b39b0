"""Auditor pages: case search, a case's history with the step slider, replay verification, export.

The step slider reads /audit/cases/<id>/steps/<n>.json (session auth; `audit.state_at` under the
hood). Replay verification runs when the auditor presses its button (a POST with the CSRF token),
not on every page load: it re-executes the whole case. The exports are the API's 办件档案 (JSON,
CSV, printable) behind the session instead of a bearer token.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from engine.domain.users import Role
from engine.errors import Conflict, Invalid, ServiceError
from engine.services import (
    audit,
    case_archive,
    case_pages,
    case_record,
    case_search,
    verifications,
)

from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("auditor", __name__, url_prefix="/audit")

SEARCH_FIELDS = (
    "number",
    "applicant",
    "bundle",
    "received_from",
    "received_to",
    "status",
    "overdue",
)


@bp.get("/")
@role_required(Role.AUDITOR)
def search() -> Any:
    criteria = {k: v for k, v in request.args.items() if k in (*SEARCH_FIELDS, "limit", "after")}
    try:
        found = case_search.search_cases(services(), page_user(), criteria)
    except Invalid as err:
        errors = {e.get("field"): e["message"] for e in err.errors}
        bundles = case_search.bundle_choices(services())
        shown = {k: criteria.get(k, "") for k in SEARCH_FIELDS}
        return render_template(
            "auditor/search.html",
            found=None,
            criteria=shown,
            errors=errors,
            bundles=bundles,
            searched=True,
        ), 422
    next_url = None
    if found["next"] is not None:
        kept = {k: v for k, v in criteria.items() if k != "after" and v}
        next_url = url_for("auditor.search", **kept, after=found["next"])
    first_url = None
    if criteria.get("after"):
        kept = {k: v for k, v in criteria.items() if k != "after" and v}
        first_url = url_for("auditor.search", **kept)
    shown = {k: criteria.get(k, "") for k in SEARCH_FIELDS}
    return render_template(
        "auditor/search.html",
        found=found,
        criteria=shown,
        errors={},
        bundles=found["bundles"],
        searched=any(criteria.get(k) for k in SEARCH_FIELDS),
        next_url=next_url,
        first_url=first_url,
    )


def _history(case_id: int, verdict: dict[str, Any] | None = None) -> Any:
    svc, user = services(), page_user()
    page = case_pages.case_history(svc, user, case_id)
    step, step_error = None, None
    try:
        step = case_pages.history_step(svc, user, case_id, page["steps"])
    except Conflict as err:  # the record is broken at or before the last step
        step_error = err.message
    return render_template(
        "auditor/history.html",
        page=page,
        case=page["case"],
        step=step,
        step_error=step_error,
        verdict=verdict,
        record=case_record.labelled_data(svc, user, case_id),  # in words (issue 17 · A)
        verifications=verifications.history(svc, user, case_id),  # stored (issue 20)
    )


@bp.get("/cases/<int:case_id>")
@role_required(Role.AUDITOR)
def history(case_id: int) -> Any:
    return _history(case_id)


@bp.post("/cases/<int:case_id>/verify")
@role_required(Role.AUDITOR)
def verify(case_id: int) -> Any:
    """Replay verification on demand: the hash chain, then every step re-executed."""
    verdict = verifications.verify(services(), page_user(), case_id)  # stored (issue 20)
    verdict["message"] = verdict["verification"]["message"]
    return _history(case_id, verdict)


@bp.post("/verifications")
@role_required(Role.AUDITOR)
def verify_many() -> Any:
    """Verify many cases in the worker (issue 20): the search's result (its criteria posted
    again) or every case received since a date; then the batch's progress page."""
    form = request.form
    try:
        if form.get("scope") == "since":
            found = verifications.start_batch(services(), page_user(), since=form.get("since", ""))
        else:
            criteria = {k: form[k] for k in SEARCH_FIELDS if form.get(k)}
            found = verifications.start_batch(services(), page_user(), criteria=criteria)
    except Invalid as err:
        flash(err.message, "warning")
        return redirect(url_for("auditor.search"))
    return redirect(url_for("auditor.verification_batch", batch_id=found["id"]))


@bp.get("/verifications/<int:batch_id>")
@role_required(Role.AUDITOR)
def verification_batch(batch_id: int) -> Any:
    """A batch verification's progress (the page reloads itself until it is finished) and the
    cases that failed, with links."""
    found = verifications.batch(services(), page_user(), batch_id)
    return render_template("auditor/batch.html", batch=found)


@bp.get("/cases/<int:case_id>/steps/<int:seq>.json")
@role_required(Role.AUDITOR)
def step_json(case_id: int, seq: int) -> Any:
    """The case after its event `seq`, for the step slider (JSON; errors as {"error": ...})."""
    try:
        return jsonify(case_pages.history_step(services(), page_user(), case_id, seq))
    except ServiceError as err:
        response = jsonify({"error": err.message})
        response.status_code = err.status
        return response


@bp.get("/cases/<int:case_id>/export.json")
@role_required(Role.AUDITOR)
def export_json(case_id: int) -> Any:
    archive = audit.export(services(), page_user(), case_id)
    response = jsonify(archive)
    response.headers["Content-Disposition"] = f'attachment; filename="case-{case_id}.json"'
    return response


@bp.get("/cases/<int:case_id>/export.csv")
@role_required(Role.AUDITOR)
def export_csv(case_id: int) -> Any:
    archive = audit.export(services(), page_user(), case_id)
    table = case_archive.events_csv(services(), page_user(), case_id, archive)
    response = Response(table, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="case-{case_id}.csv"'
    return response


@bp.get("/cases/<int:case_id>/archive")
@role_required(Role.AUDITOR)
def archive(case_id: int) -> Any:
    """办件档案, printable."""
    found = audit.export(services(), page_user(), case_id)
    view = case_archive.readable(services(), page_user(), case_id, found)
    return Response(render_template("case_archive.html", a=found, v=view), mimetype="text/html")
