"""bundle.json typed (engine/domain/bundle_metadata.py): the defaults of a section left out, the
restaurant's file, custom intake values down to the material states a task page shows, and the
Chinese labels of the domain's states."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.bundles.metadata import read_metadata
from engine.domain.bundle_metadata import (
    ApplicantFields,
    BundleMetadata,
    IntakePolicy,
    Material,
    RatingPolicy,
    TimePolicy,
)
from engine.domain.certificates import CertificateSpec, CertificateStatus
from engine.domain.model import CaseStatus, EventType
from engine.domain.timelimits import ClockState, Timeliness
from engine.services.intake import material_states
from tests.conftest import PROCESSES
from web import labels

RESTAURANT = json.loads((PROCESSES / "restaurant" / "bundle.json").read_text("utf-8"))


def test_a_bundle_without_bundle_json_gets_every_default() -> None:
    meta = BundleMetadata.from_dict({})
    assert (meta.key, meta.name, meta.process, meta.description, meta.issuer) == (
        None,
        None,
        None,
        "",
        None,
    )
    assert meta.items == () and meta.materials == () and meta.certificates == []
    assert meta.intake == IntakePolicy(
        element="intake",
        decision_field="intake_decision",
        missing_field="missing_materials",
        correct_value="correct",
        correction_element=None,
        element_given=False,
    )
    assert meta.applicant == ApplicantFields(
        name_field="applicant_name",
        id_field="applicant_id_number",
        agent_field="agent_name",
        agent_id_field="agent_id_number",
        holder_field=None,
        phone_field="contact_phone",
        email_field="contact_email",
    )
    assert meta.time_policy == TimePolicy(None, None, None, 2, None)
    assert meta.rating == RatingPolicy(rectification_group=None, rectification_workdays=10)
    assert meta.renewal_reminders == (30, 7)


def test_empty_sections_read_as_left_out() -> None:
    empty: dict[str, Any] = {
        "intake": {},
        "applicant": {},
        "time_limits": {},
        "rating": {},
        "renewal": {},
        "items": [],
        "materials": [],
    }
    assert BundleMetadata.from_dict(empty) == BundleMetadata.from_dict({})


def test_the_restaurant_bundle_json() -> None:
    meta = BundleMetadata.from_dict(RESTAURANT)
    assert (meta.key, meta.process, meta.issuer) == (
        "restaurant",
        "restaurant",
        "杭州市上城区市场监督管理局",
    )
    assert [(i.code, i.department) for i in meta.items] == [
        ("business_licence", "市场监管局"),
        ("food_permit", "市场监管局(食品经营)"),
    ]
    licence, permit = meta.certificates
    assert licence == CertificateSpec(
        kind="business_licence",
        title="营业执照",
        number_field="licence_number",
        number_pattern="[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}",
        validity_years=None,
        fields=(
            ("名称", "shop_name"),
            ("经营者", "applicant_name"),
            ("经营场所", "shop_address"),
            ("经营范围", "business_scope"),
        ),
    )
    assert (permit.kind, permit.validity_years) == ("food_permit", 5)
    # no limit of its own: the longest of the items'
    assert meta.time_policy == TimePolicy(
        limit=7,
        statutory_limit=20,
        starts_at="acceptance_gateway",
        warning=2,
        escalation_group="supervisors",
    )
    assert len(meta.materials) == 10
    assert meta.materials[3] == Material(
        "agent_authorization",
        "授权委托书及代办人身份证明",
        required=False,
        deferrable=False,
        note="委托帮办代办人办理时提交",
    )
    assert meta.applicant.holder_field == "shop_name"
    assert meta.applicant.people == (
        "applicant_name",
        "applicant_id_number",
        "agent_name",
        "agent_id_number",
    )
    assert meta.intake.element_given and meta.intake.correction_element == "correction"
    assert meta.raw == RESTAURANT


def test_time_limits_given_outrank_the_items() -> None:
    meta = BundleMetadata.from_dict(
        {
            "items": [
                {"code": "a", "name": "甲", "promised_workdays": 3, "statutory_workdays": 9},
                {"code": "b", "name": "乙", "promised_workdays": 5},
            ],
            "time_limits": {"promised_workdays": 4, "warning_workdays": 0},
        }
    )
    assert (meta.time_policy.limit, meta.time_policy.statutory_limit) == (4, 9)
    assert meta.time_policy.warning == 0


def test_an_item_without_a_certificate_issues_none() -> None:
    meta = BundleMetadata.from_dict(
        {"items": [{"code": "a", "name": "甲"}, {"code": "b", "name": "乙", "certificate": {}}]}
    )
    # an upload needs a title; a stored certificate without one takes the item's name
    assert meta.items[0].certificate is None
    assert [(c.kind, c.title) for c in meta.certificates] == [("b", "乙")]


def test_rating_and_renewal_settings() -> None:
    meta = BundleMetadata.from_dict(
        {
            "rating": {"rectification_group": "quality", "rectification_workdays": 3},
            "renewal": {"remind_days_before": [60]},
        }
    )
    assert meta.rating == RatingPolicy("quality", 3)
    assert meta.renewal_reminders == (60,)
    assert BundleMetadata.from_dict({"renewal": {"remind_days_before": []}}).renewal_reminders == ()


# -- 一窗受理 with values of its own ------------------------------------------------------------

CUSTOM_INTAKE = {
    "element": "check",
    "decision_field": "verdict",
    "missing_field": "lacking",
    "correct_value": "fix",
}
MATERIALS = [
    {"code": "form", "name": "申请表"},
    {"code": "lease", "name": "租赁合同"},
    {"code": "photo", "name": "照片", "required": False},
    {"code": "health", "name": "健康证明", "deferrable": True},
]


def test_custom_intake_values_are_read_and_decide_what_a_correction_is() -> None:
    intake = BundleMetadata.from_dict({"intake": CUSTOM_INTAKE}).intake
    assert intake == IntakePolicy("check", "verdict", "lacking", "fix", None, element_given=True)
    assert intake.is_correction("check", {"verdict": "fix"})
    assert not intake.is_correction("check", {"verdict": "correct"})  # the default value
    assert not intake.is_correction("intake", {"verdict": "fix"})  # another task
    assert not intake.is_correction("check", {"intake_decision": "fix"})
    # a bundle naming only some keys keeps the defaults of the others
    partial = IntakePolicy.from_dict({"correct_value": "fix"})
    assert (partial.element, partial.decision_field, partial.element_given) == (
        "intake",
        "intake_decision",
        False,
    )


def _states(intake: dict[str, str], data: dict[str, Any]) -> dict[str, str]:
    meta = BundleMetadata.from_dict({"intake": intake, "materials": MATERIALS})
    return {m["code"]: m["state"] for m in material_states(meta, data)}


@pytest.mark.parametrize(
    ("intake", "asked", "accepted"),
    [
        ({}, {"intake_decision": "correct"}, {"intake_decision": "accept"}),
        (CUSTOM_INTAKE, {"verdict": "fix"}, {"verdict": "ok"}),
    ],
    ids=["default", "custom"],
)
def test_material_states_follow_the_configured_correct_value(
    intake: dict[str, str], asked: dict[str, str], accepted: dict[str, str]
) -> None:
    missing = IntakePolicy.from_dict(intake).missing_field
    assert _states(intake, {}) == {
        "form": "pending",
        "lease": "pending",
        "photo": "optional",
        "health": "pending",
    }
    corrected = {missing: ["lease"], "supplied_materials": ["lease"]}
    # while the decision is still 补正, a material asked for is missing, supplied or not
    assert _states(intake, {**asked, **corrected}) == {
        "form": "submitted",
        "lease": "missing",
        "photo": "optional",
        "health": "submitted",
    }
    # accepted after the correction: it was corrected
    assert _states(intake, {**accepted, **corrected})["lease"] == "corrected"
    assert _states(intake, {**accepted, missing: ["lease"]})["lease"] == "missing"


def test_deferred_materials_are_owed_until_supplied() -> None:
    data = {"intake_decision": "accept_with_gaps", "deferred_materials": ["health"]}
    assert _states({}, data)["health"] == "deferred"
    assert _states({}, {**data, "supplied_materials": ["health"]})["health"] == "supplied"


def test_a_state_row_keeps_the_checklist_entry() -> None:
    meta = BundleMetadata.from_dict({"materials": MATERIALS})
    assert material_states(meta, {})[2] == {
        "code": "photo",
        "name": "照片",
        "required": False,
        "deferrable": False,
        "note": "",
        "state": "optional",
    }
    assert set(labels.MATERIAL_STATES) >= {
        "pending",
        "submitted",
        "missing",
        "corrected",
        "deferred",
        "supplied",
        "optional",
    }


# -- the upload reader -------------------------------------------------------------------------


def test_the_upload_reads_bundle_json_typed() -> None:
    files = {"restaurant/bundle.json": json.dumps(RESTAURANT).encode("utf-8")}
    meta, problems = read_metadata(files)
    assert problems == [] and meta == BundleMetadata.from_dict(RESTAURANT)
    refused, problems = read_metadata({"bundle.json": b'{"intake": {"element": 1}}'})
    assert problems and refused == BundleMetadata()
    assert read_metadata({}) == (BundleMetadata(), [])


# -- the labels of the domain's states ---------------------------------------------------------


@pytest.mark.parametrize(
    "states", [CaseStatus, ClockState, Timeliness, EventType, CertificateStatus]
)
def test_every_state_has_its_label(states: Any) -> None:
    assert all(isinstance(s.label, str) and s.label for s in states)


def test_labels_as_the_pages_show_them() -> None:
    assert labels.STATUS_LABELS == {
        "running": "办理中",
        "completed": "已办结",
        "cancelled": "已撤销",
        "error": "出错",
        "suspended": "已挂起",
    }
    assert labels.CLOCK_LABELS == {
        "not_started": "未开始计时 (尚未受理)",
        "running": "计时中",
        "paused": "暂停计时",
        "stopped": "已停止计时",
    }
    assert labels.TIMELINESS_LABELS == {"normal": "正常", "warning": "预警", "overdue": "超期"}
    assert labels.CERTIFICATE_STATUS == {
        "valid": "有效",
        "revoked": "已撤销",
        "expired": "已过期",
        "cancelled": "已注销",
    }
    assert EventType.CLOCK_STARTED.label == "受理, 开始计时"
