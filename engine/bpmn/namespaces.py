"""XML namespaces of BPMN and of the modelers' extension attributes we read."""

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# Flowable's and Activiti's extension attributes (flowable:assignee, activiti:candidateUsers...)
FLOWABLE = "http://flowable.org/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)

NSMAP = {
    "bpmn": BPMN,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "camunda": CAMUNDA,
    "spiffworkflow": SPIFF,
    "flowable": FLOWABLE,
    "activiti": ACTIVITI,
}


def tag(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def local_name(qualified: str) -> str:
    return qualified.rsplit("}", 1)[-1]
