"""我要开旅馆 (`processes/hotel`) through the API on SQLite and PostgreSQL: every path end to end
(受理, 补正, 不予受理, 容缺, 卫生许可告知承诺 with its 批后核查, the fire check above the size, each
department's decision after the one 联合踏勘), the certificates issued and verified, every case
verified by the audit's replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.services import accounts
from tests.conftest import FORMS, PROCESSES
from tests.fixtures import hotel as h
from tests.interop.harness import Interop

BUNDLE = PROCESSES / "hotel"
GROUPS = (
    "front_desk",
    "market_regulation",
    "public_security",
    "health",
    "fire_safety",
    "inspection",
    "issuance",
    "supervisors",
)
CERTIFICATE_NUMBERS = {
    "business_licence": h.ISSUANCE["licence_number"],
    "special_trade_permit": h.ISSUANCE["special_trade_number"],
    "public_health_permit": h.ISSUANCE["health_permit_number"],
}


def bundle_files() -> dict[str, bytes]:
    return {f"hotel/{p.name}": p.read_bytes() for p in sorted(BUNDLE.iterdir()) if p.is_file()}


@pytest.fixture
def desk(interop: Interop) -> Interop:
    """The bundle uploaded once every group it names has a member (so it uploads clean)."""
    for group in GROUPS:
        interop.clerk(group=group)
    interop.accepted("hotel.zip", bundle_files())
    return interop


def auditor(desk: Interop) -> dict[str, str]:
    if "hotel_auditor" not in desk.clerks:
        _, token = accounts.create_user(desk.services, "hotel_auditor", "auditor", [])
        desk.clerks["hotel_auditor"] = {"Authorization": f"Bearer {token}"}
    return desk.clerks["hotel_auditor"]


def open_elements(view: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in view["tasks"])


def do(desk: Interop, view: dict[str, Any], step: h.Step) -> dict[str, Any]:
    """Complete the open task of a step (for the 会签, the instance of the step's group)."""
    element, group, data = step if len(step) == 3 else (step[0], None, step[1])
    found = [
        t
        for t in view["tasks"]
        if t["element"] == element and (group is None or t["groups"] == [group])
    ]
    assert len(found) == 1, f"{element} ({group}) not open once; open: {open_elements(view)}"
    answer = desk.complete(found[0], data)
    assert answer.status_code == 200, (element, answer.get_json())
    return desk.case(view["id"])


def replay_verifies(desk: Interop, case_id: int) -> None:
    answer = desk.client.get(f"/api/v1/cases/{case_id}/replay", headers=auditor(desk))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


def run(desk: Interop, application: dict[str, Any], steps: list[h.Step]) -> dict[str, Any]:
    view = desk.start("hotel", application)
    owes_materials = False
    for step in steps:
        view = do(desk, view, step)
        if step[0] == "intake":
            owes_materials = step[-1]["intake_decision"] == "accept_with_gaps"
        elif step[0] == "supply_materials":
            owes_materials = False
        if owes_materials:
            assert "joint_issuance" not in open_elements(view), "issued before the 容缺 materials"
    return view


@pytest.mark.parametrize("path", sorted(h.PATHS))
def test_path(desk: Interop, path: str) -> None:
    application, steps, end = h.PATHS[path]
    view = run(desk, application, steps)
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == end
    assert ("deciding_departments" in view["data"]) == (end != "refused")
    issued = any(s[0] == "joint_issuance" for s in steps)
    certificates = {c["kind"]: c for c in view["certificates"]}
    if not issued:
        assert certificates == {}
    else:
        assert {k: c["number"] for k, c in certificates.items()} == CERTIFICATE_NUMBERS
        for cert in certificates.values():
            assert (
                cert["holder"] == f"{application['hotel_name']} ({application['applicant_name']})"
            )
            public = desk.client.get(f"/api/v1/public/certificates/{cert['number']}")
            assert public.status_code == 200
            # 撤销卫生许可 records the decision but cannot revoke one certificate alone (the
            # engine's `certificate_action: revoke` revokes all of a case's): see the catalogue.
            assert public.get_json()["status"] == "valid"
        assert certificates["business_licence"]["expires_on"] is None
        assert certificates["special_trade_permit"]["expires_on"] is None
        assert certificates["public_health_permit"]["expires_on"] is not None
    replay_verifies(desk, view["id"])


def test_every_intake_decision_and_end_has_a_path() -> None:
    intake = json.loads((FORMS / "hotel" / "intake.json").read_text())
    options = {o["const"] for o in intake["properties"]["intake_decision"]["oneOf"]}
    used = {
        s[-1]["intake_decision"]
        for _, steps, _ in h.PATHS.values()
        for s in steps
        if s[0] == "intake"
    }
    assert used == options
    assert {end for _, _, end in h.PATHS.values()} == set(h.ENDS)


def test_the_bundle_uploads_clean_with_its_guide(desk: Interop) -> None:
    answer = desk.upload("hotel.zip", bundle_files())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["warnings"] == []
    detail = desk.client.get("/api/v1/bundles/hotel/versions/2", headers=desk.admin).get_json()
    meta = detail["metadata"]
    assert meta["guide"]["fee"] == "不收费"
    assert [i["code"] for i in meta["items"]] == [
        "business_licence",
        "special_trade_permit",
        "public_health_permit",
        "fire_safety_check",
    ]


@pytest.mark.parametrize(("size", "decision"), sorted(h.DEPARTMENTS), ids=lambda v: str(v))
def test_the_decision_table_names_who_visits_and_decides(
    desk: Interop, size: str, decision: str
) -> None:
    application = h.LARGE_APPLICATION if size == "large" else h.APPLICATION
    view = do(desk, desk.start("hotel", application), ("intake", {"intake_decision": decision}))
    assert view["data"]["deciding_departments"] == h.DEPARTMENTS[(size, decision)]
    assert view["data"]["fire_check_required"] is (size == "large")
    reviews = {"review_licence", "review_police"}
    reviews |= {"health_commitment_approval"} if decision == "commitment" else {"review_health"}
    reviews |= {"review_fire"} if size == "large" else set()
    assert set(open_elements(view)) == reviews


def test_the_room_count_alone_brings_the_fire_check(desk: Interop) -> None:
    view = do(desk, desk.start("hotel", h.ROOMS_APPLICATION), ("intake", h.ACCEPT))
    assert view["data"]["fire_check_required"] is True
    assert "review_fire" in open_elements(view)


def test_one_joint_visit_then_one_decision_per_department(desk: Interop) -> None:
    view = desk.start("hotel", h.LARGE_APPLICATION)
    view = do(desk, view, ("intake", h.ACCEPT))
    for step in [*h.REVIEWS[:2], ("review_fire", h.FIRE_OK)]:
        view = do(desk, view, step)
        assert "joint_inspection" not in open_elements(view), "the visit waits for every review"
    view = do(desk, view, h.REVIEWS[2])
    assert open_elements(view) == ["joint_inspection"]
    view = do(desk, view, ("joint_inspection", h.INSPECTED_LARGE))
    groups = sorted(t["groups"][0] for t in view["tasks"])
    assert groups == ["fire_safety", "health", "public_security"]
    assert {t["element"] for t in view["tasks"]} == {"department_decisions"}
    # one rejection ends the 会签: the other departments' tasks are cancelled
    view = do(desk, view, ("department_decisions", "fire_safety", h.FIRE_REJECT))
    assert open_elements(view) == ["denial_notice"]
    assert view["data"]["department_decisions_result"] == "rejected"
    view = do(desk, view, ("denial_notice", h.DENIAL))
    assert view["outcome"]["element"] == "denied" and view["certificates"] == []
    replay_verifies(desk, view["id"])


def test_issuance_waits_for_the_deferred_materials(desk: Interop) -> None:
    view = desk.start("hotel", h.APPLICATION)
    steps = [("intake", h.ACCEPT_WITH_GAPS), *h.REVIEWS, ("joint_inspection", h.INSPECTED)]
    for step in [*steps, *h.DECISIONS]:
        view = do(desk, view, step)
    assert open_elements(view) == ["supply_materials"]
    assert view["clock"] == "paused"
    view = do(desk, view, ("supply_materials", h.SUPPLIED))
    assert open_elements(view) == ["joint_issuance"]


def test_a_commitment_case_skips_the_health_review_and_is_checked_after_issuance(
    desk: Interop,
) -> None:
    _, steps, _ = h.PATHS["commitment_checked"]
    view = desk.start("hotel", h.APPLICATION)
    for step in steps[:-1]:
        view = do(desk, view, step)
        assert "review_health" not in open_elements(view)
        if step[0] == "joint_inspection":
            assert [t["groups"] for t in view["tasks"]] == [["public_security"]]
    assert open_elements(view) == ["post_check"]
    check = view["tasks"][0]
    assert check["groups"] == ["health"] and check["deadline"] is not None
    assert view["clock"] == "stopped"  # 批后核查 is outside the time limit


def test_a_case_filed_by_an_agent_runs_like_any_other(desk: Interop) -> None:
    _, steps, _ = h.PATHS["small_granted"]
    view = run(desk, h.APPLICATION_BY_AGENT, steps)
    assert view["status"] == "completed"
    assert view["agent"]["name"] == "李代办"
