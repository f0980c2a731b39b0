"""新生儿出生一件事 (`processes/newborn`) walked through in Chromium: the window clerk receives the
mother's 一表申请 and accepts it, 助产医院, 预防接种, 公安户籍, 医保 and 社保卡 each complete their
task from their worklist, the issuance window sends everything by post (the optional mailing
address), the applicant's progress page and each certificate's verify page show the result
(tests/browser/catalogue_walk.py)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.fixtures import newborn as n

from .catalogue_walk import Walk
from .conftest import Pages

USERS = {
    "hospital_clerk": ["hospital"],
    "vaccination_clerk": ["vaccination"],
    "police_registrar": ["public_security"],
    "insurance_clerk": ["medical_insurance"],
    "social_card_clerk": ["human_resources"],
}


def test_walk_newborn_delivered_by_post(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    walk = Walk(pages, live_services, staff, "newborn", USERS)
    walk.start(n.APPLICATION)
    walk.work("front_desk", "intake", n.ACCEPT)
    walk.work("vaccination_clerk", "vaccination_certificate", n.VACCINATION)
    walk.work("hospital_clerk", "birth_certificate", n.BIRTH_ISSUED)
    walk.work("police_registrar", "household_registration", n.REGISTERED)
    walk.work("insurance_clerk", "insurance_registration", n.INSURED)
    walk.work("social_card_clerk", "social_card", n.CARD)
    walk.work("issuer", "joint_issuance", n.ISSUANCE_BY_POST)
    view = walk.view()
    assert view["status"] == "completed", view["status"]
    assert view["data"]["mailing_address"] == n.ISSUANCE_BY_POST["mailing_address"]
    walk.public_progress()
    issued = walk.verify_certificates({"birth_medical_certificate"})
    assert issued["birth_medical_certificate"] == n.BIRTH_ISSUED["birth_certificate_number"]
    assert len(issued) == 4, issued
    assert not pages.outside and not pages.script_errors
