"""我要开餐馆 through the API on a fake clock: each intake decision end to end with its time
limit, certificates, 补正告知书 and 帮办代办 record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.bundles.source import from_path
from engine.services import Services, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import CLERK_OF

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


class Desk:
    """The API as the clerks use it, on a clock the test moves."""

    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        from web import create_app

        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        publishing.deploy(self.svc, from_path(PROCESSES / "restaurant"), "test")
        self.client = create_app({"SERVICES": self.svc, "TESTING": True}).test_client()
        self.users = users

    def start(self, data: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/cases",
            headers=self.users["front_desk"].headers,
            json={"bundle": "restaurant", "data": data},
        )
        assert response.status_code == 201, response.json
        return response.json

    def do(self, case: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
        task = next((t for t in case["tasks"] if t["element"] == element), None)
        assert task, f"{element} is not open: {[t['element'] for t in case['tasks']]}"
        response = self.client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=self.users[CLERK_OF[element]].headers,
            json={"data": data},
        )
        assert response.status_code == 200, response.json
        return response.json

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.users["auditor"].headers)


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def test_correction_rounds_then_acceptance_starts_the_clock(desk: Desk) -> None:
    case = desk.start(r.APPLICATION)
    for round_ in (1, 2):
        case = desk.do(case, "intake", r.CORRECT)
        assert case["clock"] == "not_started"  # 补正 comes before 受理
        notice = desk.get(f"/cases/{case['id']}/correction-notice").json
        assert notice["round"] == round_
        assert [m["code"] for m in notice["materials"]] == r.CORRECT["missing_materials"]
        assert notice["materials"][0]["name"].startswith("经营场所使用证明")
        case = desk.do(case, "correction", r.CORRECTED)
    page = desk.get(f"/cases/{case['id']}/correction-notice/print").get_data(as_text=True)
    assert "补正材料告知书" in page and "第 2 次补正" in page and "从业人员健康证明" in page
    desk.clock.advance(days=1)  # Tuesday
    case = desk.do(case, "intake", r.ACCEPT)
    assert (case["clock"], case["deadline"]) == ("running", "2026-03-12")  # 7 working days
    assert case["statutory_deadline"] == "2026-03-31"  # 20 working days


def test_accept_with_gaps_holds_issuance_and_stops_the_clock_until_supplied(desk: Desk) -> None:
    case = desk.do(desk.start(r.APPLICATION), "intake", r.ACCEPT_WITH_GAPS)
    supply = next(t for t in case["tasks"] if t["element"] == "supply_materials")
    assert supply["deadline"] == "2026-03-16"  # supply_workdays: 10
    assert case["clock"] == "paused"
    case = desk.do(case, "review_licence", r.LICENCE_OK)
    case = desk.do(case, "review_food", r.FOOD_OK)
    assert "joint_issuance" not in [t["element"] for t in case["tasks"]]
    desk.clock.advance(days=3)  # Thursday: three working days owed
    case = desk.do(case, "supply_materials", r.SUPPLIED)
    assert case["clock"] == "running" and case["deadline"] == "2026-03-16"  # 03-11 + 3
    case = desk.do(case, "joint_issuance", r.ISSUANCE)
    assert case["status"] == "completed" and case["clock"] == "stopped"
    assert sorted(c["kind"] for c in case["certificates"]) == ["business_licence", "food_permit"]
    permit = next(c for c in case["certificates"] if c["kind"] == "food_permit")
    assert permit["number"] == r.ISSUANCE["permit_number"] and permit["holder"] == "老张面馆 (张三)"
    assert permit["expires_on"] == "2031-03-04"


def test_a_commitment_case_is_decided_at_once_and_revoked_after_a_failed_check(desk: Desk) -> None:
    case = desk.do(desk.start(r.APPLICATION), "intake", r.COMMITMENT)
    assert [t["element"] for t in case["tasks"]] == ["commitment_approval"]
    case = desk.do(case, "commitment_approval", r.COMMITMENT_APPROVED)
    case = desk.do(case, "joint_issuance", r.ISSUANCE)
    assert {c["status"] for c in case["certificates"]} == {"valid"}
    assert case["clock"] == "stopped"  # 批后核查 is not part of the time limit
    stopped = [
        e
        for e in desk.get(f"/cases/{case['id']}/events").json["events"]
        if e["type"] == "clock_stopped"
    ]
    assert [e["data"] for e in stopped] == [{"by": "certificates_issued"}]
    check = next(t for t in case["tasks"] if t["element"] == "post_check")
    assert check["deadline"] is not None
    case = desk.do(case, "post_check", r.POST_CHECK_FAIL)
    case = desk.do(case, "revocation", r.REVOCATION)
    assert case["outcome"]["element"] == "revoked"
    assert {c["status"] for c in case["certificates"]} == {"revoked"}
    verify = desk.client.get(f"/api/v1/public/certificates/{r.ISSUANCE['permit_number']}").json
    assert verify["status"] == "revoked"
    replayed = desk.get(f"/cases/{case['id']}/replay").json
    assert replayed["verified"] and replayed["steps"] > 10


def test_an_agent_files_on_the_applicants_behalf(desk: Desk) -> None:
    case = desk.start(r.APPLICATION_BY_AGENT)
    assert case["applicant"] == {"name": "张三", "id_number": r.APPLICATION["applicant_id_number"]}
    assert case["agent"] == {"name": "李代办", "id_number": "330102199001011234"}
    [started] = [e for e in desk.get(f"/cases/{case['id']}/events").json["events"]][:1]
    assert started["data"]["on_behalf_of"]["name"] == "张三"
    assert started["data"]["agent"]["name"] == "李代办" and started["actor"] == "front_desk"
    from tests.e2e.test_openapi import component, problems

    assert problems(started, component("Event")) == []
    missing_id = {**r.APPLICATION, "agent_name": "李代办"}
    response = desk.client.post(
        "/api/v1/cases",
        headers=desk.users["front_desk"].headers,
        json={"bundle": "restaurant", "data": missing_id},
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "agent_id_number"
