"""我要开便利店 (`processes/convenience_store`) walked through in Chromium with tobacco on (the
optional 烟草 branch: 布局勘查 then 烟草专卖零售许可) and prepackaged food only (备案): the window
clerk receives the 一表申请 and accepts it, 市场监管, 食品备案 and 烟草 each complete their task
from their worklist, the issuance window issues, the applicant's progress page and each
certificate's verify page show the result (tests/browser/catalogue_walk.py)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures import convenience_store as cs

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {"tobacco_officer": ["tobacco"]}


def test_walk_convenience_store_with_tobacco(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "convenience_store", USERS)
    walk.start(cs.PREPACKAGED_TOBACCO)
    walk.work("front_desk", "intake", cs.ACCEPT)
    walk.work("market_reviewer", "review_licence", cs.LICENCE_OK)
    walk.work("food_reviewer", "food_filing", cs.FILING)
    walk.work("tobacco_officer", "tobacco_survey", cs.SURVEY_OK)
    walk.work("tobacco_officer", "tobacco_review", cs.TOBACCO_OK)
    walk.work("issuer", "joint_issuance", cs.ISSUANCE)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    walk.public_progress()
    issued = walk.verify_certificates({"business_licence", "food_filing", "tobacco_licence"})
    assert issued["tobacco_licence"] == cs.TOBACCO_OK["tobacco_licence_number"]
    assert not pages.outside and not pages.script_errors
