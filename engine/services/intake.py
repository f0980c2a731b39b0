"""一次性告知: the materials checklist, and the 补正告知书 listing in one go everything the
applicant must correct, with the number of correction rounds so far."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import CaseEvent, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound

from . import documents
from .certificates import material_applies
from .queries import parties_of

if TYPE_CHECKING:
    from .context import Services


def checklist(version: BundleVersion) -> list[dict[str, Any]]:
    """The bundle's materials (一次性告知 list), as bundle.json gives them, each with the
    condition under which it is asked for in words (`applies_when`, "" for always): the guide
    lists them all."""
    meta = version.meta
    return [
        {**m.to_dict(), "applies_when": meta.material_condition(m), "conditional": m.conditional}
        for m in meta.materials
    ]


def applying(meta: BundleMetadata, data: Mapping[str, Any]) -> set[str]:
    """The codes of the materials asked of a case with this data (`materials[].applies_if` or
    `item`): those that apply, and those a decision already named (asked, deferred, supplied),
    whatever became of the condition since."""
    intake = meta.intake
    named = {
        *_codes(data.get(intake.missing_field)),
        *_codes(data.get("deferred_materials")),
        *_codes(data.get("supplied_materials")),
    }
    return {m.code for m in meta.materials if m.code in named or material_applies(meta, m, data)}


def not_needed(meta: BundleMetadata, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The materials this case is not asked for (本件不需要), each with its condition in
    words: shown apart from the case's checklist."""
    asked = applying(meta, data)
    return [
        {**m.to_dict(), "applies_when": meta.material_condition(m)}
        for m in meta.materials
        if m.code not in asked
    ]


