"""Link events ("off-page connectors"): a link throw event goes on at the link catch event of the
same name in the same process or subprocess, as if a sequence flow joined them.

bpmn.io and Camunda Modeler draw them as an intermediate throw event and an intermediate catch
event, each with a `bpmn:linkEventDefinition name="L"`, the catch with no incoming flow.
SpiffWorkflow 3.2.0 does not know `linkEventDefinition`: it reads both as "none" events, so the
throw ended its path there and the catch was never reached (the case stopped with nothing open).
`flows` gives, for each link throw of a scope, a sequence flow of our own (never stored, never in
the file) to its catch, which the parser (engine/bpmn/shallow_parse.py) and the upload's rules
(engine/bundles/rules/graph.py) follow like a drawn flow. The upload refuses a throw without a
catch of its name, two catches of one name, and a throw that also has outgoing flows
(engine/bundles/rules/elements.py)."""

from __future__ import annotations

from lxml import etree

from .namespaces import BPMN, tag

LINK = tag(BPMN, "linkEventDefinition")
THROW = tag(BPMN, "intermediateThrowEvent")
CATCH = tag(BPMN, "intermediateCatchEvent")
FLOW = tag(BPMN, "sequenceFlow")


def link_name(event: etree._Element) -> str | None:
    """The name of an event's link definition (its own name when the definition has none);
    None if it is no link event."""
    definition = event.find(LINK)
    if definition is None:
        return None
    return (definition.get("name") or event.get("name") or "").strip()


def catches(scope: etree._Element) -> dict[str, list[etree._Element]]:
    """The link catch events directly in a scope (process or subprocess), by link name."""
    found: dict[str, list[etree._Element]] = {}
    for event in scope.iterchildren(CATCH):
        name = link_name(event)
        if name is not None:
            found.setdefault(name, []).append(event)
    return found


def throws(scope: etree._Element) -> list[tuple[etree._Element, str]]:
    """The link throw events directly in a scope, each with its link name."""
    found = []
    for event in scope.iterchildren(THROW):
        name = link_name(event)
        if name is not None:
            found.append((event, name))
    return found


def flow_id(throw_id: str, catch_id: str) -> str:
    return f"link:{throw_id}:{catch_id}"


def flows(scope: etree._Element) -> dict[str, etree._Element]:
    """For each link throw of the scope with exactly one catch of its name, a sequence flow of
    our own from the throw to the catch, by the throw's id."""
    targets = catches(scope)
    found = {}
    for event, name in throws(scope):
        matching = targets.get(name, [])
        source, target = event.get("id"), matching[0].get("id") if matching else None
        if len(matching) == 1 and source and target:
            flow = etree.Element(FLOW)
            flow.set("id", flow_id(source, target))
            flow.set("sourceRef", source)
            flow.set("targetRef", target)
            found[source] = flow
    return found
