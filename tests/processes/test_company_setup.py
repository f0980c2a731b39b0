"""企业开办一件事 (`processes/company_setup`) through the API on SQLite and PostgreSQL: every path
end to end (受理, 补正, 不予受理, 住所告知承诺, 不予登记, each optional branch on and off, 印章不予备案
with the licence standing), the certificates issued one item at a time and verified on the public
check, the hour limits of the tasks and the case's one-day promise, every case verified by the
audit's replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.services import accounts
from tests.conftest import FORMS, PROCESSES
from tests.fixtures import company_setup as c
from tests.interop.harness import Interop

BUNDLE = PROCESSES / "company_setup"
GROUPS = (
    "front_desk",
    "market_regulation",
    "public_security",
    "tax",
    "human_resources",
    "housing_fund",
    "bank",
    "issuance",
    "supervisors",
)
LICENCE = c.LICENCE["licence_number"]
SEAL = c.SEAL_FILED["seal_filing_number"]


def bundle_files() -> dict[str, bytes]:
    return {
        f"company_setup/{p.name}": p.read_bytes() for p in sorted(BUNDLE.iterdir()) if p.is_file()
    }


@pytest.fixture
def desk(interop: Interop) -> Interop:
    """The bundle uploaded once every group it names has a member (so it uploads clean)."""
    for group in GROUPS:
        interop.clerk(group=group)
    interop.accepted("company_setup.zip", bundle_files())
    return interop


def auditor(desk: Interop) -> dict[str, str]:
    if "company_auditor" not in desk.clerks:
        _, token = accounts.create_user(desk.services, "company_auditor", "auditor", [])
        desk.clerks["company_auditor"] = {"Authorization": f"Bearer {token}"}
    return desk.clerks["company_auditor"]


def open_elements(view: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in view["tasks"])


def do(desk: Interop, view: dict[str, Any], step: c.Step) -> dict[str, Any]:
    element, data = step
    found = [t for t in view["tasks"] if t["element"] == element]
    assert len(found) == 1, f"{element} not open once; open: {open_elements(view)}"
    answer = desk.complete(found[0], data)
    assert answer.status_code == 200, (element, answer.get_json())
    return desk.case(view["id"])


def replay_verifies(desk: Interop, case_id: int) -> None:
    answer = desk.client.get(f"/api/v1/cases/{case_id}/replay", headers=auditor(desk))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


def public(desk: Interop, number: str) -> dict[str, Any]:
    answer = desk.client.get(f"/api/v1/public/certificates/{number}")
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())


def run(desk: Interop, application: dict[str, Any], steps: list[c.Step]) -> dict[str, Any]:
    view = desk.start("company_setup", application)
    for step in steps:
        view = do(desk, view, step)
    return view


@pytest.mark.parametrize("path", sorted(c.PATHS))
def test_path(desk: Interop, path: str) -> None:
    application, steps, end = c.PATHS[path]
    view = run(desk, application, steps)
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == end
    certificates = {cert["kind"]: cert for cert in view["certificates"]}
    expected = {}
    if any(s[0] == "licence_issuance" for s in steps):
        expected["business_registration"] = LICENCE
    if any(s[0] == "joint_issuance" for s in steps):
        expected["seal_filing"] = SEAL
    assert {k: cert["number"] for k, cert in certificates.items()} == expected
    for cert in certificates.values():
        assert cert["holder"] == f"{application['company_name']} ({application['applicant_name']})"
        assert cert["expires_on"] is None
        assert public(desk, cert["number"])["status"] == "valid"
        # each from its own 发证机关: the 备案回执 the police's, the licence the bundle's
        issuer = {"seal_filing": "示范区公安分局"}.get(cert["kind"], "示范区行政审批局")
        assert cert["issuer"] == issuer and public(desk, cert["number"])["issuer"] == issuer
    ran = {s[0] for s in steps}
    if "licence_issuance" in ran:  # the parallel stage ran: each optional branch as applied for
        assert ran & set(c.OPTIONAL) == c.branches_of(application)
    replay_verifies(desk, view["id"])


def test_every_intake_decision_and_end_has_a_path() -> None:
    intake = json.loads((FORMS / "company_setup" / "intake.json").read_text())
    options = {o["const"] for o in intake["properties"]["intake_decision"]["oneOf"]}
    used = {
        s[1]["intake_decision"]
        for _, steps, _ in c.PATHS.values()
        for s in steps
        if s[0] == "intake"
    }
    assert used == options
    assert {end for _, _, end in c.PATHS.values()} == set(c.ENDS)


def test_the_bundle_uploads_clean_with_its_guide(desk: Interop) -> None:
    answer = desk.upload("company_setup.zip", bundle_files())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["warnings"] == []
    detail = desk.client.get(
        "/api/v1/bundles/company_setup/versions/2", headers=desk.admin
    ).get_json()
    meta = detail["metadata"]
    assert meta["guide"]["code"] == "YJS-QYKB-001"
    assert [i["code"] for i in meta["items"]] == [
        "business_registration",
        "seal_filing",
        "tax_setup",
        "social_insurance",
        "housing_fund",
        "bank_account",
    ]


def test_registration_comes_first_and_its_licence_is_issued_alone(desk: Interop) -> None:
    view = desk.start("company_setup", c.APPLICATION)
    view = do(desk, view, ("intake", c.ACCEPT))
    assert open_elements(view) == ["registration"]
    view = do(desk, view, ("registration", c.REGISTERED))
    assert open_elements(view) == ["licence_issuance"] and view["certificates"] == []
    view = do(desk, view, ("licence_issuance", c.LICENCE))
    # the 统一社会信用代码 exists now: the licence is on the public check while the rest runs
    assert [cert["kind"] for cert in view["certificates"]] == ["business_registration"]
    assert public(desk, LICENCE)["status"] == "valid"
    assert view["status"] == "running" and view["clock"] == "running"
    assert open_elements(view) == sorted(["seal_filing", "tax_setup", *c.OPTIONAL])


@pytest.mark.parametrize("who", sorted(c.BRANCHES))
def test_the_optional_branches_follow_the_application(desk: Interop, who: str) -> None:
    application, branches = c.BRANCHES[who]
    view = run(desk, application, c.REGISTER)
    assert set(open_elements(view)) == {"seal_filing", "tax_setup", *branches}
    # the case's statutory limit is the longest of the items it applies for: 社保 15, else 3
    limits = view["time_limit"]
    assert limits["limit"] == 1
    social = "social_registration" in branches
    assert limits["statutory_limit"] == (15 if social else 3)


def test_every_task_has_its_working_hours(desk: Interop) -> None:
    """Each task of the stage opens with its own hour limit (`time_limit: <n>h`), counted in
    office hours: 受理 on Monday 17:00 local, after closing, so each one's full budget is left."""
    view = desk.start("company_setup", c.APPLICATION)
    view = do(desk, view, ("intake", c.ACCEPT))
    seen: dict[str, dict[str, Any]] = {}
    for step in [*c.REGISTER[1:], *c.EVERY_SERVICE]:
        for task in view["tasks"]:
            seen.setdefault(task["element"], task)
        view = do(desk, view, step)
    assert set(seen) == set(c.HOURS)
    for element, hours in c.HOURS.items():
        task = seen[element]
        assert task["limit_hours"] == hours, element
        assert task["remaining_work_minutes"] == hours * 60, element
        assert task["deadline"] == "2026-03-03", element  # Tuesday, the next working day
        assert task["overdue"] is False
    # 4 working hours from Tuesday 09:00 local: 09:00-12:00, then 13:30-14:30 (06:30 UTC)
    assert seen["seal_filing"]["due_at"] == "2026-03-03T06:30:00+00:00"


