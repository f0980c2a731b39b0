"""A form on a case's page refused: the case's page again, with what is wrong in its flash
messages and the refusal's status (422, 409, 403), never a redirect that hides the status; a case
that does not exist is the 404 page."""

from __future__ import annotations

from typing import Any

from flask import flash

from engine.errors import ServiceError


def on_case_page(case_id: int, err: ServiceError) -> Any:
    from .cases import case as case_page

    errors = getattr(err, "errors", None) or []
    for message in [str(p.get("message") or err.message) for p in errors] or [err.message]:
        flash(message, "error")
    return case_page(case_id), err.status
