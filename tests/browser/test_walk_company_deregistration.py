"""企业注销一件事 (`processes/company_deregistration`) walked through in Chromium: a company
with customs and foreign-trade records asks for 简易注销; the window clerk receives the 一表申请
and accepts it; the procedure table sends it to the 20-day public notice while 税务 (who issues
the 清税证明 at once), 人社, 公积金, 海关 and 商务 each complete their task from their worklist;
a creditor's objection is registered in the notice, so the case turns to 一般注销 and 市场监管
checks the liquidation; 注销登记审查 grants, the issuance window issues, and the applicant's
progress page and both certificates' verify pages show the result
(tests/browser/catalogue_walk.py). The timer ending a notice without objection is run on the
fake clock in tests/processes/test_company_deregistration.py."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures import company_deregistration as cd

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {
    "tax_officer": ["tax"],
    "social_card_clerk": ["human_resources"],
    "housing_fund_clerk": ["housing_fund"],
    "customs_officer": ["customs"],
    "commerce_officer": ["commerce"],
}


def test_walk_company_deregistration_objection_turns_general(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "company_deregistration", USERS)
    walk.start({**cd.SIMPLE, "customs_registered": True, "foreign_trade_registered": True})
    walk.work("front_desk", "intake", cd.ACCEPT)
    view = walk.view()
    assert view["data"]["procedure"] == "simple" and view["clock"] == "paused"
    walk.work("tax_officer", "tax_clearance", cd.TAX_OK)
    walk.work("social_card_clerk", "social_insurance", cd.SOCIAL)
    walk.work("housing_fund_clerk", "housing_fund", cd.FUND)
    walk.work("customs_officer", "customs", cd.CUSTOMS)
    walk.work("commerce_officer", "commerce", cd.COMMERCE)
    walk.work("market_reviewer", "public_notice", cd.OBJECTION)
    walk.work("market_reviewer", "liquidation_check", cd.LIQUIDATED)
    walk.work("market_reviewer", "review", cd.APPROVED)
    walk.work("issuer", "joint_issuance", cd.ISSUANCE)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    assert view["outcome"]["element"] == "concluded"
    walk.public_progress()
    issued = walk.verify_certificates({"deregistration", "tax_clearance"})
    assert issued["tax_clearance"] == cd.TAX_OK["tax_clearance_number"]
    assert issued["deregistration"] == cd.ISSUANCE["dereg_notice_number"]
    assert not pages.outside and not pages.script_errors
