"""Fields a form's own conditions control: shown, and required, only while a condition holds.

A form makes a field required under a condition in JSON Schema's own words:

- `if`/`then`/`else`, at the top of the form or inside its `allOf`: the fields `then.required`
  (or `else.required`) names, while the data matches `if` (or does not);
- `dependentRequired: {"a": ["b"]}`: `b` while `a` is filled;
- `dependentSchemas: {"a": {"required": ["b"]}}`: `b` while `a` is filled.

A property so named that the top-level `required` does not name is *controlled*: it applies only
while one of its conditions holds. The page shows it, with its required star, only then (hidden
and disabled otherwise, so it is not posted: web/static/js/form_conditions.js); the server
refuses a value for it while none holds (`hidden_values`), with the condition in the message.
A property marked `"x-show": "always"` keeps only the "required" half: always shown, required
while its condition holds (an opinion optional for 准予 and required for 不予).

The page evaluates the conditions itself; a condition using a keyword it does not know
(`_CLIENT_KEYWORDS`) hides nothing, so the page and the server never disagree. Nothing of the
form runs as code: conditions are JSON Schema, checked by jsonschema on the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# What the page's evaluator (form_conditions.js `matches`) understands in an `if` schema.
_CLIENT_KEYWORDS = frozenset(
    {
        "const",
        "enum",
        "required",
        "properties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "contains",
        "title",
        "description",
        "$comment",
    }
)


@dataclass(frozen=True)
class Gate:
    """One condition under which a field applies: the data matches (or, for `else`, does not
    match) an `if` schema, or another field is filled."""

    schema: Any = None  # the `if` schema; None for "filled"
    matches: bool = True  # then: True, else: False
    filled: str = ""  # dependentRequired / dependentSchemas: this field is filled

    def to_dict(self) -> dict[str, Any]:
        if self.filled:
            return {"filled": self.filled}
        return {"if": self.schema, "matches": self.matches}


@dataclass(frozen=True)
class Controlled:
    """A field that applies only while one of its gates holds."""

    name: str
    gates: tuple[Gate, ...]
    always_shown: bool = False


def _required_of(node: Any) -> list[str]:
    if not isinstance(node, Mapping):
        return []
    return [str(r) for r in node.get("required") or [] if isinstance(r, str)]


def _if_nodes(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield schema
    for sub in schema.get("allOf") or []:
        if isinstance(sub, Mapping):
            yield sub


def _client_safe(node: Any) -> bool:
    """Whether the page's evaluator understands every keyword of an `if` schema."""
    if isinstance(node, bool):
        return True
    if not isinstance(node, Mapping):
        return False
    for key, value in node.items():
        if key not in _CLIENT_KEYWORDS:
            return False
        if key == "properties":
            if not isinstance(value, Mapping) or not all(_client_safe(v) for v in value.values()):
                return False
        elif key in ("allOf", "anyOf", "oneOf"):
            if not isinstance(value, list) or not all(_client_safe(v) for v in value):
                return False
        elif key in ("not", "contains") and not _client_safe(value):
            return False
    return True


def controlled_fields(schema: Mapping[str, Any] | None) -> dict[str, Controlled]:
    """The fields of a form (top level) that its conditions control, by name, in form order."""
    if not isinstance(schema, Mapping):
        return {}
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return {}
    always_required = set(_required_of(schema))
    gates: dict[str, list[Gate]] = {}
    unsafe: set[str] = set()

    def add(names: list[str], gate: Gate, safe: bool = True) -> None:
        for name in names:
            if name in props and name not in always_required:
                gates.setdefault(name, []).append(gate)
                if not safe:
                    unsafe.add(name)

    for node in _if_nodes(schema):
        if "if" not in node:
            continue
        condition = node["if"]
        safe = _client_safe(condition)
        add(_required_of(node.get("then")), Gate(condition, True), safe)
        add(_required_of(node.get("else")), Gate(condition, False), safe)
    for trigger, names in (schema.get("dependentRequired") or {}).items():
        if isinstance(names, list):
            add([str(n) for n in names], Gate(filled=str(trigger)))
    for trigger, sub in (schema.get("dependentSchemas") or {}).items():
        add(_required_of(sub), Gate(filled=str(trigger)))
    out: dict[str, Controlled] = {}
    for name in props:
        if name in gates and name not in unsafe:
            prop = props[name]
            always = isinstance(prop, Mapping) and prop.get("x-show") == "always"
            out[name] = Controlled(name, tuple(gates[name]), always)
    return out


