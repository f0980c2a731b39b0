"""The REST API under /api/v1: JSON in, JSON out, Bearer-token authentication."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (routes register on import)
    bundles,
    calendar,
    cases,
    certificates,
    copies,
    countersign,  # noqa: E402,F401  加签 / 减签 (issue 18 · 5)
    errors,
    incidents,
    send_back,  # noqa: E402,F401  退回 and 撤回 (issue 18 · 1, 7)
    tasks,
    test_runs,
)
