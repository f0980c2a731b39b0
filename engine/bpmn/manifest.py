"""What the engine needs to know about a bundle's human tasks, read from the BPMN XML.

SpiffWorkflow reads neither `camunda:candidateGroups` nor `camunda:assignee`, and its parsers
disagree on where forms live; we read them ourselves, once, at deploy time, and store the
result with the bundle version as its manifest.
"""

from __future__ import annotations

from lxml import etree

from engine.domain.bundle_versions import HumanTaskInfo

from . import assignment, task_forms, timer_texts
from .namespaces import BPMN, CAMUNDA, SPIFF, local_name, tag

HUMAN_TASK_TAGS = ("userTask", "manualTask")
# An untyped task (`bpmn:task`) is human only when it names who works it (`is_human_task`);
# else the engine passes through it (engine/bpmn/untyped_tasks.py).
UNTYPED_TASK = "task"


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
    key = assignment.attribute(node, "formKey")  # camunda:, flowable: or activiti:formKey
    if props is None:
        props = _properties(node)
    spiff = node.find(f"./{{{BPMN}}}extensionElements/{{{SPIFF}}}formJsonSchemaFilename")
    spiff_file = props.get("formJsonSchemaFilename", "").strip() or (
        spiff.text.strip() if spiff is not None and spiff.text else ""
    )
    # SpiffArena runs a task's JSON Schema file; a formKey beside it that names no JSON file
    # (`ConfirmEmail`, left by an older modeler) is not what SpiffArena shows either
    if key and not (spiff_file and not key.lower().endswith(".json")):
        return key
    if props.get("formKey", "").strip():
        return props["formKey"].strip()
    if spiff_file:
        return spiff_file
    return task_forms.generated_key(node)  # camunda:formData, flowable:formProperty


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
    """Every human task (`is_human_task`) of every process in the document."""
    lanes = lanes_by_element(root)
    people = assignment.Reader(root)  # groups, candidate users, assignee (assignment.py)
    tasks = []
    for process in root.iter(tag(BPMN, "process")):
        for node in process.iter(*(tag(BPMN, t) for t in (*HUMAN_TASK_TAGS, UNTYPED_TASK))):
            if not is_human_task(node, people):
                continue
            element = node.get("id", "")
            props = timer_texts.with_due_date(node, _properties(node))  # camunda:dueDate
            lane = lanes.get(element)
            groups, users, assignee = people.read(node, props, lane, pool=True)
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
                    candidate_users=users,
                    initiator=people.initiators.get(process.get("id", "")),
                    instructions=task_forms.instructions(node),  # SpiffArena's, markdown
                )
            )
    return tasks


def is_human_task(node: etree._Element, people: assignment.Reader | None = None) -> bool:
    """Whether the engine stops at the element for a person: a user or manual task, or an
    untyped task (`bpmn:task`) naming its groups, candidate users or assignee itself (a lane
    alone does not make it one). The parser (engine/bpmn/untyped_tasks.py), the manifest and
    so the task table and the version page all decide by this."""
    kind = local_name(node.tag)
    if kind in HUMAN_TASK_TAGS:
        return True
    if kind != UNTYPED_TASK or etree.QName(node).namespace != BPMN:
        return False
    reader = people or assignment.Reader(node.getroottree().getroot())
    groups, users, assignee = reader.read(node, _properties(node), None)
    return bool(groups or users or assignee)


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
