"""我要开旅馆 (`processes/hotel`) walked through in Chromium for a hotel above the size (the
optional 营业前消防安全检查 on): the window clerk receives the 一表申请 and accepts it, 消防,
市场监管, 公安 and 卫生 review from their worklists, the 联合踏勘 visits once, each department
signs its decision in the 会签, the issuance window issues, the applicant's progress page and
each certificate's verify page show the result (tests/browser/catalogue_walk.py)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures import hotel as h

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {
    "fire_officer": ["fire_safety"],
    "security_officer": ["public_security"],
    "health_officer": ["health"],
}


def test_walk_hotel_with_the_fire_check(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "hotel", USERS)
    walk.start(h.LARGE_APPLICATION)
    walk.work("front_desk", "intake", h.ACCEPT)
    walk.work("fire_officer", "review_fire", h.FIRE_OK)
    walk.work("market_reviewer", "review_licence", h.LICENCE_OK)
    walk.work("security_officer", "review_police", h.POLICE_OK)
    walk.work("health_officer", "review_health", h.HEALTH_OK)
    walk.work("inspector", "joint_inspection", h.INSPECTED_LARGE)
    walk.work("fire_officer", "department_decisions", h.FIRE_APPROVE, "fire_safety")
    walk.work("security_officer", "department_decisions", h.APPROVE, "public_security")
    walk.work("health_officer", "department_decisions", h.APPROVE, "health")
    walk.work("issuer", "joint_issuance", h.ISSUANCE)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    walk.public_progress()
    issued = walk.verify_certificates(
        {"business_licence", "special_trade_permit", "public_health_permit"}
    )
    assert issued["special_trade_permit"] == h.ISSUANCE["special_trade_number"]
    assert not pages.outside and not pages.script_errors
