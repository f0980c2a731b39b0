"""新生儿出生一件事 (`processes/newborn`) end to end through the API, on SQLite and PostgreSQL:
uploaded as a zip of its files, every path run by the clerks of its groups (受理, 补正 then
受理, 不予受理, 出生医学证明不予签发, 不予出生登记, 帮办代办 with postal delivery), the four
certificates issued to the child (the 出生医学证明 and the 预防接种证 at their own departments'
tasks, kept when 出生登记 is refused) and verified on the public check, and every case verified by
the audit's replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.persistence.db import make_engine
from engine.services import Services, accounts, calendar
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.clock import FakeClock
from tests.fixtures.newborn import (
    ACCEPT,
    APPLICATION,
    APPLICATION_BY_AGENT,
    BIRTH_DENIED,
    BIRTH_ISSUED,
    CARD,
    CORRECT,
    GROUP_OF,
    HELD,
    INSURED,
    ISSUANCE,
    ISSUANCE_BY_POST,
    PATHS,
    REGISTERED,
    VACCINATION,
)
from tests.interop.harness import Interop

KEY = "newborn"


def bundle_files() -> dict[str, bytes]:
    """The upload a designer makes: the bundle's folder and its forms, in one zip."""
    files = {p.name: p.read_bytes() for p in sorted((PROCESSES / KEY).iterdir())}
    for form in sorted((FORMS / KEY).glob("*.json")):
        files[f"forms/{KEY}/{form.name}"] = form.read_bytes()
    return files


class Desk(Interop):
    """The interop harness with the upload's answer and an auditor for the replays."""

    uploaded: dict[str, Any]
    auditor: dict[str, str]


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    """The API on a fresh database with a member in every group the bundle names (督办's
    `supervisors` too), the bundle uploaded and published, and an auditor."""
    from web import create_app

    clock = FakeClock()
    engine = make_engine(db_url)
    svc = Services(engine, FORMS, clock=clock)
    calendar.seed(svc)
    app = create_app({"SERVICES": svc, "TESTING": True})
    made = Desk(app.test_client(), svc, clock)
    for group in sorted({*GROUP_OF.values(), "supervisors"}):
        made.clerk(group=group)
    _, token = accounts.create_user(svc, "newborn_auditor", "auditor", [])
    made.auditor = {"Authorization": f"Bearer {token}"}
    made.uploaded = made.accepted(f"{KEY}.zip", bundle_files())
    yield made
    engine.dispose()


def open_elements(view: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in view["tasks"])


