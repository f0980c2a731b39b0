"""我要开便利店 (processes/convenience_store) through the API on SQLite and PostgreSQL: every
path end to end, the certificates of the items that apply issued and verified, the 备案 versus the food permit,
each row of the tobacco layout table (tobacco_layout.dmn), and every case's replay verifying."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import convenience_store as cs
from tests.interop.harness import Interop

BUNDLE = Path(__file__).parents[2] / "processes" / "convenience_store"
FILES = (
    "bundle.json",
    "convenience_store.bpmn",
    "tobacco_layout.dmn",
    "application_form_blank.pdf",
    "application_form_sample.pdf",
)
GROUPS = ("front_desk", "market_regulation", "food_safety", "tobacco", "issuance", "supervisors")


def upload(interop: Interop) -> dict[str, Any]:
    """The bundle folder as a zip (its forms come from the server's forms library)."""
    for group in GROUPS:  # every group has a member, so the upload has nothing to warn about
        interop.clerk(group=group)
    files = {name: (BUNDLE / name).read_bytes() for name in FILES}
    return interop.accepted("convenience_store.zip", files)


def open_elements(view: dict[str, Any]) -> set[str]:
    return {t["element"] for t in view["tasks"]}


def do(
    interop: Interop, view: dict[str, Any], element: str, data: dict[str, Any]
) -> dict[str, Any]:
    task = next((t for t in view["tasks"] if t["element"] == element), None)
    assert task, f"{element} is not open: {sorted(open_elements(view))}"
    answer = interop.complete(task, data)
    assert answer.status_code == 200, (element, answer.get_json())
    return interop.case(view["id"])


def replay_verifies(interop: Interop, case_id: int) -> None:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/replay", headers=interop.admin)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


@pytest.fixture
def store(interop: Interop) -> Interop:
    upload(interop)
    return interop


def test_the_upload_is_clean(interop: Interop) -> None:
    body = upload(interop)
    assert body["warnings"] == []


@pytest.mark.parametrize("path", sorted(cs.PATHS))
def test_path(store: Interop, path: str) -> None:
    application, steps, end = cs.PATHS[path]
    view = store.start("convenience_store", application)
    for element, data in steps:
        view = do(store, view, element, data)
        if "joint_issuance" in open_elements(view):
            assert open_elements(view) == {"joint_issuance"}, "issuance opened with work pending"
    assert view["status"] == "completed", view
    assert view["tasks"] == []
    assert view["outcome"]["element"] == end
    assert (view["time_limit"]["limit"], view["time_limit"]["statutory_limit"]) == (
        cs.limits(application) if end != "refused" else (None, None)
    )
    certificates = view["certificates"]
    if end == "concluded":
        # the certificates of the items that apply: 营业执照, 备案回执 or 食品经营许可证, and the
        # tobacco licence when cigarettes are sold; each on the public check
        assert {c["kind"]: c["number"] for c in certificates} == cs.certificates(application)
        for cert in certificates:
            assert cert["holder"] == "小明便利店 (王小明)"
            assert cert["issuer"] == cs.issuer(cert["kind"])
            public = store.client.get(f"/api/v1/public/certificates/{cert['number']}")
            assert public.status_code == 200
            assert public.get_json()["status"] == "valid"
            assert public.get_json()["title"] == cert["title"]
            assert public.get_json()["issuer"] == cs.issuer(cert["kind"])
        expiry = {c["kind"]: c["expires_on"] for c in certificates}
        assert expiry["business_licence"] is None  # 营业执照: 长期
        assert all(expiry[k] for k in ("food_permit", "tobacco_licence") if k in expiry)
    else:
        assert certificates == []
    replay_verifies(store, view["id"])


def test_prepackaged_food_is_filed_at_once_without_a_review(store: Interop) -> None:
    view = store.start("convenience_store", cs.PREPACKAGED)
    view = do(store, view, "intake", cs.ACCEPT)
    assert open_elements(view) == {"review_licence", "food_filing"}
    assert view["clock"] == "running"
    view = do(store, view, "food_filing", cs.FILING)
    view = do(store, view, "review_licence", cs.LICENCE_OK)
    view = do(store, view, "joint_issuance", cs.ISSUANCE)
    assert view["data"]["filing_number"] == cs.FILING["filing_number"]
    assert "food_approved" not in view["data"] and "permit_number" not in view["data"]
    done = [e["element"] for e in _events(store, view["id"]) if e["type"] == "task_completed"]
    assert "review_food" not in done and "tobacco_survey" not in done


def test_bulk_food_needs_the_permit_review_and_its_number(store: Interop) -> None:
    view = store.start("convenience_store", cs.BULK_TOBACCO)
    view = do(store, view, "intake", cs.ACCEPT)
    assert open_elements(view) == {"review_licence", "review_food", "tobacco_survey"}
    task = next(t for t in view["tasks"] if t["element"] == "review_food")
    refused = store.complete(task, {"food_approved": True})  # a permit needs its number
    assert refused.status_code == 422
    assert any(e.get("field") == "permit_number" for e in refused.get_json()["errors"])
    view = do(store, store.case(view["id"]), "review_food", cs.FOOD_OK)
    assert "filing_number" not in view["data"]


def test_the_applicant_cannot_skip_the_food_mode_or_tobacco_answer(store: Interop) -> None:
    partial = {k: v for k, v in cs.PREPACKAGED.items() if k != "sells_tobacco"}
    answer = store.client.post(
        "/api/v1/cases",
        headers=store.starter,
        json={"bundle": "convenience_store", "data": partial},
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.get_json()["errors"]] == ["sells_tobacco"]


def test_an_agent_files_on_the_applicants_behalf(store: Interop) -> None:
    view = store.start("convenience_store", cs.BY_AGENT)
    assert view["agent"]["name"] == "李代办"
    view = do(store, view, "intake", cs.ACCEPT)
    assert open_elements(view) == {"review_licence", "food_filing"}


def test_gaps_hold_issuance_until_supplied_and_pause_the_clock(store: Interop) -> None:
    view = store.start("convenience_store", cs.BULK)
    view = do(store, view, "intake", cs.ACCEPT_WITH_GAPS_FOOD)
    assert open_elements(view) == {"review_licence", "review_food", "supply_materials"}
    assert view["clock"] == "paused"
    view = do(store, view, "review_licence", cs.LICENCE_OK)
    view = do(store, view, "review_food", cs.FOOD_OK)
    assert open_elements(view) == {"supply_materials"}
    view = do(store, view, "supply_materials", cs.SUPPLIED_FOOD)
    assert open_elements(view) == {"joint_issuance"}
    assert view["clock"] == "running"


def test_a_denial_ends_the_case_and_cancels_the_other_items(store: Interop) -> None:
    view = store.start("convenience_store", cs.BULK_TOBACCO)
    view = do(store, view, "intake", cs.ACCEPT_WITH_GAPS)
    view = do(store, view, "review_licence", cs.LICENCE_NO)
    assert open_elements(view) == {
        "licence_denial",
        "review_food",
        "tobacco_survey",
        "supply_materials",
    }
    view = do(store, view, "licence_denial", cs.DENIAL)
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == "licence_denied"
    replay_verifies(store, view["id"])


def test_every_layout_rule_through_the_api(store: Interop) -> None:
    """Each row of the layout table, reached by a real case: 实地核查 then the business rule
    task; the reviewer's task opens with the table's answer in the case data."""
    for row, (_, (ok, rule, minimum)) in cs.LAYOUT_ROWS.items():
        view = store.start("convenience_store", cs.PREPACKAGED_TOBACCO)
        view = do(store, view, "intake", cs.ACCEPT)
        view = do(store, view, "tobacco_survey", cs.survey(row))
        assert "tobacco_review" in open_elements(view), row
        data = view["data"]
        got = (data["layout_ok"], data["layout_rule"], data["layout_min_distance_m"])
        assert got == (ok, rule, minimum), row
        assert data["layout_note"], row


def test_the_reviewer_may_grant_against_the_table(store: Interop) -> None:
    """The table advises; the tobacco reviewer decides (e.g. a 便民 point approved by the
    bureau's rules the table does not know)."""
    view = store.start("convenience_store", cs.PREPACKAGED_TOBACCO)
    view = do(store, view, "intake", cs.ACCEPT)
    view = do(store, view, "tobacco_survey", cs.survey("r_rural_near"))
    assert view["data"]["layout_ok"] is False
    view = do(store, view, "tobacco_review", cs.TOBACCO_OK)
    view = do(store, view, "review_licence", cs.LICENCE_OK)
    view = do(store, view, "food_filing", cs.FILING)
    assert open_elements(view) == {"joint_issuance"}


def _events(interop: Interop, case_id: int) -> list[dict[str, Any]]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    assert answer.status_code == 200, answer.get_json()
    events: list[dict[str, Any]] = answer.get_json()["events"]
    return events


def test_a_shop_without_tobacco_is_not_asked_for_the_tobacco_materials(store: Interop) -> None:
    """`materials[].item`: the tobacco materials only when the tobacco licence applies, the food
    permit's only with bulk food; the rest shown apart as 本件不需要 with the item's condition."""
    view = store.start("convenience_store", cs.PREPACKAGED)
    answer = store.client.get(
        f"/api/v1/cases/{view['id']}/materials", headers=store.clerk(group="front_desk")
    )
    assert answer.status_code == 200
    checklist = answer.get_json()
    assert [m["code"] for m in checklist["materials"]] == [
        "application_form",
        "name_declaration",
        "identity_proof",
        "premises_proof",
    ]
    assert all(m["state"] == "pending" for m in checklist["materials"])
    not_needed = {m["code"]: m["applies_when"] for m in checklist["not_needed"]}
    assert not_needed["tobacco_application"] == "销售卷烟、雪茄烟"
    assert not_needed["premises_layout"] == "销售散装食品、冷藏冷冻食品等"
    both = store.start("convenience_store", cs.BULK_TOBACCO)
    listed = store.client.get(
        f"/api/v1/cases/{both['id']}/materials", headers=store.clerk(group="front_desk")
    ).get_json()
    assert [m["code"] for m in listed["not_needed"]] == ["agent_authorization"]
    assert {"tobacco_application", "location_photos", "health_certificates"} <= {
        m["code"] for m in listed["materials"]
    }
