"""Test runs of a draft, and its saved runs re-run as regression tests (engine/services/
test_runs.py). Designers and admins.

Called by API clients with a bearer token, and by the designer's editor page with its session
cookie: a request without a bearer token must then carry the page's CSRF token in the
X-CSRFToken header (the API blueprint is otherwise exempt from CSRF checks).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf.csrf import CSRFError

from engine.domain.users import User
from engine.errors import Forbidden
from engine.services import saved_test_runs, test_runs

from ..auth import csrf, signed_in
from ..state import services
from . import api
from .common import current_user, json_body


def _user() -> User:
    """The bearer token's user; else the page session's, with its CSRF token on a change."""
    if request.headers.get("Authorization"):
        return current_user()
    user = signed_in()
    if user is None:
        return current_user()  # the 401 of the API
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()
        except CSRFError:
            raise Forbidden("页面已过期或来源不明 (CSRF 校验未通过): 请刷新页面后重试") from None
    return user


@api.post("/bundles/test-run")
def test_run() -> Any:
    user = _user()
    return test_runs.run(services(), user, json_body())


@api.get("/bundles/<key>/test-runs")
def list_test_runs(key: str) -> Any:
    return saved_test_runs.list_runs(services(), _user(), key)


@api.post("/bundles/<key>/test-runs")
def save_test_run(key: str) -> Any:
    user = _user()
    return saved_test_runs.save_run(services(), user, key, json_body()), 201


@api.put("/bundles/<key>/test-runs/<int:run_id>")
def update_test_run(key: str, run_id: int) -> Any:
    user = _user()
    return saved_test_runs.update_run(services(), user, key, run_id, json_body())


@api.delete("/bundles/<key>/test-runs/<int:run_id>")
def delete_test_run(key: str, run_id: int) -> Any:
    return saved_test_runs.delete_run(services(), _user(), key, run_id)


@api.post("/bundles/<key>/test-runs/rerun")
def rerun_test_runs(key: str) -> Any:
    user = _user()
    return saved_test_runs.rerun(services(), user, key, json_body())
