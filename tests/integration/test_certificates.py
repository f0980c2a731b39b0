"""统一发证 and what follows: certificates, their pages and QR verification, revocation after a
failed 批后核查, renewal reminders (无感续证) and renewal cases with nothing new to supply."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing, queries
from engine.services.worker import run_due
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.clock import FakeClock
from tests.fixtures.licences import APPLICATION, BUNDLE

NUMBERS = {"licence_number": "91330102MA2H0ABC1X", "permit_number": "JY13301020000017"}
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def issued_case(svc: Services, users: dict[str, Any]) -> dict[str, Any]:
    publishing.deploy(svc, from_upload("licences.zip", BUNDLE), "test")
    case = cases.start_case(svc, users["front_desk"].user, "licences", APPLICATION)
    return cases.complete(svc, users["issuer"].user, case["tasks"][0]["id"], NUMBERS)


def test_issuance_creates_every_certificate_with_its_pages(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case = issued_case(services, users)
    certs = {c["kind"]: c for c in case["certificates"]}
    licence, permit = certs["business_licence"], certs["food_permit"]
    assert licence["number"] == NUMBERS["licence_number"] and licence["expires_on"] is None
    issued_on = date.fromisoformat(permit["issued_on"])
    five_years = issued_on.replace(year=issued_on.year + 5) - timedelta(days=1)
    assert permit["expires_on"] == five_years.isoformat()
    assert permit["holder"] == "老张面馆 (张三)" and permit["status"] == "valid"
    assert permit["fields"] == [{"label": "经营项目", "value": "热食类食品制售"}]
    events = queries.events(services, users["auditor"].user, case["id"])
    issued = next(e for e in events if e["type"] == "certificates_issued")
    assert [c["number"] for c in issued["data"]["certificates"]] == list(NUMBERS.values())

    number = permit["number"]
    staff = users["auditor"].headers
    got = client.get(f"/api/v1/certificates/{number}", headers=staff)
    assert assert_matches(got, "/certificates/{number}", "get")["title"] == "食品经营许可证"
    page = client.get(f"/api/v1/certificates/{number}/print", headers=staff)
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    assert "<svg" in page.get_data(as_text=True)  # the QR code, inline
    pdf = client.get(f"/api/v1/certificates/{number}/pdf", headers=staff)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert (
        client.get(f"/api/v1/certificates/{number}", headers=users["designer"].headers).status_code
        == 403
    )
    public = client.get(f"/api/v1/public/certificates/{number}")  # no sign-in
    assert assert_matches(public, "/public/certificates/{number}", "get")["status"] == "valid"
    assert "case_id" not in public.json
    verify = client.get(f"/verify/{number}")
    assert verify.status_code == 200 and "有效" in verify.get_data(as_text=True)
    assert client.get("/verify/NOPE").status_code == 404


def test_a_number_already_in_use_is_refused_and_changes_nothing(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.errors import Invalid

    issued_case(services, users)
    second = cases.start_case(services, users["front_desk"].user, "licences", APPLICATION)
    try:
        cases.complete(services, users["issuer"].user, second["tasks"][0]["id"], NUMBERS)
    except Invalid as err:
        assert "已被使用" in err.errors[0]["message"]
    else:
        raise AssertionError("a duplicate certificate number was accepted")
    after = queries.get_case(services, users["auditor"].user, second["id"])
    assert [t["element"] for t in after["tasks"]] == ["issue"] and after["certificates"] == []


def test_a_failed_post_approval_check_revokes_the_certificates(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    case = issued_case(services, users)
    check = case["tasks"][0]
    case = cases.complete(services, users["inspector"].user, check["id"], {"check_passed": False})
    case = cases.complete(
        services,
        users["issuer"].user,
        case["tasks"][0]["id"],
        {"revocation_reason": "现场与承诺不符"},
    )
    assert case["outcome"] == {"element": "revoked", "name": "撤销许可"}
    assert {c["status"] for c in case["certificates"]} == {"revoked"}
    public = client.get(f"/api/v1/public/certificates/{NUMBERS['permit_number']}").json
    assert public["status"] == "revoked" and public["revoked_on"]
    assert "已撤销" in client.get(f"/verify/{NUMBERS['permit_number']}").get_data(as_text=True)
    with services.uow() as uow:
        sent = uow.notifications.for_case(case["id"])
    assert [(n["kind"], n["recipient"]) for n in sent] == [("revocation", "tel:13800138000")]
    assert "现场与承诺不符" in sent[0]["body"]


def test_reminders_before_expiry_and_a_renewal_with_nothing_new(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    case = issued_case(svc, users)
    permit = next(c for c in case["certificates"] if c["kind"] == "food_permit")
    expires = datetime.fromisoformat(permit["expires_on"]).replace(tzinfo=UTC)
    clock.now = expires - timedelta(days=31)
    assert run_due(svc) == 0
    clock.now = expires - timedelta(days=29)
    run_due(svc)
    clock.now = expires - timedelta(days=6)
    run_due(svc)
    events = queries.events(svc, users["auditor"].user, case["id"])
    reminders = [e["data"] for e in events if e["type"] == "certificate_reminder"]
    assert [r["number"] for r in reminders] == [permit["number"]] * 2
    with svc.uow() as uow:
        sent = [
            n for n in uow.notifications.for_case(case["id"]) if n["kind"] == "renewal_reminder"
        ]
    assert len(sent) == 2 and all(n["status"] == "sent" for n in sent)

    renewal = cases.renew(svc, users["front_desk"].user, permit["number"])
    assert renewal["data"] == {**APPLICATION, "renewal_of": permit["number"]}
    renewal = cases.complete(
        svc,
        users["issuer"].user,
        renewal["tasks"][0]["id"],
        {"licence_number": "LIC-2", "permit_number": "JY-2"},
    )
    renewed = next(c for c in renewal["certificates"] if c["kind"] == "food_permit")
    assert renewed["renewal_of"] == permit["number"]
