"""The REST API under /api/v1: JSON in, JSON out, Bearer-token authentication."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")

from . import bundles, calendar, cases, certificates, errors, incidents, tasks, test_runs  # noqa: E402,F401  (routes register on import)
