"""我要开药店 (`processes/pharmacy`) walked through in Chromium with prepackaged food on (the
optional 食品备案 branch): the window clerk receives the 一表申请 and accepts it, 食品备案,
药品书面审查 (naming two inspectors) and 营业执照 each complete their task from their worklist,
one of the two inspectors signs the 现场检查 (或签), the issuance window issues, the applicant's
progress page and each certificate's verify page show the result
(tests/browser/catalogue_walk.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from engine.services import Services
from tests.fixtures import pharmacy as p

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {
    "drug_reviewer": ["drug_regulation"],
    "drug_inspector_a": ["drug_regulation"],
    "drug_inspector_b": ["drug_regulation"],
}


def test_walk_pharmacy_with_food_filing(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "pharmacy", USERS)
    walk.start(p.PREPACKAGED)
    walk.work("front_desk", "intake", p.ACCEPT)
    walk.work("food_reviewer", "food_filing", p.FOOD_FILED)
    walk.work("drug_reviewer", "review_drug", p.DRUG_OK)
    walk.work("market_reviewer", "review_licence", p.LICENCE_OK)
    walk.work("drug_inspector_b", "drug_inspection", p.INSPECTION_PASS, "drug_inspector_b")
    walk.work("issuer", "joint_issuance", p.ISSUANCE)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    walk.public_progress()
    # the 备案回执 too (only prepackaged food is sold), each from its own 发证机关
    issued = walk.verify_certificates({"drug_permit", "business_licence", "food_filing"})
    assert issued["drug_permit"] == p.ISSUANCE["drug_permit_number"]
    assert issued["food_filing"] == p.FOOD_FILED["food_filing_number"]
    verify = pages.new()
    pages.goto(verify, f"/verify/{quote(issued['drug_permit'], safe='')}")
    assert p.ISSUERS["drug_permit"] in verify.locator("body").inner_text()
    assert not pages.outside and not pages.script_errors
