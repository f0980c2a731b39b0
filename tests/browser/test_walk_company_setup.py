"""企业开办一件事 (`processes/company_setup`) walked through in Chromium for a company that hires
and books a bank appointment (every optional branch on): the window clerk receives the 一表申请
and accepts it, 市场监管 registers and issues the 营业执照, then 公安 (印章备案), 税务, 社保, 公积金
and the bank each complete their task from their worklists, the issuance window hands everything
over, and the applicant's progress page and both certificates' verify pages show the result
(tests/browser/catalogue_walk.py)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures import company_setup as c

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {
    "seal_officer": ["public_security"],
    "tax_officer": ["tax"],
    "social_card_clerk": ["human_resources"],
    "housing_fund_clerk": ["housing_fund"],
    "bank_clerk": ["bank"],
}


def test_walk_company_setup_with_every_branch(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "company_setup", USERS)
    walk.start(c.APPLICATION)
    walk.work("front_desk", "intake", c.ACCEPT)
    walk.work("market_reviewer", "registration", c.REGISTERED)
    walk.work("market_reviewer", "licence_issuance", c.LICENCE)
    # the licence is valid on the public check while the other departments work
    assert {x["kind"] for x in walk.view()["certificates"]} == {"business_registration"}
    walk.work("seal_officer", "seal_filing", c.SEAL_FILED)
    walk.work("tax_officer", "tax_setup", c.TAX)
    walk.work("social_card_clerk", "social_registration", c.SOCIAL)
    walk.work("housing_fund_clerk", "housing_fund_registration", c.FUND)
    walk.work("bank_clerk", "bank_appointment", c.BANK)
    walk.work("issuer", "joint_issuance", c.ISSUANCE)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    walk.public_progress()
    issued = walk.verify_certificates({"business_registration", "seal_filing"})
    assert issued == {
        "business_registration": c.LICENCE["licence_number"],
        "seal_filing": c.SEAL_FILED["seal_filing_number"],
    }
    assert not pages.outside and not pages.script_errors