def corrections(version: BundleVersion, events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """The 补正 decisions among a case's events, in order: its intake task completed with the
    decision meaning 补正 (bundle.json `intake`)."""
    intake = version.meta.intake
    return [
        e
        for e in events
        if e.type == EventType.TASK_COMPLETED
        and intake.is_correction(e.element, e.data.get("form", {}))
    ]


def material_states(
    meta: BundleMetadata, data: Mapping[str, Any], element: str | None = None
) -> list[dict[str, Any]]:
    """The checklist of the materials asked of this case (`applying`: a material whose
    condition does not hold is left out) with what the case data says of each, as `state`:
    pending (not yet decided), submitted, optional, missing (补正 asked), corrected, deferred
    (容缺受理) or supplied (a deferred one, brought later).

    `element`: the task the list is shown for. At the 一窗受理 task itself a 补正 decision in
    the data is an earlier round's, answered since by the applicant's 补正: a material asked
    for and supplied is then 已补正, not 需补正."""
    intake = meta.intake
    decided = data.get(intake.decision_field)
    missing = set(_codes(data.get(intake.missing_field)))
    deferred = set(_codes(data.get("deferred_materials")))
    supplied = set(_codes(data.get("supplied_materials")))
    answered = element is not None and element == intake.element
    asked = applying(meta, data) if meta.conditional_materials else None
    rows = []
    for m in meta.materials:
        if asked is not None and m.code not in asked:
            continue  # 本件不需要 (`not_needed`)
        if m.code in deferred:
            state = "supplied" if m.code in supplied else "deferred"
        elif m.code in missing and decided == intake.correct_value and not answered:
            state = "missing"
        elif m.code in missing:
            state = "corrected" if m.code in supplied else "missing"
        elif not m.required:
            state = "optional"
        elif decided is None:
            state = "pending"
        else:
            state = "submitted"
        rows.append({**m.to_dict(), "state": state})
    return rows


def _codes(value: Any) -> list[str]:
    """Material codes as case data holds them (a list, or one code)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None or value == "" else [str(value)]


def _material_lists(schema: Mapping[str, Any], codes: set[str]) -> list[str]:
    """The form's fields that list checklist materials: arrays whose options are all codes."""
    out = []
    for key, prop in (schema.get("properties") or {}).items():
        items = prop.get("items") if isinstance(prop, Mapping) else None
        if not isinstance(items, Mapping) or not isinstance(items.get("oneOf"), list):
            continue
        consts = [a.get("const") for a in items["oneOf"] if isinstance(a, Mapping)]
        if consts and all(isinstance(c, str) and c in codes for c in consts):
            out.append(str(key))
    return out


def asked_for(meta: BundleMetadata, element: str | None, data: Mapping[str, Any]) -> list[str]:
    """At the applicant's 补正 (bundle.json `intake.correction_element`): the materials the
    latest 补正 decision asked for, in the case data; [] at any other task."""
    intake = meta.intake
    if element is None or element != intake.correction_element:
        return []
    return _codes(data.get(intake.missing_field))


def task_form(
    meta: BundleMetadata,
    element: str | None,
    schema: Mapping[str, Any] | None,
    data: Mapping[str, Any],
) -> Any:
    """A task's form as its page shows it: at the 补正 task, a list of materials offers only
    those the 补正 decision asked for (one 补正告知书, one list), in the checklist's order; at
    一窗受理, in a bundle whose materials apply to some cases only, those asked of this case."""
    asked = set(asked_for(meta, element, data))
    at_intake = not asked and element == meta.intake.element and meta.conditional_materials
    if at_intake:
        asked = applying(meta, data)
    if not asked or not isinstance(schema, Mapping):
        return schema
    fields = _material_lists(schema, {m.code for m in meta.materials})
    if not fields:
        return schema
    props = dict(schema["properties"])
    for key in fields:
        items = props[key]["items"]
        kept = [a for a in items["oneOf"] if isinstance(a, Mapping) and a.get("const") in asked]
        if at_intake and not kept:
            continue  # nothing of this list is asked of the case: the list stays as drawn
        props[key] = {
            **props[key],
            "items": {**items, "oneOf": kept},
            "maxItems": min(int(props[key].get("maxItems") or len(kept)), len(kept)),
        }
    return {**schema, "properties": props}


def check_correction(
    version: BundleVersion,
    element: str | None,
    submitted: Mapping[str, Any],
    data: Mapping[str, Any],
) -> None:
    """Raise Invalid when the 补正 task is given a material the 补正 decision did not ask for
    (the page offers only those: `task_form`)."""
    check_applying(version, element, submitted, data)
    asked = asked_for(version.meta, element, data)
    schema = version.form_for(element) if asked and element else None
    if not asked or not isinstance(schema, Mapping):
        return
    names = {m.code: m.name for m in version.meta.materials}
    problems = [
        {
            "field": key,
            "element": element,
            "message": "补正告知书未要求补正: " + "、".join(names.get(c, c) for c in extra),
        }
        for key in _material_lists(schema, set(names))
        if (extra := [c for c in _codes(submitted.get(key)) if c not in asked])
    ]
    if problems:
        raise Invalid("表单填写有误", problems)


def check_applying(
    version: BundleVersion,
    element: str | None,
    submitted: Mapping[str, Any],
    data: Mapping[str, Any],
) -> None:
    """Raise Invalid when 一窗受理, in a bundle whose materials apply to some cases only, lists
    (补正, 容缺) a material this case is not asked for: the 补正告知书 names only materials the
    applicant owes (the page offers only those: `task_form`)."""
    meta = version.meta
    if element is None or element != meta.intake.element or not meta.conditional_materials:
        return
    schema = version.form_for(element)
    if not isinstance(schema, Mapping):
        return
    merged = {**data, **submitted}
    unnamed = {**merged, meta.intake.missing_field: None, "deferred_materials": None}
    asked = applying(meta, {**unnamed, "supplied_materials": data.get("supplied_materials")})
    by_code = {m.code: m for m in meta.materials}
    problems = []
    # the form's lists of checklist codes, and the intake's own 补正/容缺 fields however typed
    keys = dict.fromkeys(
        [*_material_lists(schema, set(by_code)), meta.intake.missing_field, "deferred_materials"]
    )
    for key in keys:
        for code in _codes(submitted.get(key)):
            if code in asked or code not in by_code:
                continue  # an unknown code is the form's to refuse
            material = by_code[code]
            when = meta.material_condition(material)
            problems.append(
                {
                    "field": key,
                    "element": element,
                    "message": f"材料 {material.name} 本件不需要"
                    + (f" (适用于: {when})" if when else ""),
                }
            )
    if problems:
        raise Invalid("表单填写有误", problems)


def case_checklist(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """A case's 一次性告知 checklist: the materials asked of it with their state
    (`material_states`), and apart those it is not asked for (本件不需要, `not_needed`)."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    meta = version.meta
    return {
        "case_id": case_id,
        "materials": material_states(meta, case.data),
        "not_needed": not_needed(meta, case.data) if meta.conditional_materials else [],
    }


def correction_notice(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """The latest 补正告知书 of a case: which materials, in which round, decided when and by whom."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看补正告知书")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
    found = corrections(version, events)
    if not found:
        raise NotFound(f"办件 {case_id} 没有补正告知")
    latest = found[-1]
    with svc.uow() as uow:  # signed with the clerk's name and department, dated locally
        signer = documents.signed(svc, uow, latest.actor, latest.at)
    by_code = {m.code: m.to_dict() for m in version.meta.materials}
    missing = latest.data["form"].get(version.meta.intake.missing_field, [])
    return {
        "case_id": case_id,
        "bundle": version.name,
        "issuer": version.meta.issuer or version.name,
        "round": len(found),
        "decided_at": latest.at.isoformat(),
        "decided_by": latest.actor,
        **signer,
        **parties_of(version, case.data),
        "materials": [
            by_code.get(
                code,
                {
                    "code": code,
                    "name": str(code),
                    "note": "",
                    "required": True,
                    "deferrable": False,
                },
            )
            for code in (missing if isinstance(missing, list) else [missing])
        ],
        "opinion": latest.data["form"].get("intake_opinion", ""),
    }
