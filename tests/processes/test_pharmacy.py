"""我要开药店 (`processes/pharmacy`) through the API, on SQLite and PostgreSQL: uploaded clean,
every path end to end (补正, 不予受理, 容缺, the food branch's 备案 / 许可 / none, each decision),
the 或签 of two drug inspectors, the certificates issued and verified, every case replayed."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from engine.services import Services, accounts
from tests.conftest import PROCESSES
from tests.fixtures import pharmacy as p
from tests.fixtures.clock import FakeClock

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
BUNDLE = PROCESSES / "pharmacy"


def bundle_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in (
            "bundle.json",
            "pharmacy.bpmn",
            "application_form_blank.pdf",
            "application_form_sample.pdf",
        ):
            archive.write(BUNDLE / name, name)
    return buffer.getvalue()


class Desk:
    """The API as the pharmacy's clerks use it, on a clock the test moves."""

    def __init__(self, services: Services) -> None:
        from web import create_app

        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        self.client = create_app({"SERVICES": self.svc, "TESTING": True}).test_client()
        self.headers: dict[str, dict[str, str]] = {}
        for name, groups in p.USERS.items():
            self._user(name, "clerk", groups)
        self._user("designer", "designer", [])
        self._user("auditor", "auditor", [])

    def _user(self, name: str, role: str, groups: list[str]) -> None:
        _, token = accounts.create_user(self.svc, name, role, groups)
        self.headers[name] = {"Authorization": f"Bearer {token}"}

    def upload(self) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/bundles",
            headers=self.headers["designer"],
            data={"file": (io.BytesIO(bundle_zip()), "pharmacy.zip")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def start(self, data: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/cases",
            headers=self.headers["front_desk"],
            json={"bundle": "pharmacy", "data": data},
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def open(self, case: dict[str, Any], element: str) -> list[dict[str, Any]]:
        return [t for t in case["tasks"] if t["element"] == element]

    def do(
        self, case: dict[str, Any], element: str, data: dict[str, Any], who: str | None = None
    ) -> dict[str, Any]:
        found = self.open(case, element)
        if element == "drug_inspection":  # 或签: the instance of the named inspector
            who = who or p.INSPECTORS[1]
            found = [t for t in found if t["assignee"] == who]
        assert len(found) == 1, f"{element}: {[t['element'] for t in case['tasks']]}"
        response = self.client.post(
            f"/api/v1/tasks/{found[0]['id']}/complete",
            headers=self.headers[who or p.CLERK_OF[element]],
            json={"data": data},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.headers["auditor"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def replayed(self, case: dict[str, Any]) -> None:
        verdict = self.get(f"/cases/{case['id']}/replay")
        assert verdict["verified"] is True, verdict


@pytest.fixture
def desk(services: Services) -> Desk:
    desk = Desk(services)
    uploaded = desk.upload()
    assert uploaded["warnings"] == [], uploaded["warnings"]
    return desk


def test_the_bundle_uploads_without_warnings_and_names_its_items(desk: Desk) -> None:
    detail = desk.get("/bundles/pharmacy")
    items = {item["code"]: item for item in detail["metadata"]["items"]}
    assert set(items) == {"business_licence", "drug_permit", "food_permit", "food_filing"}
    assert items["drug_permit"]["statutory_workdays"] == 20
    assert detail["metadata"]["guide"]["fee"] == "不收费"


@pytest.mark.parametrize("path", sorted(p.PATHS))
def test_path(desk: Desk, path: str) -> None:
    application, steps, end = p.PATHS[path]
    case = desk.start(application)
    for element, data in steps:
        if element == "joint_issuance":
            assert [t["element"] for t in case["tasks"]] == ["joint_issuance"], "work still open"
        case = desk.do(case, element, data)
    assert case["status"] == "completed"
    assert case["outcome"]["element"] == end
    assert case["tasks"] == []
    # the 食品经营许可证 only when bulk food is sold and the permit was granted, the 备案回执
    # when only prepackaged food is (`applies_if`); each from its own 发证机关
    kinds = sorted(c["kind"] for c in case["certificates"])
    assert kinds == p.certificates(application, steps, end)
    for cert in case["certificates"]:
        assert cert["issuer"] == p.ISSUERS[cert["kind"]], cert
        verify = desk.client.get(f"/api/v1/public/certificates/{quote(cert['number'])}")
        assert verify.status_code == 200 and verify.get_json()["status"] == "valid"
        assert verify.get_json()["issuer"] == p.ISSUERS[cert["kind"]]
    if end != "refused":  # the drug permit's limits: it applies to every pharmacy
        assert (case["time_limit"]["limit"], case["time_limit"]["statutory_limit"]) == (10, 20)
    desk.replayed(case)


def test_huoqian_either_inspector_signs_and_the_other_task_is_cancelled(desk: Desk) -> None:
    case = desk.do(desk.start(p.APPLICATION), "intake", p.ACCEPT)
    assert sorted(t["element"] for t in case["tasks"]) == ["review_drug", "review_licence"]
    case = desk.do(case, "review_drug", p.DRUG_OK)
    # the inspection waits for the licence review (both written reviews must pass first)
    assert desk.open(case, "drug_inspection") == []
    case = desk.do(case, "review_licence", p.LICENCE_OK)
    tasks = {t["assignee"]: t for t in desk.open(case, "drug_inspection")}
    assert set(tasks) == set(p.INSPECTORS)
    assert all(t["groups"] == ["drug_regulation"] for t in tasks.values())
    # only the named inspector may sign their instance
    other = desk.client.post(
        f"/api/v1/tasks/{tasks['drug_inspector_a']['id']}/complete",
        headers=desk.headers["drug_inspector_b"],
        json={"data": p.INSPECTION_PASS},
    )
    assert other.status_code == 403, other.get_json()
    case = desk.do(case, "drug_inspection", p.INSPECTION_PASS, who="drug_inspector_a")
    assert [t["element"] for t in case["tasks"]] == ["joint_issuance"]
    assert case["data"]["drug_inspection_result"] == "approved"
    assert [s["signer"] for s in case["data"]["drug_inspection_signatures"]] == ["drug_inspector_a"]
    cancelled = desk.get(f"/tasks/{tasks['drug_inspector_b']['id']}")
    assert cancelled["status"] == "cancelled"
    case = desk.do(case, "joint_issuance", p.ISSUANCE)
    assert case["outcome"]["element"] == "concluded"
    desk.replayed(case)


def test_certificates_are_issued_to_the_pharmacy_and_verify(desk: Desk) -> None:
    application, steps, _ = p.PATHS["granted_with_food_permit"]
    case = desk.start(application)
    for element, data in steps:
        case = desk.do(case, element, data)
    certificates = {c["kind"]: c for c in case["certificates"]}
    permit = certificates["drug_permit"]
    assert permit["number"] == "浙DB571000017" and permit["holder"] == "仁和大药房 (王五)"
    assert permit["issued_on"] == "2026-03-02" and permit["expires_on"] == "2031-03-01"
    assert certificates["business_licence"]["expires_on"] is None
    food = certificates["food_permit"]
    assert food["number"] == p.FOOD_OK["food_permit_number"] and food["expires_on"] == "2031-03-01"
    for number in (permit["number"], certificates["business_licence"]["number"], food["number"]):
        verify = desk.client.get(f"/api/v1/public/certificates/{quote(number)}")
        assert verify.status_code == 200, verify.get_json()
        assert verify.get_json()["status"] == "valid"
    assert case["clock"] == "stopped"


def test_a_pharmacy_selling_prepackaged_food_gets_the_filing_receipt(desk: Desk) -> None:
    """仅销售预包装食品备案: the 备案回执 numbered with the filing number, 长期, by market
    regulation; the case's checklist asks for the food materials, a pharmacy selling no food
    is not asked for them (本件不需要)."""
    application, steps, _ = p.PATHS["correction_then_granted_with_food_filing"]
    case = desk.start(application)
    asked = desk.get(f"/cases/{case['id']}/materials")
    assert "food_materials" in [m["code"] for m in asked["materials"]]
    assert [m["code"] for m in asked["not_needed"]] == ["agent_authorization"]
    for element, data in steps:
        case = desk.do(case, element, data)
    receipt = next(c for c in case["certificates"] if c["kind"] == "food_filing")
    assert receipt["title"] == "仅销售预包装食品备案回执"
    assert receipt["number"] == p.FOOD_FILED["food_filing_number"]
    assert receipt["expires_on"] is None and receipt["issuer"] == "示范区市场监督管理局"
    assert ("经营场所", p.PREPACKAGED["shop_address"]) in [
        (f["label"], f["value"]) for f in receipt["fields"]
    ]
    no_food = desk.start(p.APPLICATION)
    checklist = desk.get(f"/cases/{no_food['id']}/materials")
    assert "food_materials" not in [m["code"] for m in checklist["materials"]]
    assert [m["code"] for m in checklist["not_needed"]] == [
        "agent_authorization",
        "food_materials",
    ]
    assert checklist["not_needed"][1]["applies_when"] == "销售食品(含仅销售预包装食品)的"


def test_a_drug_permit_number_of_the_wrong_form_is_refused_at_issuance(desk: Desk) -> None:
    application, steps, _ = p.PATHS["granted_no_food"]
    case = desk.start(application)
    for element, data in steps[:-1]:
        case = desk.do(case, element, data)
    task = desk.open(case, "joint_issuance")[0]
    response = desk.client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=desk.headers["issuer"],
        json={"data": {**p.ISSUANCE, "drug_permit_number": "DB5710017"}},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "drug_permit_number"


def test_accept_with_gaps_pauses_the_clock_and_holds_issuance_until_supplied(desk: Desk) -> None:
    case = desk.do(desk.start(p.APPLICATION), "intake", p.ACCEPT_WITH_GAPS)
    assert case["clock"] == "paused"
    supply = desk.open(case, "supply_materials")[0]
    assert supply["deadline"] == "2026-03-16"  # supply_workdays: 10
    case = desk.do(case, "review_licence", p.LICENCE_OK)
    case = desk.do(case, "review_drug", p.DRUG_OK)
    case = desk.do(case, "drug_inspection", p.INSPECTION_PASS)
    assert [t["element"] for t in case["tasks"]] == ["supply_materials"]
    case = desk.do(case, "supply_materials", p.SUPPLIED)
    assert case["clock"] == "running"
    assert [t["element"] for t in case["tasks"]] == ["joint_issuance"]


def test_acceptance_starts_the_clock_with_the_drug_permits_limits(desk: Desk) -> None:
    case = desk.do(desk.start(p.APPLICATION), "intake", p.CORRECT)
    assert case["clock"] == "not_started"
    notice = desk.get(f"/cases/{case['id']}/correction-notice")
    assert [m["code"] for m in notice["materials"]] == p.CORRECT["missing_materials"]
    case = desk.do(case, "correction", p.CORRECTED)
    case = desk.do(case, "intake", p.ACCEPT)
    # 承诺 10 and 法定 20 working days from Monday 2026-03-02
    assert (case["clock"], case["deadline"]) == ("running", "2026-03-16")
    assert case["statutory_deadline"] == "2026-03-30"


def test_denial_cancels_the_open_supply_task(desk: Desk) -> None:
    case = desk.do(desk.start(p.BULK), "intake", p.ACCEPT_WITH_GAPS)
    supply = desk.open(case, "supply_materials")[0]
    case = desk.do(case, "review_drug", p.DRUG_NO)
    case = desk.do(case, "review_licence", p.LICENCE_OK)
    case = desk.do(case, "review_food", p.FOOD_OK)
    assert sorted(t["element"] for t in case["tasks"]) == ["denial_notice", "supply_materials"]
    case = desk.do(case, "denial_notice", p.DENIAL)
    assert case["outcome"]["element"] == "denied"
    assert desk.get(f"/tasks/{supply['id']}")["status"] == "cancelled"
    desk.replayed(case)


def test_an_agent_files_on_the_applicants_behalf(desk: Desk) -> None:
    case = desk.start(p.APPLICATION_BY_AGENT)
    assert case["applicant"] == {"name": "王五", "id_number": p.APPLICATION["applicant_id_number"]}
    assert case["agent"] == {"name": "孙代办", "id_number": "330102199202021234"}