def work(desk: Desk, view: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
    """A member of the task's group completes the one open task of `element`."""
    found = [t for t in view["tasks"] if t["element"] == element]
    assert len(found) == 1, f"{element}: open {open_elements(view)}"
    assert found[0]["groups"] == [GROUP_OF[element]], found[0]
    answer = desk.complete(found[0], data, desk.clerk(group=GROUP_OF[element]))
    assert answer.status_code == 200, (element, answer.get_json())
    return desk.case(view["id"])


def walk(desk: Desk, steps: list[tuple[str, dict[str, Any]]], start: dict[str, Any]) -> Any:
    view = desk.start(KEY, start)
    for element, data in steps:
        view = work(desk, view, element, data)
    return view


def replayed(desk: Desk, case_id: int) -> dict[str, Any]:
    answer = desk.client.get(f"/api/v1/cases/{case_id}/replay", headers=desk.auditor)
    assert answer.status_code == 200, answer.get_json()
    verdict: dict[str, Any] = answer.get_json()
    assert verdict["verified"] is True, verdict
    return verdict


def verified(desk: Desk, number: str) -> dict[str, Any]:
    answer = desk.client.get(f"/api/v1/public/certificates/{number}")
    assert answer.status_code == 200, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    return found


def test_the_bundle_uploads_without_errors_or_warnings(desk: Desk) -> None:
    body = desk.uploaded
    assert body["key"] == KEY and body["version"] == 1
    assert body["warnings"] == []


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_path_ends_where_it_should_and_replays(desk: Desk, path: str) -> None:
    steps, end = PATHS[path]
    view = walk(desk, steps, APPLICATION)
    assert view["status"] == "completed", view
    assert view["outcome"]["element"] == end
    assert view["tasks"] == []
    assert {c["kind"] for c in view["certificates"]} == HELD[path]
    for cert in view["certificates"]:  # a denied case keeps what it was issued (partial result)
        public = verified(desk, cert["number"])
        assert public["status"] == "valid" and public["holder"] == "陈小语 (王丽)"
    replayed(desk, view["id"])


def test_the_hospital_comes_first_then_the_police_then_insurance_and_card_together(
    desk: Desk,
) -> None:
    view = work(desk, desk.start(KEY, APPLICATION), "intake", ACCEPT)
    # accepted: the clock runs; 出生医学证明 and 预防接种证 at once, nothing that needs either
    assert view["clock"] == "running"
    # the promised 5 working days; the law sets no statutory limit for these services
    assert view["deadline"] is not None and view["statutory_deadline"] is None
    assert open_elements(view) == ["birth_certificate", "vaccination_certificate"]
    view = work(desk, view, "birth_certificate", BIRTH_ISSUED)
    assert open_elements(view) == ["household_registration", "vaccination_certificate"]
    # the hospital's certificate exists at once, days before the rest; the clock runs on
    assert [c["kind"] for c in view["certificates"]] == ["birth_medical_certificate"]
    assert verified(desk, BIRTH_ISSUED["birth_certificate_number"])["status"] == "valid"
    assert view["clock"] == "running"
    view = work(desk, view, "household_registration", REGISTERED)
    # the 公民身份号码 is there: 医保参保 and 社保卡 in parallel
    assert open_elements(view) == [
        "insurance_registration",
        "social_card",
        "vaccination_certificate",
    ]
    view = work(desk, view, "social_card", CARD)
    view = work(desk, view, "insurance_registration", INSURED)
    # 统一出证 waits for the 预防接种证, the last branch still open
    assert open_elements(view) == ["vaccination_certificate"]
    view = work(desk, view, "vaccination_certificate", VACCINATION)
    assert open_elements(view) == ["joint_issuance"]
    assert len(view["certificates"]) == 2 and view["clock"] == "running"
    view = work(desk, view, "joint_issuance", ISSUANCE)
    assert view["status"] == "completed" and view["outcome"]["element"] == "concluded"
    assert view["clock"] == "stopped"

    certificates = {c["kind"]: c for c in view["certificates"]}
    numbers = {
        "birth_medical_certificate": BIRTH_ISSUED["birth_certificate_number"],
        "household_registration": REGISTERED["citizen_id_number"],
        "social_security_card": CARD["social_card_number"],
        "vaccination_certificate": VACCINATION["vaccination_certificate_number"],
    }
    assert {kind: c["number"] for kind, c in certificates.items()} == numbers
    # the child holds them, the parent who applied in brackets; no certificate for 医保参保
    assert {c["holder"] for c in certificates.values()} == {"陈小语 (王丽)"}
    assert certificates["social_security_card"]["expires_on"] is not None
    assert certificates["birth_medical_certificate"]["expires_on"] is None
    # each from its real 发证机关: the birth hospital and the 接种单位 named in the case data
    # (`certificate.issuer_field`), the police station and the 人社局 (`certificate.issuer`)
    issuers = {
        "birth_medical_certificate": APPLICATION["birth_hospital"],
        "household_registration": "示范区公安分局户籍派出所",
        "social_security_card": "示范区人力资源和社会保障局",
        "vaccination_certificate": VACCINATION["vaccination_unit"],
    }
    assert {kind: c["issuer"] for kind, c in certificates.items()} == issuers
    for kind, number in numbers.items():
        public = verified(desk, number)
        assert public["status"] == "valid" and public["holder"] == "陈小语 (王丽)", kind
        assert public["issuer"] == issuers[kind]
    card = desk.client.get(
        f"/api/v1/certificates/{CARD['social_card_number']}", headers=desk.clerk(group="issuance")
    ).get_json()
    printed = {f["label"]: f["value"] for f in card["fields"]}
    assert printed["社会保障号码"] == REGISTERED["citizen_id_number"]
    assert replayed(desk, view["id"])["steps"] > 8


def test_a_refused_birth_certificate_ends_the_case_and_cancels_the_vaccination_branch(
    desk: Desk,
) -> None:
    view = work(desk, desk.start(KEY, APPLICATION), "intake", ACCEPT)
    view = work(desk, view, "birth_certificate", BIRTH_DENIED)
    # no 出生登记 without the 出生医学证明; the window writes the 不予办理告知
    assert open_elements(view) == ["denial_notice", "vaccination_certificate"]
    view = work(desk, view, "denial_notice", {"denial_reason": BIRTH_DENIED["birth_opinion"]})
    assert view["status"] == "completed" and view["outcome"]["element"] == "denied"
    assert view["tasks"] == [] and view["certificates"] == []
    replayed(desk, view["id"])


def test_correction_lists_every_missing_material_once(desk: Desk) -> None:
    view = work(desk, desk.start(KEY, APPLICATION), "intake", CORRECT)
    assert open_elements(view) == ["correction"]
    assert view["clock"] != "running"  # not accepted yet: 补正 is outside the promised limit
    notice = desk.client.get(
        f"/api/v1/cases/{view['id']}/correction-notice", headers=desk.clerk(group="front_desk")
    ).get_json()
    text = str(notice)
    assert "父母结婚证或非婚生育说明" in text and "出生医学证明首次签发登记表" in text


def test_an_agent_files_for_the_father_and_the_certificates_are_posted(desk: Desk) -> None:
    steps = [(e, ISSUANCE_BY_POST if e == "joint_issuance" else d) for e, d in PATHS["granted"][0]]
    view = walk(desk, steps, APPLICATION_BY_AGENT)
    assert view["outcome"]["element"] == "concluded"
    assert view["agent"]["name"] == "赵代办"
    assert {c["holder"] for c in view["certificates"]} == {"陈小语 (陈明)"}
    replayed(desk, view["id"])


def test_a_number_in_the_wrong_format_is_refused_by_the_hospitals_form(desk: Desk) -> None:
    view = work(desk, desk.start(KEY, APPLICATION), "intake", ACCEPT)
    task = next(t for t in view["tasks"] if t["element"] == "birth_certificate")
    answer = desk.complete(
        task,
        {**BIRTH_ISSUED, "birth_certificate_number": "330100001"},
        desk.clerk(group="hospital"),
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.get_json()["errors"]] == ["birth_certificate_number"]
    # issued without a number is refused too
    answer = desk.client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=desk.clerk(group="hospital"),
        json={"data": {"birth_certificate_issued": True}},
    )
    assert answer.status_code == 422
