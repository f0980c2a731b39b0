"""What the engine needs to know about a bundle's human tasks, read from the BPMN XML.

SpiffWorkflow reads neither `camunda:candidateGroups` nor `camunda:assignee`, and its parsers
disagree on where forms live; we read them ourselves, once, at deploy time, and store the
result with the bundle version as its manifest.
"""

from __future__ import annotations

from lxml import etree

from engine.domain.bundle_versions import HumanTaskInfo

from .namespaces import BPMN, CAMUNDA, SPIFF, local_name, tag

HUMAN_TASK_TAGS = ("userTask", "manualTask")


_EXTENSIONS = tag(BPMN, "extensionElements")
_PROPERTY_LISTS = {tag(CAMUNDA, "properties"): tag(CAMUNDA, "property")}
_PROPERTY_LISTS[tag(SPIFF, "properties")] = tag(SPIFF, "property")


def _properties(node: etree._Element) -> dict[str, str]:
    """camunda:properties and spiffworkflow:properties of an element, merged (in document
    order: a later property of the same name wins)."""
    props: dict[str, str] = {}
    for extensions in node.iterchildren(_EXTENSIONS):
        for group in extensions.iterchildren(*_PROPERTY_LISTS):
            for prop in group.iterchildren(_PROPERTY_LISTS[group.tag]):
                name = prop.get("name")
                if name:
                    props[name] = prop.get("value", "")
    return props


def _split_groups(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(g.strip() for g in value.split(",") if g.strip())


def form_key(node: etree._Element, props: dict[str, str] | None = None) -> str | None:
    """The form an element refers to: camunda:formKey, a formKey property, or Spiff's file name
    (`props`: the element's properties, when already read)."""
    key: str | None = node.get(tag(CAMUNDA, "formKey"))
    if key:
        return key.strip()
    if props is None:
        props = _properties(node)
    if props.get("formKey"):
        return props["formKey"].strip()
    spiff = node.find(f"./{{{BPMN}}}extensionElements/{{{SPIFF}}}formJsonSchemaFilename")
    text: str | None = spiff.text if spiff is not None else None
    if text and text.strip():
        return text.strip()
    return None


def lanes_by_element(root: etree._Element) -> dict[str, str]:
    """Map each flow node id to the name (or id) of the lane it sits in."""
    lanes: dict[str, str] = {}
    for lane in root.iter(tag(BPMN, "lane")):
        label = (lane.get("name") or lane.get("id") or "").strip()
        for ref in lane.findall(tag(BPMN, "flowNodeRef")):
            if ref.text:
                lanes[ref.text.strip()] = label
    return lanes


def read_human_tasks(root: etree._Element) -> list[HumanTaskInfo]:
    """Every user or manual task of every process in the document."""
    lanes = lanes_by_element(root)
    tasks = []
    for process in root.iter(tag(BPMN, "process")):
        for node in process.iter(*(tag(BPMN, t) for t in HUMAN_TASK_TAGS)):
            element = node.get("id", "")
            props = _properties(node)
            lane = lanes.get(element)
            groups = (
                _split_groups(node.get(tag(CAMUNDA, "candidateGroups")))
                or _split_groups(props.get("candidateGroups"))
                or ((lane,) if lane else ())
            )
            assignee = node.get(tag(CAMUNDA, "assignee")) or props.get("assignee") or None
            tasks.append(
                HumanTaskInfo(
                    element=element,
                    name=(node.get("name") or element).strip(),
                    process=process.get("id", ""),
                    groups=groups,
                    assignee=assignee.strip() if assignee else None,
                    form=form_key(node, props),
                    lane=lane,
                    properties=props,
                    line=node.sourceline,
                )
            )
    return tasks


def start_forms(root: etree._Element) -> dict[str, tuple[str, str]]:
    """(start event id, form key) of each process whose start event has a form, by process id."""
    forms = {}
    for process in root.iter(tag(BPMN, "process")):
        for start in process.findall(tag(BPMN, "startEvent")):
            key = form_key(start)
            if key:
                forms[process.get("id", "")] = (start.get("id", ""), key)
    return forms


def element_label(node: etree._Element) -> str:
    """A short human label for an element, for error messages: `bpmn:userTask 'intake'`."""
    return f"{local_name(node.tag)} '{node.get('id', '?')}'"
