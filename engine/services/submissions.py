"""What a start event or a task may write into its case, checked before the engine moves.

- A form writes exactly the fields it declares (engine/domain/form_fields.py), whatever its
  `additionalProperties` says; a correction (补正) form may so rewrite the application fields it
  declares, and nothing else.
- Without a form, only fields no form of the bundle declares: never a field some form owns.
- Every value within the server's limits (engine/forms/limits.py), and the case data as a whole.

Every problem is reported at once, each with its field and element, as one 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.domain.bundle_versions import BundleVersion
from engine.errors import Invalid
from engine.forms import InputLimits, validate_form_data
from engine.forms.limits import case_data_problem, value_problems

INVALID = "表单填写有误"


def check_submission(
    version: BundleVersion,
    form: str | None,
    data: Mapping[str, Any],
    element: str | None,
    limits: InputLimits,
) -> None:
    """Raise Invalid unless `data` is what a task (or start event) with `form` may write."""
    schema = version.forms.get(form) if form else None
    problems: list[dict[str, Any]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "element": element, "message": message})

    if schema is not None:
        declared = version.form_fields[str(form)]
        for key in data:
            if key not in declared:
                problem(key, "本表单没有此字段, 不能填写")
    else:
        for key in data:
            owner = version.field_owners.get(key)
            if owner is not None:
                problem(key, f"此字段由表单 {owner} 填写, 本任务不能填写")
    for found in value_problems(data, _lookup(version, form if schema else None), limits):
        problem(found.field, found.message)
    if schema is not None:
        reported = {p["field"] for p in problems}
        problems += [
            e.to_dict() | {"element": element}
            for e in validate_form_data(schema, data)
            if e.field not in reported
        ]
    if problems:
        raise Invalid(INVALID, problems)


def check_values(data: Mapping[str, Any], element: str | None, limits: InputLimits) -> None:
    """Raise Invalid unless every value of `data` is within the limits (data that no form
    describes and that is not merged into the case, e.g. an engine task's opinion)."""
    problems = [
        {"field": p.field, "element": element, "message": p.message}
        for p in value_problems(data, lambda _: None, limits)
    ]
    if problems:
        raise Invalid(INVALID, problems)


def check_case_data(
    version: BundleVersion, data: Mapping[str, Any], element: str | None, limits: InputLimits
) -> None:
    """Raise Invalid when the case data, as it would be stored, is over the total limit."""
    found = case_data_problem(data, version.attachment_fields, limits)
    if found is not None:
        raise Invalid(
            INVALID, [{"field": found.field, "element": element, "message": found.message}]
        )


def _lookup(version: BundleVersion, form: str | None) -> Any:
    """A field's schema in `form`; without a form no field is declared."""
    if form is None:
        return lambda _name: None
    return lambda name: version.field_schema(name, form)
