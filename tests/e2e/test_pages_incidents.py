"""A case stopped as an incident says so on its page: why, when, and what the administrator
does next; its timeline names the incident events (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.e2e.test_pages_designer import _sign_in
from tests.fixtures.clock import FakeClock
from tests.integration.test_incidents import (
    default_limits,  # noqa: F401 (autouse fixture)
    looping_case,
    run_until_stopped,
)


def test_the_case_page_shows_the_incident_and_its_reason(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users)
    run_until_stopped(svc, users, clock, case_id)
    client = create_app({"SERVICES": svc, "TESTING": True}).test_client()
    _sign_in(client, svc, "auditor")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "此办件出错, 已停止自动推进" in page
    assert "60 秒内定时触发已达 30 次" in page
    assert f"lianban incidents resume {case_id}" in page
    assert "出错, 已停止自动推进" in page  # the timeline's label of incident_raised
