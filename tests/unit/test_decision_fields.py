"""Which fields a task page shows as a row of choices."""

from __future__ import annotations

from web.forms_render import decision_fields


def test_required_fields_with_a_few_options_are_choices() -> None:
    schema = {
        "required": ["decision", "scope"],
        "properties": {
            "decision": {"enum": ["accept", "correct", "reject"]},
            "scope": {"enum": [str(n) for n in range(7)]},  # too many: a list
            "note": {"enum": ["a", "b"]},  # not required
        },
    }
    assert decision_fields(schema) == ["decision"]


def test_a_property_written_as_true_is_no_choice_and_no_crash() -> None:
    schema = {"required": ["x", "y"], "properties": {"x": True, "y": {"oneOf": "bad"}}}
    assert decision_fields(schema) == []
    assert decision_fields(None) == []
