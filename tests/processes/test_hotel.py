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
from tests.e2e.test_openapi import component, problems
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
FIRE_NUMBER = h.FIRE_APPROVE["fire_certificate_number"]


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
    fire = application["building_area_m2"] >= 500 or application["room_count"] > 14
    if end != "refused":  # the limit of the items applied for: 法定 20, 承诺 7 either way
        assert (view["time_limit"]["limit"], view["time_limit"]["statutory_limit"]) == (7, 20)
    if not issued:
        assert certificates == {}
    else:
        # the 消防 合格证 only for the hotels the fire check applies to (`applies_if`)
        expected = {**CERTIFICATE_NUMBERS, **({"fire_safety_check": FIRE_NUMBER} if fire else {})}
        assert {k: c["number"] for k, c in certificates.items()} == expected
        for kind, cert in certificates.items():
            assert (
                cert["holder"] == f"{application['hotel_name']} ({application['applicant_name']})"
            )
            assert cert["issuer"] == h.ISSUERS[kind]  # each department issues its own
            public = desk.client.get(f"/api/v1/public/certificates/{cert['number']}")
            assert public.status_code == 200
            assert public.get_json()["issuer"] == h.ISSUERS[kind]
            # a failed 批后核查 revokes the 卫生许可 alone (`certificate_items`)
            revoked = end == "revoked" and kind == "public_health_permit"
            assert public.get_json()["status"] == ("revoked" if revoked else "valid")
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


def test_a_small_hotel_is_not_asked_for_the_fire_materials(desk: Interop) -> None:
    """`materials[].applies_if`: the 消防 materials only for 500 m² and more or more than 14
    rooms; a small hotel's checklist leaves them out (本件不需要), a 补正 cannot ask for them,
    the 补正告知书 lists what was asked; a large hotel is asked for them."""
    small = desk.start("hotel", h.APPLICATION)
    answer = desk.client.get(f"/api/v1/cases/{small['id']}/materials", headers=auditor(desk))
    assert answer.status_code == 200
    checklist = answer.get_json()
    assert problems(checklist, component("CaseMaterials")) == []
    codes = [m["code"] for m in checklist["materials"]]
    assert "fire_safety_materials" not in codes and "room_floor_plan" in codes
    assert {m["code"]: m["applies_when"] for m in checklist["not_needed"]} == {
        "agent_authorization": "委托帮办代办人办理的",
        "fire_safety_materials": "建筑面积500平方米以上或客房超过14间的",
    }
    intake = next(t for t in small["tasks"] if t["element"] == "intake")
    refused = desk.complete(
        intake, {**h.CORRECT, "missing_materials": ["room_floor_plan", "fire_safety_materials"]}
    )
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [
        {
            "field": "missing_materials",
            "element": "intake",
            "message": "材料 消防安全制度和灭火及应急疏散预案 本件不需要 "
            "(适用于: 建筑面积500平方米以上或客房超过14间的)",
        }
    ]
    view = do(desk, desk.case(small["id"]), ("intake", h.CORRECT))
    notice = desk.client.get(
        f"/api/v1/cases/{view['id']}/correction-notice", headers=auditor(desk)
    ).get_json()
    assert [m["code"] for m in notice["materials"]] == h.CORRECT["missing_materials"]
    states = desk.client.get(f"/api/v1/cases/{view['id']}/materials", headers=auditor(desk))
    missing = [m["code"] for m in states.get_json()["materials"] if m["state"] == "missing"]
    assert missing == h.CORRECT["missing_materials"]

    for large in (h.LARGE_APPLICATION, h.ROOMS_APPLICATION):
        case = desk.start("hotel", large)
        listed = desk.client.get(
            f"/api/v1/cases/{case['id']}/materials", headers=auditor(desk)
        ).get_json()
        assert "fire_safety_materials" in [m["code"] for m in listed["materials"]]
        assert [m["code"] for m in listed["not_needed"]] == ["agent_authorization"]
    by_agent = desk.start("hotel", h.APPLICATION_BY_AGENT)
    listed = desk.client.get(
        f"/api/v1/cases/{by_agent['id']}/materials", headers=auditor(desk)
    ).get_json()
    assert "agent_authorization" in [m["code"] for m in listed["materials"]]


