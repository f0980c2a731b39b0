"""企业注销一件事 (processes/company_deregistration) through the API on SQLite and PostgreSQL:
every path end to end (简易 with and without an objection, 一般, with and without customs and
foreign trade, 清税 refused, 补正, 不予受理, 不予注销登记), the 20-day public notice fired by the
worker on the fake clock with the case's clock paused meanwhile, each row of the procedure table
(deregistration_procedure.dmn), the two certificates on the public check, every replay verified;
the 营业执照 a 企业开办 case issued cancelled (注销) at 统一出件, and refused when it is unknown,
another company's or cancelled already."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROCESSES
from tests.fixtures import company_deregistration as cd
from tests.fixtures import company_setup as cs
from tests.interop.harness import Interop

BUNDLE = Path(__file__).parents[2] / "processes" / "company_deregistration"
FILES = (
    "bundle.json",
    "company_deregistration.bpmn",
    "deregistration_procedure.dmn",
    "application_form_blank.pdf",
    "application_form_sample.pdf",
)
GROUPS = (
    "front_desk",
    "market_regulation",
    "tax",
    "human_resources",
    "housing_fund",
    "customs",
    "commerce",
    "issuance",
    "supervisors",
)
KEY = "company_deregistration"


def upload(interop: Interop) -> dict[str, Any]:
    """The bundle folder as a zip (its forms come from the server's forms library)."""
    for group in GROUPS:  # every group has a member, so the upload has nothing to warn about
        interop.clerk(group=group)
    files = {name: (BUNDLE / name).read_bytes() for name in FILES}
    return interop.accepted(f"{KEY}.zip", files)


def open_elements(view: dict[str, Any]) -> set[str]:
    return {t["element"] for t in view["tasks"]}


def do(
    interop: Interop, view: dict[str, Any], element: str, data: dict[str, Any]
) -> dict[str, Any]:
    if element == cd.TIMER:
        assert "public_notice" in open_elements(view), sorted(open_elements(view))
        interop.fire_timers(days=20, seconds=1)
        return interop.case(view["id"])
    task = next((t for t in view["tasks"] if t["element"] == element), None)
    assert task, f"{element} is not open: {sorted(open_elements(view))}"
    answer = interop.complete(task, data)
    assert answer.status_code == 200, (element, answer.get_json())
    return interop.case(view["id"])


def replay_verifies(interop: Interop, case_id: int) -> None:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/replay", headers=interop.admin)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


def events(interop: Interop, case_id: int) -> list[dict[str, Any]]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    assert answer.status_code == 200, answer.get_json()
    found: list[dict[str, Any]] = answer.get_json()["events"]
    return found


@pytest.fixture
def store(interop: Interop) -> Interop:
    upload(interop)
    return interop


def test_the_upload_is_clean(interop: Interop) -> None:
    body = upload(interop)
    assert body["warnings"] == []


@pytest.mark.parametrize("path", sorted(cd.PATHS))
def test_path(store: Interop, path: str) -> None:
    application, steps, end = cd.PATHS[path]
    view = store.start(KEY, application)
    for element, data in steps:
        view = do(store, view, element, data)
        if "review" in open_elements(view):
            assert open_elements(view) == {"review"}, "the review opened with work pending"
    assert view["status"] == "completed", view
    assert view["tasks"] == []
    assert view["outcome"]["element"] == end
    done = [e["element"] for e in events(store, view["id"]) if e["type"] == "task_completed"]
    assert ("customs" in done) == (end != "refused" and "customs" in dict(steps))
    if not application["customs_registered"]:
        assert "customs" not in done
    if not application["foreign_trade_registered"]:
        assert "commerce" not in done
    certificates = view["certificates"]
    if end == "dereg_denied":  # the 清税证明 was issued at 清税 and stays valid
        assert [c["kind"] for c in certificates] == ["tax_clearance"]
    if end != "concluded":
        if end != "dereg_denied":
            assert certificates == []
        replay_verifies(store, view["id"])
        return
    issued = dict(steps)["joint_issuance"]
    tax = next(d for e, d in steps if e == "tax_clearance")
    assert sorted((c["kind"], c["number"]) for c in certificates) == [
        ("deregistration", issued["dereg_notice_number"]),
        ("tax_clearance", tax["tax_clearance_number"]),
    ]
    for certificate in certificates:
        assert certificate["holder"] == application["applicant_name"]
        public = store.client.get(f"/api/v1/public/certificates/{certificate['number']}")
        assert public.status_code == 200, public.get_json()
        assert public.get_json()["status"] == "valid"
        assert public.get_json()["expires_on"] is None
    titles = {c["kind"]: c["title"] for c in certificates}
    assert titles == {"deregistration": "准予注销登记通知书", "tax_clearance": "清税证明"}
    replay_verifies(store, view["id"])


def test_the_public_notice_lasts_20_days_and_stops_the_clock(store: Interop) -> None:
    view = store.start(KEY, cd.SIMPLE)
    view = do(store, view, "intake", cd.ACCEPT)
    assert open_elements(view) == {
        "public_notice",
        "tax_clearance",
        "social_insurance",
        "housing_fund",
    }
    assert view["data"]["procedure"] == "simple"
    assert view["clock"] == "paused"  # the notice does not count toward the limit
    deadline = view["time_limit"]["deadline"]
    for element, data in cd.CLEARANCES:
        view = do(store, view, element, data)
    assert open_elements(view) == {"public_notice"}
    store.fire_timers(days=19, hours=23)
    view = store.case(view["id"])
    assert open_elements(view) == {"public_notice"}, "the notice ended before 20 days"
    assert view["clock"] == "paused"
    assert store.fire_timers(minutes=61) >= 1
    view = store.case(view["id"])
    assert open_elements(view) == {"review"}
    assert view["clock"] == "running"
    assert view["time_limit"]["deadline"] > deadline  # moved by the working days waited
    fired = [e for e in events(store, view["id"]) if e["type"] == "timer_fired"]
    assert len(fired) == 1
    view = do(store, view, "review", cd.APPROVED)
    view = do(store, view, "joint_issuance", cd.ISSUANCE)
    assert view["status"] == "completed"
    replay_verifies(store, view["id"])


def test_an_objection_in_the_notice_turns_the_case_to_general(store: Interop) -> None:
    view = store.start(KEY, cd.SIMPLE)
    view = do(store, view, "intake", cd.ACCEPT)
    store.fire_timers(days=8)
    view = do(store, store.case(view["id"]), "public_notice", cd.OBJECTION)
    assert "liquidation_check" in open_elements(view)
    assert view["clock"] == "paused"  # the company now owes its liquidation and 45-day notice
    store.fire_timers(days=30)  # the cancelled notice's timer never fires
    view = store.case(view["id"])
    assert "review" not in open_elements(view)
    assert not [e for e in events(store, view["id"]) if e["type"] == "timer_fired"]
    view = do(store, view, "liquidation_check", cd.LIQUIDATED)
    for element, data in cd.CLEARANCES:
        view = do(store, view, element, data)
    assert open_elements(view) == {"review"}
    assert view["clock"] == "running"


def test_unpaid_taxes_end_the_case_and_cancel_the_other_departments(store: Interop) -> None:
    view = store.start(KEY, {**cd.SIMPLE_TRADE, "customs_registered": True})
    view = do(store, view, "intake", cd.ACCEPT)
    assert open_elements(view) == {
        "public_notice",
        "tax_clearance",
        "social_insurance",
        "housing_fund",
        "customs",
        "commerce",
    }
    view = do(store, view, "tax_clearance", cd.TAX_UNPAID)
    assert "tax_denial" in open_elements(view)
    view = do(store, view, "tax_denial", cd.TAX_DENIAL)
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == "tax_denied"
    assert view["certificates"] == []
    store.fire_timers(days=21)  # the notice was cancelled with the case
    assert store.case(view["id"])["outcome"]["element"] == "tax_denied"
    replay_verifies(store, view["id"])


def test_a_clearance_certificate_needs_its_number(store: Interop) -> None:
    view = store.start(KEY, cd.GENERAL)
    view = do(store, view, "intake", cd.ACCEPT)
    task = next(t for t in view["tasks"] if t["element"] == "tax_clearance")
    refused = store.complete(task, {"tax_decision": "cleared"})
    assert refused.status_code == 422
    assert any(e.get("field") == "tax_clearance_number" for e in refused.get_json()["errors"])
    refused = store.complete(task, {"tax_decision": "unpaid"})
    assert refused.status_code == 422
    assert any(e.get("field") == "unpaid_items" for e in refused.get_json()["errors"])


def test_every_procedure_rule_through_the_api(store: Interop) -> None:
    """Each row of the procedure table, reached by a real case right after 受理: the table's
    answer is in the case data and the case takes that branch."""
    for row, (changes, (procedure, rule)) in cd.PROCEDURE_ROWS.items():
        application = {**cd.BASE, **changes}
        view = store.start(KEY, application)
        view = do(store, view, "intake", cd.ACCEPT)
        data = view["data"]
        assert (data["procedure"], data["procedure_rule"]) == (procedure, rule), row
        assert data["procedure_note"], row
        opened = open_elements(view)
        if procedure == "simple":
            assert "public_notice" in opened and "liquidation_check" not in opened, row
        elif application["requested_procedure"] == "general":
            assert not {"public_notice", "liquidation_check"} & opened, row
        else:
            assert "liquidation_check" in opened and "public_notice" not in opened, row


def test_an_agent_files_on_the_companys_behalf(store: Interop) -> None:
    view = store.start(KEY, cd.BY_AGENT)
    assert view["agent"]["name"] == "赵代办"
    assert view["applicant"]["name"] == cd.BASE["applicant_name"]


def test_the_clearance_certificate_is_issued_at_clearance_and_the_case_limit_is_the_items(
    store: Interop,
) -> None:
    """`certificate_items: tax_clearance` on 清税 issues the 清税证明 there (the registry relies
    on it) without stopping the clock; 统一出件 issues the rest and stops it. The case's limits
    are its applying items' longest (清税: 20 statutory, 3 promised)."""
    view = store.start(KEY, cd.GENERAL_CUSTOMS)
    view = do(store, view, "intake", cd.ACCEPT)
    assert (view["time_limit"]["limit"], view["time_limit"]["statutory_limit"]) == (3, 20)
    view = do(store, view, "tax_clearance", cd.TAX_OK)
    assert [(c["kind"], c["number"]) for c in view["certificates"]] == [
        ("tax_clearance", cd.TAX_OK["tax_clearance_number"])
    ]
    assert view["clock"] == "running"
    public = store.client.get(f"/api/v1/public/certificates/{cd.TAX_OK['tax_clearance_number']}")
    assert public.status_code == 200 and public.get_json()["title"] == "清税证明"
    for element, data in (*cd.CLEARANCES[1:], ("customs", cd.CUSTOMS)):
        view = do(store, view, element, data)
    view = do(store, view, "review", cd.APPROVED)
    view = do(store, view, "joint_issuance", cd.ISSUANCE)
    assert sorted(c["kind"] for c in view["certificates"]) == ["deregistration", "tax_clearance"]
    assert view["clock"] == "stopped"


# 注销 of the 营业执照 a 企业开办 case issued (`cancels_certificate: licence_number` at 统一出件)

SETUP_GROUPS = ("public_security", "bank")


def set_up_company(store: Interop) -> tuple[dict[str, Any], str]:
    """A 企业开办 case (processes/company_setup) through 营业执照 issuance; it and the licence."""
    for group in SETUP_GROUPS:
        store.clerk(group=group)
    setup = PROCESSES / "company_setup"
    files = {p.name: p.read_bytes() for p in sorted(setup.iterdir()) if p.is_file()}
    store.accepted("company_setup.zip", files)
    view = store.start("company_setup", cs.SOLO_APPLICATION)
    for element, data in cs.REGISTER:
        view = do(store, view, element, data)
    [licence] = view["certificates"]
    assert (licence["kind"], licence["status"]) == ("business_registration", "valid")
    return view, licence["number"]


def deregistration(company: str, licence: str | None) -> dict[str, Any]:
    application = {**cd.BASE, "applicant_name": company}
    if licence is not None:
        application["licence_number"] = licence
    return application


def to_issuance(store: Interop, application: dict[str, Any], n: int = 1) -> dict[str, Any]:
    """A 简易注销 case up to 统一出件 (the steps of `simple_without_objection` but the last),
    its 清税证明 numbered after `n`."""
    _, steps, _ = cd.PATHS["simple_without_objection"]
    view = store.start(KEY, application)
    for element, data in steps[:-1]:
        if element == "tax_clearance":
            data = {**data, "tax_clearance_number": f"QS330106260001{n:02d}"}
        view = do(store, view, element, data)
    assert open_elements(view) == {"joint_issuance"}
    return view


def issuance(n: int) -> dict[str, Any]:
    return {**cd.ISSUANCE, "dereg_notice_number": f"ZX2026000001{n:02d}"}


def issuance_refused(store: Interop, view: dict[str, Any], n: int) -> str:
    [task] = view["tasks"]
    answer = store.complete(task, issuance(n))
    assert answer.status_code == 422, answer.get_json()
    [error] = answer.get_json()["errors"]
    assert error["field"] == "licence_number"
    after = store.case(view["id"])
    assert after["status"] == "running" and open_elements(after) == {"joint_issuance"}
    assert [c["kind"] for c in after["certificates"]] == ["tax_clearance"]  # nothing issued
    message: str = error["message"]
    return message


def test_deregistration_cancels_the_licence_the_company_setup_case_issued(store: Interop) -> None:
    setup, licence = set_up_company(store)
    company = cs.SOLO_APPLICATION["company_name"]
    view = to_issuance(store, deregistration(company, licence))
    view = do(store, view, "joint_issuance", cd.ISSUANCE)
    assert view["status"] == "completed" and view["outcome"]["element"] == "concluded"
    reason = f"注销登记 (办件 {view['id']})"
    checked = store.client.get(f"/api/v1/public/certificates/{licence}").get_json()
    assert (checked["status"], checked["reason"], checked["issuer"]) == (
        "cancelled",
        reason,
        "示范区行政审批局",
    )
    page = store.client.get(f"/verify/{licence}").get_data(as_text=True)
    assert "营业执照: 已注销" in page and reason in page
    [cancelled] = [e for e in events(store, view["id"]) if e["type"] == "certificate_cancelled"]
    assert cancelled["data"]["case_id"] == setup["id"]
    assert cancelled["data"]["kind"] == "business_registration"
    # the 清税证明 names the 税务局 that issued it, the notice the bundle's issuer
    issuers = {c["kind"]: c["issuer"] for c in view["certificates"]}
    assert issuers == {"tax_clearance": "示范区税务局", "deregistration": "示范区市场监督管理局"}
    [setup_licence, *_] = store.case(setup["id"])["certificates"]
    assert (setup_licence["status"], setup_licence["revoked_reason"]) == ("cancelled", reason)
    replay_verifies(store, view["id"])
    replay_verifies(store, setup["id"])


def test_deregistration_refuses_an_unknown_another_holders_or_cancelled_licence(
    store: Interop,
) -> None:
    _, licence = set_up_company(store)
    company = cs.SOLO_APPLICATION["company_name"]
    unknown = to_issuance(store, deregistration(company, "91330100MA2KCY8F4X"), 1)
    assert "不存在" in issuance_refused(store, unknown, 1)
    other = to_issuance(store, deregistration("示范区别家贸易有限公司", licence), 2)
    assert "与申请不一致" in issuance_refused(store, other, 2)
    first = to_issuance(store, deregistration(company, licence), 3)
    do(store, first, "joint_issuance", issuance(3))
    again = to_issuance(store, deregistration(company, licence), 4)
    assert "已注销" in issuance_refused(store, again, 4)
    replay_verifies(store, unknown["id"])
