"""时限统计 (docs/time-limits.md): GET /statistics/time-limits?from=&to=&bundle= answers how the
cases received in the period kept the Administrative Licensing Law's limits."""

from __future__ import annotations

from typing import Any

from flask import request

from engine.services import time_statistics

from ..state import services
from . import api
from .common import current_user


@api.get("/statistics/time-limits")
def time_limit_statistics() -> Any:
    args = request.args
    return time_statistics.time_limits(
        services(), current_user(), args.get("from"), args.get("to"), args.get("bundle")
    )