def test_the_intake_page_shows_the_fire_materials_apart_for_a_small_hotel(desk: Interop) -> None:
    """The 一窗受理 page: the checklist without the 消防 materials, which are folded apart as
    本件不需要 with their condition, and not offered as a 补正 or 容缺 choice."""
    import re

    from tests.fixtures.pages import sign_in
    from web import create_app

    small = desk.start("hotel", h.APPLICATION)
    intake = next(t for t in small["tasks"] if t["element"] == "intake")
    client = create_app({"SERVICES": desk.services, "TESTING": True}).test_client()
    sign_in(client, desk.services, "member_of_front_desk", "Kx7-window-pw-19")
    page = client.get(f"/work/tasks/{intake['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    checklist, _, apart = html.partition('<details class="not-needed">')
    table = checklist[checklist.index('<table class="list checklist">') :]
    assert 'data-material="room_floor_plan"' in table
    assert 'data-material="fire_safety_materials"' not in table
    apart = apart[: apart.index("</details>")]
    assert "本件不需要的材料 (2)" in apart
    assert "适用于: 建筑面积500平方米以上或客房超过14间的" in apart
    offered = re.findall(r'name="missing_materials"[^>]*value="([^"]+)"', html)
    offered += re.findall(r'value="([^"]+)"[^>]*name="missing_materials"', html)
    assert offered and "fire_safety_materials" not in offered and "room_floor_plan" in offered


def test_a_reviewer_cannot_send_back_for_materials_the_case_is_not_asked_for(
    interop: Interop,
) -> None:
    """退回申请人补正 (the hotel with `send_back: intake, correction` on 营业执照审查) decides 补正
    at 一窗受理 like the window does: a material the case is not asked for is refused."""
    for group in GROUPS:
        interop.clerk(group=group)
    files = bundle_files()
    files["hotel/hotel.bpmn"] = files["hotel/hotel.bpmn"].replace(
        b'<camunda:property name="send_back" value="intake" />',
        b'<camunda:property name="send_back" value="intake, correction" />',
        1,
    )
    interop.accepted("hotel.zip", files)
    view = do(interop, interop.start("hotel", h.APPLICATION), ("intake", h.ACCEPT))
    review = next(t for t in view["tasks"] if t["element"] == "review_licence")
    # the page offers only the materials asked of this case (not the 消防 ones of a small hotel)
    import re

    from tests.fixtures.pages import sign_in

    reviewer = f"member_of_{review['groups'][0]}"
    sign_in(interop.client, interop.services, reviewer, "Kx7-window-pw-19")
    page = interop.client.get(f"/work/tasks/{review['id']}").get_data(as_text=True)
    panel = page[page.index('<fieldset class="correction-materials">') :]
    panel = panel[: panel.index("</fieldset>")]
    offered = re.findall(r'name="materials" value="([^"]+)"', panel)
    assert "room_floor_plan" in offered and "fire_safety_materials" not in offered
    assert "agent_authorization" not in offered  # no agent either

    def send_back(materials: list[str]) -> Any:
        return interop.client.post(
            f"/api/v1/tasks/{review['id']}/send-back",
            headers=interop.worker_of(review),
            json={"target": "correction", "reason": "缺件", "materials": materials},
        )

    refused = send_back(["fire_safety_materials"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["message"].startswith(
        "材料 消防安全制度和灭火及应急疏散预案 本件不需要"
    )
    sent = send_back(["room_floor_plan"])
    assert sent.status_code == 200, sent.get_json()
    assert [t["element"] for t in sent.get_json()["tasks"]] == ["correction"]
