"""Fields a form's own conditions control (engine/forms/conditions.py): which fields each JSON
Schema keyword controls, when they apply, what the server does with a value for a field that does
not apply, and the restaurant forms that follow the decision (issue 17 · D). No database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.domain.bundle_metadata import BundleMetadata
from engine.forms import validate_form_data
from engine.forms.conditions import client_rules, controlled_fields
from engine.forms.validation import hidden_values
from engine.services import intake
from tests.fixtures import restaurant as r
from web.forms_render import form_fields

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "forms" / "restaurant"


def _form(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMS / f"{name}.json").read_text("utf-8"))
    return loaded


def _errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    return {e.field: e.message for e in validate_form_data(schema, data)}


KIND = {"type": "string", "oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]}


def _if_kind_a(branch: str = "then") -> dict[str, Any]:
    return {
        "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
        branch: {"required": ["detail"]},
    }


def _schema(**extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "kind": KIND,
            "detail": {"type": "string", "title": "说明"},
            "note": {"type": "string", "title": "备注"},
        },
        "required": ["kind"],
        **extra,
    }


# ------------------------------------------------------------------ which fields, per keyword


def test_if_then_inside_all_of_controls_the_fields_then_requires() -> None:
    schema = _schema(allOf=[_if_kind_a()])
    assert list(controlled_fields(schema)) == ["detail"]
    assert _errors(schema, {"kind": "a"}) == {"detail": "必填"}
    assert _errors(schema, {"kind": "a", "detail": "x"}) == {}
    assert _errors(schema, {"kind": "b"}) == {}
    # a value for a field its condition does not let apply is refused, saying when it applies
    assert _errors(schema, {"kind": "b", "detail": "x"}) == {"detail": "仅在「kind」为「甲」时填写"}


def test_if_then_at_the_top_and_else_count_too() -> None:
    top = _schema(**_if_kind_a())
    assert list(controlled_fields(top)) == ["detail"]
    assert _errors(top, {"kind": "b", "detail": "x"}) == {"detail": "仅在「kind」为「甲」时填写"}
    otherwise = _schema(allOf=[_if_kind_a("else")])
    assert _errors(otherwise, {"kind": "b"}) == {"detail": "必填"}
    assert _errors(otherwise, {"kind": "a", "detail": "x"}) == {
        "detail": "仅在「kind」不为「甲」时填写"
    }
    assert _errors(otherwise, {"kind": "b", "detail": "x"}) == {}


def test_dependent_required_controls_its_fields_while_the_trigger_is_filled() -> None:
    schema = _schema(dependentRequired={"note": ["detail"]})
    assert list(controlled_fields(schema)) == ["detail"]
    assert _errors(schema, {"kind": "a", "note": "n"}) == {"detail": "必填 (已填写相关字段)"}
    assert _errors(schema, {"kind": "a", "detail": "x"}) == {"detail": "仅在填写了「备注」时填写"}
    assert _errors(schema, {"kind": "a", "note": "n", "detail": "x"}) == {}


def test_dependent_schemas_control_the_fields_their_schema_requires() -> None:
    schema = _schema(dependentSchemas={"note": {"required": ["detail"]}})
    assert list(controlled_fields(schema)) == ["detail"]
    assert _errors(schema, {"kind": "a", "note": "n"}) == {"detail": "必填"}
    assert _errors(schema, {"kind": "a", "detail": "x"}) == {"detail": "仅在填写了「备注」时填写"}


def test_a_field_required_always_or_shown_always_is_never_hidden() -> None:
    always_required = _schema(allOf=[_if_kind_a()])
    always_required["required"] = ["kind", "detail"]
    assert controlled_fields(always_required) == {}
    shown = _schema(allOf=[_if_kind_a()])
    shown["properties"]["detail"]["x-show"] = "always"
    assert controlled_fields(shown)["detail"].always_shown
    assert _errors(shown, {"kind": "b", "detail": "同意"}) == {}
    assert _errors(shown, {"kind": "a"}) == {"detail": "必填"}


def test_an_empty_value_is_not_filled_in() -> None:
    schema = _schema(allOf=[_if_kind_a()])
    assert hidden_values(schema, {"kind": "b", "detail": ""}) == {}
    assert hidden_values(schema, {"kind": "b", "detail": None}) == {}


def test_a_condition_the_page_cannot_evaluate_hides_nothing() -> None:
    odd = {
        "if": {"properties": {"kind": {"pattern": "^a"}}, "required": ["kind"]},
        "then": {"required": ["detail"]},
    }
    schema = _schema(allOf=[odd])
    assert controlled_fields(schema) == {}
    assert _errors(schema, {"kind": "b", "detail": "x"}) == {}
    assert _errors(schema, {"kind": "a"}) == {"detail": "必填"}  # still required by the server


def test_the_pages_rules_carry_each_gate_and_the_types_it_reads() -> None:
    schema = _schema(allOf=[_if_kind_a()], dependentRequired={"note": ["detail"]})
    rules = client_rules(schema)
    assert rules["controlled"] == {
        "detail": {
            "gates": [
                {
                    "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
                    "matches": True,
                },
                {"filled": "note"},
            ],
            "always": False,
        }
    }
    assert rules["types"]["kind"] == {"type": "string", "items": "string"}
    assert client_rules(_schema()) == {}


def test_the_rendered_field_is_hidden_until_its_condition_holds_then_starred() -> None:
    schema = _schema(allOf=[_if_kind_a()])
    hidden = {f.name: f for f in form_fields(schema, {})}
    assert hidden["detail"].hidden and not hidden["detail"].required
    assert not hidden["note"].hidden
    shown = {f.name: f for f in form_fields(schema, {"kind": "a"})}
    assert not shown["detail"].hidden and shown["detail"].required


# ------------------------------------------------------------------ the restaurant forms


def test_intake_shows_each_decisions_own_fields() -> None:
    form = _form("intake")
    assert set(controlled_fields(form)) == {
        "missing_materials",
        "deferred_materials",
        "supply_workdays",
        "intake_opinion",
    }
    assert controlled_fields(form)["intake_opinion"].always_shown

    def shown(decision: str | None) -> set[str]:
        values = {"intake_decision": decision} if decision else {}
        return {f.name for f in form_fields(form, values) if not f.hidden}

    base = {"intake_decision", "intake_opinion"}
    assert shown(None) == base
    assert shown("accept") == base
    assert shown("refuse") == base
    assert shown("commitment") == base
    assert shown("correct") == base | {"missing_materials"}
    assert shown("accept_with_gaps") == base | {"deferred_materials", "supply_workdays"}
    # the 补正 list given with 受理 is refused, not silently dropped
    assert _errors(form, {**r.ACCEPT, "missing_materials": ["floor_plan"]}) == {
        "missing_materials": "仅在「受理决定」为「补正」时填写"
    }
    assert _errors(form, {**r.CORRECT, "supply_workdays": 5}) == {
        "supply_workdays": "仅在「受理决定」为「容缺受理」时填写"
    }
    for valid in (r.ACCEPT, r.CORRECT, r.REFUSE, r.ACCEPT_WITH_GAPS, r.COMMITMENT):
        assert _errors(form, valid) == {}, valid


def test_issuance_by_post_requires_the_mailing_address() -> None:
    form = _form("issuance")
    assert _errors(form, r.ISSUANCE) == {}
    by_post = {**r.ISSUANCE, "delivery_method": "post"}
    assert _errors(form, by_post) == {"mailing_address": "必填"}
    assert _errors(form, {**by_post, "mailing_address": ""}) == {"mailing_address": "不能为空"}
    assert _errors(form, {**by_post, "mailing_address": "杭州市上城区解放路 1 号 张三"}) == {}
    assert _errors(form, {**r.ISSUANCE, "mailing_address": "杭州市"}) == {
        "mailing_address": "仅在「送达方式」为「邮寄送达」时填写"
    }
    fields = {f.name: f for f in form_fields(form, {"delivery_method": "post"})}
    assert fields["mailing_address"].required and not fields["mailing_address"].hidden
    assert {f.name: f for f in form_fields(form, {})}["mailing_address"].hidden


@pytest.mark.parametrize(
    ("name", "field", "decision", "refused"),
    [
        ("review_licence", "licence_opinion", "licence_approved", False),
        ("review_food", "food_opinion", "food_approved", False),
        ("site_inspection", "inspection_report", "inspection_passed", False),
        ("post_check", "check_report", "check_passed", False),
    ],
)
def test_an_opinion_shows_for_every_decision_and_is_required_for_the_refusal(
    name: str, field: str, decision: str, refused: bool
) -> None:
    form = _form(name)
    assert controlled_fields(form)[field].always_shown
    fields = {f.name: f for f in form_fields(form, {decision: True})}
    assert not fields[field].hidden and not fields[field].required
    fields = {f.name: f for f in form_fields(form, {decision: refused})}
    assert not fields[field].hidden and fields[field].required


def test_every_fixture_step_fits_its_form() -> None:
    forms = {
        "intake": "intake",
        "correction": "correction",
        "supply_materials": "supply_materials",
        "review_licence": "review_licence",
        "commitment_approval": "commitment_approval",
        "review_food": "review_food",
        "site_inspection": "site_inspection",
        "post_check": "post_check",
        "joint_issuance": "issuance",
        "denial_notice": "denial_notice",
        "revocation": "revocation",
    }
    for steps, _end in r.PATHS.values():
        for element, data in steps:
            assert _errors(_form(forms[element]), data) == {}, (element, data)


# ------------------------------------------------------------------ 补正: what was asked for

META = BundleMetadata.from_dict(
    json.loads((ROOT / "processes" / "restaurant" / "bundle.json").read_text("utf-8"))
)


def _states(data: dict[str, Any], element: str | None = None) -> dict[str, str]:
    rows = intake.material_states(META, data, element)
    return {m["code"]: m["state"] for m in rows if m["code"] in ("premises_proof", "floor_plan")}


def test_the_second_intake_shows_what_was_supplied_as_corrected() -> None:
    asked = {**r.CORRECT, "missing_materials": ["premises_proof", "floor_plan"]}
    # waiting for the applicant: both asked for
    assert _states(asked, "correction") == {"premises_proof": "missing", "floor_plan": "missing"}
    # a supply from an earlier round does not answer this one
    stale = {**asked, "supplied_materials": ["premises_proof"]}
    assert _states(stale, "correction") == {"premises_proof": "missing", "floor_plan": "missing"}
    # back at 一窗受理 after the 补正: what was brought is 已补正, the rest still 需补正
    assert _states(stale, "intake") == {"premises_proof": "corrected", "floor_plan": "missing"}
    # decided again (受理): the same
    accepted = {**stale, "intake_decision": "accept"}
    assert _states(accepted) == {"premises_proof": "corrected", "floor_plan": "missing"}


def test_the_correction_form_offers_only_the_materials_asked_for() -> None:
    form = _form("correction")
    data = {**r.APPLICATION, **r.CORRECT}
    narrowed = intake.task_form(META, "correction", form, data)
    options = [o["const"] for o in narrowed["properties"]["supplied_materials"]["items"]["oneOf"]]
    assert options == ["premises_proof", "health_certificates"]
    assert narrowed["properties"]["supplied_materials"]["maxItems"] == 2
    assert len(form["properties"]["supplied_materials"]["items"]["oneOf"]) == 10  # untouched
    # other tasks, or no 补正 asked: the form as it is
    assert intake.task_form(META, "intake", form, data) is form
    assert intake.task_form(META, "correction", form, r.APPLICATION) is form