def test_one_day_from_acceptance_to_issuance(desk: Interop) -> None:
    """一日办结: accepted Tuesday 09:00 local, each department within its hours, issued the
    same afternoon; the promise of 1 working day after 受理 has its deadline on Wednesday."""
    desk.clock.advance(hours=16)  # Tuesday 2026-03-03 09:00 local
    view = desk.start("company_setup", c.APPLICATION)
    view = do(desk, view, ("intake", c.ACCEPT))
    assert view["deadline"] == "2026-03-04" and view["time_limit"]["started_on"] == "2026-03-03"
    for step in c.REGISTER[1:]:
        desk.clock.advance(minutes=50)
        view = do(desk, desk.case(view["id"]), step)
    desk.clock.advance(minutes=40)  # 11:20: the departments work at the same time
    view = desk.case(view["id"])
    assert not any(t["overdue"] for t in view["tasks"])
    for step in c.EVERY_SERVICE:
        view = do(desk, view, step)
    desk.clock.advance(hours=3)  # 14:20: issued within its hour
    view = do(desk, desk.case(view["id"]), ("joint_issuance", c.ISSUANCE))
    assert view["status"] == "completed" and view["timeliness"] == "normal"
    assert view["time_limit"]["stopped_on"] == "2026-03-03"


def test_a_task_past_its_hours_is_overdue(desk: Interop) -> None:
    desk.clock.advance(hours=16)  # Tuesday 09:00 local
    view = run(desk, c.SOLO_APPLICATION, c.REGISTER)
    desk.clock.advance(hours=3)  # 12:00 local: 税务's 2 hours have passed, 印章's 4 have not
    view = desk.case(view["id"])
    tasks = {t["element"]: t for t in view["tasks"]}
    assert tasks["tax_setup"]["overdue"] is True
    assert tasks["seal_filing"]["overdue"] is False
    assert tasks["seal_filing"]["remaining_work_minutes"] == 60


def test_a_refused_seal_leaves_the_licence_valid(desk: Interop) -> None:
    application, steps, _ = c.PATHS["seal_refused_licence_stands"]
    view = run(desk, application, steps[:4])
    assert open_elements(view) == sorted(["seal_notice", "tax_setup", *c.OPTIONAL])
    view = do(desk, view, ("seal_notice", c.SEAL_NOTICE))
    for step in steps[4:]:
        if step[0] != "seal_notice":
            view = do(desk, view, step)
    assert view["outcome"]["element"] == "partly_concluded"
    assert [cert["kind"] for cert in view["certificates"]] == ["business_registration"]
    assert public(desk, LICENCE)["status"] == "valid"
    missing = desk.client.get(f"/api/v1/public/certificates/{SEAL}")
    assert missing.status_code == 404


def test_a_case_filed_by_an_agent_names_the_agent(desk: Interop) -> None:
    _, steps, _ = c.PATHS["by_agent_posted"]
    view = run(desk, c.APPLICATION_BY_AGENT, steps)
    assert view["status"] == "completed"
    assert view["agent"]["name"] == "李代办"
