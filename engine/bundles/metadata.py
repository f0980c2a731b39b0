"""The optional `bundle.json` of a bundle: its key, name, main process and items (事项)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.calendar.hours import office_hours_problem
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.suspension import ART45_KINDS, SUSPENSION_KINDS
from engine.expressions import check_expression
from engine.forms.patterns import pattern_problem
from engine.forms.validation import describe_error

from .guide import GUIDE_SCHEMA, MATERIAL_FILE_SCHEMA
from .problems import Problem

METADATA_FILE = "bundle.json"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

_WORKDAYS = {"type": "integer", "minimum": 0, "maximum": 3650}
_WORK_HOURS = {"type": "integer", "minimum": 1, "maximum": 2000}
_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "pattern": KEY_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "process": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        # a 公用子流程库: its processes are called from other bundles, no case starts on it
        # (engine/bundles/libraries.py)
        "library": {"type": "boolean"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "statutory_workdays": _WORKDAYS,
                    "promised_workdays": _WORKDAYS,
                    # 承诺 in working hours (the guide says "4 个工作小时"; docs/time-limits.md)
                    "promised_hours": _WORK_HOURS,
                    # the item applies to a case only when this holds on its data (the
                    # gateway language); `applies_when` says it in words for the guide
                    "applies_if": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "applies_when": {"type": "string", "maxLength": 200},
                    "certificate": {
                        "type": "object",
                        "required": ["title"],
                        "properties": {
                            "title": {"type": "string", "minLength": 1, "maxLength": 200},
                            "number_field": {"type": "string"},
                            "number_pattern": {"type": "string", "minLength": 1, "maxLength": 500},
                            # 发证机关 of this certificate; absent: the bundle's `issuer`
                            "issuer": {"type": "string", "minLength": 1, "maxLength": 200},
                            "issuer_field": {"type": "string", "minLength": 1, "maxLength": 200},
                            "validity_years": {
                                "type": ["integer", "null"],
                                "minimum": 1,
                                "maximum": 100,
                            },
                            "fields": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "prefixItems": [{"type": "string"}, {"type": "string"}],
                                    "minItems": 2,
                                    "maxItems": 2,
                                },
                            },
                        },
                    },
                },
            },
        },
        "materials": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {
                    "code": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "minLength": 1},
                    "required": {"type": "boolean"},
                    "deferrable": {"type": "boolean"},
                    "note": {"type": "string"},
                    "sample": MATERIAL_FILE_SCHEMA,  # 样表 and 空白表格: files of the upload
                    "blank_form": MATERIAL_FILE_SCHEMA,  # (engine/bundles/guide.py)
                    # the material is asked of a case only when this holds (as items[]), or
                    # when the item it names applies; `applies_when` in words for the guide
                    "applies_if": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "item": {"type": "string", "minLength": 1},
                    "applies_when": {"type": "string", "maxLength": 200},
                },
            },
        },
        "guide": GUIDE_SCHEMA,  # 办事指南 (engine/bundles/guide.py)
        "applicant": {"type": "object", "additionalProperties": {"type": "string"}},
        "intake": {"type": "object", "additionalProperties": {"type": "string"}},
        "issuer": {"type": "string", "maxLength": 200},
        # the departments the public reads for the groups (a 会签's signatures on the progress
        # page: "部门许可决定(会签) · 示范区公安分局")
        "group_names": {
            "type": "object",
            "maxProperties": 200,
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 100},
        },
        "collection": {  # 领证: where the applicant collects the licences
            "type": "object",
            "required": ["place"],
            "additionalProperties": False,
            "properties": {
                "place": {"type": "string", "minLength": 1, "maxLength": 200},
                "hours": {"type": "string", "maxLength": 200},
                "phone": {"type": "string", "maxLength": 50},
            },
        },
        "visits": {  # 最多跑一次: the dashboard's visits (engine/domain/bundle_metadata.py)
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "channel_field": {"type": "string", "minLength": 1, "maxLength": 200},
                "online_values": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                "delivery_field": {"type": "string", "minLength": 1, "maxLength": 200},
                "remote_delivery": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                "address_field": {"type": "string", "minLength": 1, "maxLength": 200},
            },
        },
        "rating": {
            "type": "object",
            "properties": {
                "rectification_group": {"type": "string", "minLength": 1},
                "rectification_workdays": _WORKDAYS,
            },
        },
        "renewal": {
            "type": "object",
            "properties": {
                "remind_days_before": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            },
        },
        "time_limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "statutory_workdays": _WORKDAYS,
                "promised_workdays": _WORKDAYS,
                "starts_at": {"type": "string", "minLength": 1},
                "warning_workdays": _WORKDAYS,
                # hour limits (`time_limit: 4h`): the office hours they count, and their 预警
                # (checked by engine/calendar/hours.py `office_hours_problem`)
                "office_hours": {"type": "array", "minItems": 1, "maxItems": 12},
                "warning_hours": {"type": "integer", "minimum": 0, "maximum": 2000},
                "escalation_group": {"type": "string", "minLength": 1},
                "suspension_stops_clock": {
                    "type": "array",
                    "items": {"enum": list(SUSPENSION_KINDS)},
                    "uniqueItems": True,
                },
                # Art. 32: the office answers materials within this many working days, or the
                # case is deemed accepted from the day they arrived (0: 当场受理)
                "intake_workdays": _WORKDAYS,
                "intake_warning_workdays": _WORKDAYS,
                # Art. 42: 延期, approved by the office head's group
                "extension": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "max_workdays": {"type": "integer", "minimum": 1, "maximum": 3650},
                        "approver_group": {"type": "string", "minLength": 1},
                        "further_law": {"type": "string", "minLength": 1, "maxLength": 500},
                    },
                },
                # Art. 44: issuing or serving the certificates after the decision
                "delivery_workdays": _WORKDAYS,
                # Art. 45: elements that are a special procedure (the clock stops while open)
                "special_procedures": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["kind"],
                        "additionalProperties": False,
                        "properties": {
                            "kind": {"enum": list(ART45_KINDS)},
                            "expected_workdays": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 3650,
                            },
                        },
                    },
                },
                # Art. 43: a lower level's preliminary review with its own limit
                "preliminary": {
                    "type": "object",
                    "required": ["forwarded_at"],
                    "additionalProperties": False,
                    "properties": {
                        "starts_at": {"type": "string", "minLength": 1},
                        "forwarded_at": {"type": "string", "minLength": 1},
                        "statutory_workdays": _WORKDAYS,
                        "level": {"type": "string", "minLength": 1, "maxLength": 50},
                    },
                },
                # Arts. 46–47: decisions affecting major interests, and the hearing right
                "hearing": {
                    "type": "object",
                    "required": ["decisions"],
                    "additionalProperties": False,
                    "properties": {
                        "decisions": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1},
                            "minItems": 1,
                            "uniqueItems": True,
                        },
                        "request_workdays": _WORKDAYS,
                        "hearing_workdays": {"type": "integer", "minimum": 1, "maximum": 3650},
                        "group": {"type": "string", "minLength": 1},
                    },
                },
            },
        },
    },
}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"不允许 {name} (只允许有限的数字)")


def _pattern_problems(raw: Any, path: str) -> list[Problem]:
    """Certificate number patterns RE2 cannot run (they are matched at 统一发证)."""
    found = []
    for i, item in enumerate(raw.get("items", []) if isinstance(raw, dict) else []):
        cert = item.get("certificate") if isinstance(item, dict) else None
        pattern = cert.get("number_pattern") if isinstance(cert, dict) else None
        if isinstance(pattern, str) and (problem := pattern_problem(pattern)) is not None:
            found.append(
                Problem(f"元数据字段 items/{i}/certificate/number_pattern {problem}", file=path)
            )
    return found


def _office_hours_problems(raw: Any, path: str) -> list[Problem]:
    """`time_limits.office_hours`: ["HH:MM", "HH:MM"] pairs, ordered and not overlapping."""
    limits = raw.get("time_limits") if isinstance(raw, dict) else None
    if not isinstance(limits, dict) or "office_hours" not in limits:
        return []
    problem = office_hours_problem(limits["office_hours"])
    if problem is None:
        return []
    return [Problem(f"元数据字段 time_limits/office_hours (办公时间) {problem}", file=path)]


def _condition_problems(raw: Any, path: str) -> list[Problem]:
    """`items[].applies_if` and `materials[].applies_if` that are not expressions of the
    language (the fields they read are checked against the forms by engine/bundles/rules/item_conditions.py)."""
    found = []
    for section in ("items", "materials"):
        entries = raw.get(section, []) if isinstance(raw, dict) else []
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            text = entry.get("applies_if") if isinstance(entry, dict) else None
            if not isinstance(text, str) or not text:
                continue
            problem = check_expression(text, ENGINE_FUNCTIONS)
            if problem is not None:
                found.append(
                    Problem(
                        f"元数据字段 {section}/{i}/applies_if 的条件 `{text[:200]}` 无效: "
                        f"{problem.message}",
                        file=path,
                    )
                )
    return found


def _said(err: ValidationError) -> tuple[str, str]:
    """Where and what, in Chinese (engine/forms/validation.py says it for form data too)."""
    where, what = describe_error(err)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = err.schema.get("properties", {})
        unknown = "、".join(sorted(str(k) for k in err.instance if k not in known))
        what = f"不认识的字段 {unknown}"
    return where.replace(".", "/") or "(根)", what


def read_metadata(files: dict[str, bytes]) -> tuple[BundleMetadata, list[Problem]]:
    """The upload's bundle.json, checked against the schema, then typed; empty when absent or
    refused (with the problems)."""
    path = next((p for p in sorted(files, key=len) if p.rsplit("/", 1)[-1] == METADATA_FILE), None)
    if path is None:
        return BundleMetadata(), []
    try:
        raw = json.loads(files[path].decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        return BundleMetadata(), [Problem(f"元数据不是有效的 JSON: {err}", file=path)]
    except RecursionError:
        return BundleMetadata(), [Problem("元数据不是有效的 JSON: 嵌套层数过多", file=path)]
    problems = [
        Problem(f"元数据字段 {where} 不符合要求: {what}", file=path)
        for where, what in map(_said, Draft202012Validator(_SCHEMA).iter_errors(raw))
    ]
    problems += _pattern_problems(raw, path)
    problems += _condition_problems(raw, path)
    problems += _office_hours_problems(raw, path)
    if problems:
        return BundleMetadata(), problems
    return BundleMetadata.from_dict(raw), []
