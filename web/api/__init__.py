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
    extension,  # noqa: E402,F401  延期 (issue 19 · 2)
    hearing,  # noqa: E402,F401  听证 (issue 19 · 6)
    incidents,
    log,  # noqa: E402,F401  the transparency log (issue 20)
    send_back,  # noqa: E402,F401  退回 and 撤回 (issue 18 · 1, 7)
    statistics,  # noqa: E402,F401  时限统计 (issue 19 · 3)
    stats,  # noqa: E402,F401  效能监察 (issue 21)
    tasks,
    test_runs,
    verifications,  # noqa: E402,F401  stored and batch verifications (issue 20 · part 2)
)