def is_filled(value: Any) -> bool:
    """Whether a value counts as filled in: not absent, null, an empty text or list."""
    return value is not None and value != "" and value != [] and value != {}


def applies(gate: Gate, data: Mapping[str, Any], validator_for: Any) -> bool:
    """Whether a gate holds for `data`; `validator_for(schema)` gives a jsonschema validator."""
    if gate.filled:
        return is_filled(data.get(gate.filled))
    if isinstance(gate.schema, bool):
        return gate.schema is gate.matches
    return bool(validator_for(gate.schema).is_valid(data)) is gate.matches


def active_fields(
    controlled: Mapping[str, Controlled], data: Mapping[str, Any], validator_for: Any
) -> set[str]:
    """The controlled fields one of whose gates holds for `data`."""
    return {
        name
        for name, c in controlled.items()
        if any(applies(g, data, validator_for) for g in c.gates)
    }


# ------------------------------------------------------------------ in words


def _title(schema: Mapping[str, Any], name: str) -> str:
    prop = (schema.get("properties") or {}).get(name)
    return str(prop.get("title") or name) if isinstance(prop, Mapping) else name


def _option_label(schema: Mapping[str, Any], name: str, value: Any) -> str:
    prop = (schema.get("properties") or {}).get(name)
    if isinstance(prop, Mapping):
        for alt in prop.get("oneOf") or prop.get("anyOf") or []:
            if isinstance(alt, Mapping) and alt.get("const") == value and "const" in alt:
                return str(alt.get("title") or value)
        enum, names = prop.get("enum"), prop.get("enumNames") or []
        if isinstance(enum, list) and value in enum and enum.index(value) < len(names):
            return str(names[enum.index(value)])
    if isinstance(value, bool):
        return "是" if value else "否"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def describe_gate(schema: Mapping[str, Any], gate: Gate) -> str:
    """A gate in plain Chinese: 「受理决定」为「补正」, 填写了「帮办代办人姓名」."""
    if gate.filled:
        return f"填写了「{_title(schema, gate.filled)}」"
    cond = gate.schema if isinstance(gate.schema, Mapping) else {}
    parts: list[str] = []
    for name, sub in (cond.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if "const" in sub:
            values = [sub["const"]]
        elif isinstance(sub.get("enum"), list):
            values = list(sub["enum"])
        else:
            parts = []
            break
        labels = "或".join(f"「{_option_label(schema, name, v)}」" for v in values)
        parts.append(f"「{_title(schema, name)}」{'为' if gate.matches else '不为'}{labels}")
    if not parts or set(cond) - {"properties", "required", "title", "description", "$comment"}:
        return "满足表单条件" if gate.matches else "不满足表单条件"
    return "且".join(parts)


def describe(schema: Mapping[str, Any], field: Controlled) -> str:
    """When a controlled field applies, in plain Chinese (its gates joined by 或)."""
    return "或".join(dict.fromkeys(describe_gate(schema, g) for g in field.gates))


def client_rules(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the page needs to show and hide a form's controlled fields itself (JSON-ready):
    each controlled field's gates, and the type of every field a gate may read."""
    controlled = controlled_fields(schema)
    if not controlled or not isinstance(schema, Mapping):
        return {}
    types: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping):
            items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
            types[name] = {"type": _kind(prop), "items": _kind(items) if items else "string"}
    return {
        "types": types,
        "controlled": {
            name: {"gates": [g.to_dict() for g in c.gates], "always": c.always_shown}
            for name, c in controlled.items()
        },
    }


def _kind(prop: Mapping[str, Any]) -> str:
    t = prop.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t:
        return str(t)
    alts = prop.get("oneOf") or prop.get("anyOf") or []
    consts = [a.get("const") for a in alts if isinstance(a, Mapping)]
    if consts and all(isinstance(c, bool) for c in consts):
        return "boolean"
    if consts and all(isinstance(c, int | float) for c in consts):
        return "number"
    return "string"
