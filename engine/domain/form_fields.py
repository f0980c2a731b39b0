"""Which case-data fields a form declares, and so which fields a task may write.

A task with a form writes exactly the fields its form declares, whatever the schema's
`additionalProperties` says; a task (or a start event) without a form writes only fields that no
form of its bundle declares. So a reviewer cannot overrule another department's decision, and
the issuing window cannot rename the certificate's holder.

A form declares the keys of its top-level `properties`, and those of the subschemas it combines
at the top level (`allOf`, `anyOf`, `oneOf`, `if`/`then`/`else`, `dependentSchemas`, and local
`$ref`s to `$defs` or `definitions`). `patternProperties` and an `additionalProperties` schema
declare no field: a field must be named to be owned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_COMBINED_LISTS = ("allOf", "anyOf", "oneOf")
_COMBINED_ONE = ("if", "then", "else")


def declared_fields(schema: Mapping[str, Any] | None) -> frozenset[str]:
    """The top-level field names a form schema declares."""
    if not isinstance(schema, Mapping):
        return frozenset()
    return frozenset(_names(schema, schema, set()))


def _names(node: Mapping[str, Any], root: Mapping[str, Any], seen: set[str]) -> Iterator[str]:
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        yield from (str(k) for k in properties)
    for sub in _subschemas(node, root, seen):
        yield from _names(sub, root, seen)


def _subschemas(
    node: Mapping[str, Any], root: Mapping[str, Any], seen: set[str]
) -> Iterator[Mapping[str, Any]]:
    """The subschemas `node` combines at its own level; each local `$ref` followed once (so a
    cycle of references ends)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        target = _local_ref(root, ref)
        if target is not None:
            yield target
    for key in _COMBINED_LISTS:
        for sub in node.get(key) or ():
            if isinstance(sub, Mapping):
                yield sub
    for key in _COMBINED_ONE:
        sub = node.get(key)
        if isinstance(sub, Mapping):
            yield sub
    dependent = node.get("dependentSchemas")
    if isinstance(dependent, Mapping):
        yield from (s for s in dependent.values() if isinstance(s, Mapping))


def _local_ref(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """`#/$defs/name` or `#/definitions/name` in the same schema; other references declare
    nothing (a form file is self-contained)."""
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            defs = root.get(prefix[2:-1])
            target = defs.get(ref[len(prefix) :]) if isinstance(defs, Mapping) else None
            return target if isinstance(target, Mapping) else None
    return None


def is_attachment(schema: Mapping[str, Any] | None) -> bool:
    """A file field: a string stored as a data URL (or as plain base64)."""
    return isinstance(schema, Mapping) and (
        schema.get("format") == "data-url"
        or "contentMediaType" in schema
        or schema.get("contentEncoding") == "base64"
    )


def field_schema(schema: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """The schema of a declared top-level field (its first declaration), or None."""
    if not isinstance(schema, Mapping):
        return None
    return _find(schema, schema, name, set())


def _find(
    node: Mapping[str, Any], root: Mapping[str, Any], name: str, seen: set[str]
) -> Mapping[str, Any] | None:
    properties = node.get("properties")
    if isinstance(properties, Mapping) and isinstance(properties.get(name), Mapping):
        found: Mapping[str, Any] = properties[name]
        return found
    for sub in _subschemas(node, root, seen):
        if (hit := _find(sub, root, name, seen)) is not None:
            return hit
    return None
