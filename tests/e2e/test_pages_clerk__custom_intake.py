"""A bundle whose 一窗受理 uses its own task, fields and 补正 value (bundle.json `intake`): the
task page shows each material's state by those values, as it does for the restaurant's defaults.

The page once compared the decision with the default "correct" whatever the bundle said: back at
the intake after a correction, a material still asked for showed as 已补正."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from engine.services.accounts import set_password
from tests.fixtures import bpmn

PASSWORD = "correct horse"

PROCESS = bpmn.document(
    """
  <bpmn:startEvent id="start" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge" />
  <bpmn:exclusiveGateway id="merge" />
  <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="check" />
  <bpmn:userTask id="check" name="材料核验" camunda:candidateGroups="front_desk"
      camunda:formKey="check.json" />
  <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" default="done" />
  <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="fix">
    <bpmn:conditionExpression>verdict == "fix"</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:userTask id="fix" name="补交材料" camunda:candidateGroups="front_desk"
      camunda:formKey="fix.json" />
  <bpmn:sequenceFlow id="f4" sourceRef="fix" targetRef="merge" />
  <bpmn:sequenceFlow id="done" sourceRef="gw" targetRef="end" />
  <bpmn:endEvent id="end" />""",
    process_id="kiosk",
    name="自助事项",
)
CODES = ["form", "lease", "photo"]
FORMS = {
    "check.json": {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "title": "核验结论", "enum": ["ok", "fix"]},
            "lacking": {"type": "array", "items": {"type": "string", "enum": CODES}},
        },
        "required": ["verdict"],
    },
    "fix.json": {
        "type": "object",
        "properties": {
            "supplied_materials": {"type": "array", "items": {"type": "string", "enum": CODES}}
        },
    },
}
METADATA = {
    "key": "kiosk",
    "name": "自助事项",
    "intake": {
        "element": "check",
        "decision_field": "verdict",
        "missing_field": "lacking",
        "correct_value": "fix",
        "correction_element": "fix",
    },
    "materials": [
        {"code": "form", "name": "申请表"},
        {"code": "lease", "name": "租赁合同"},
        {"code": "photo", "name": "照片", "required": False},
    ],
}


def _states(html: str) -> dict[str, str]:
    """Each material's row on the task page: its code and the state it shows."""
    rows = re.findall(
        r'<tr data-material="([^"]+)" class="m-[a-z]+">.*?<span class="m-state">([^<]*)</span>',
        html,
        re.S,
    )
    return {code: unescape(state) for code, state in rows}


def _signed_in(app: Any, svc: Services, name: str) -> Any:
    set_password(svc, name, PASSWORD)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302
    return client


def test_the_task_page_shows_materials_by_the_bundles_own_correct_value(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    files = {"kiosk.bpmn": PROCESS, "bundle.json": METADATA, **FORMS}
    publishing.deploy(services, from_upload("kiosk.zip", bpmn.zipped(files)), "test")
    app = create_app({"SERVICES": services, "TESTING": True})
    client = _signed_in(app, services, "front_desk")
    clerk = users["front_desk"].user

    case = cases.start_case(services, clerk, "kiosk", {})
    page = client.get(f"/work/tasks/{case['tasks'][0]['id']}").get_data(as_text=True)
    assert _states(page) == {"form": "待核对", "lease": "待核对", "photo": "按需提交"}

    case = cases.complete(
        services, clerk, case["tasks"][0]["id"], {"verdict": "fix", "lacking": ["lease"]}
    )
    case = cases.complete(
        services, clerk, case["tasks"][0]["id"], {"supplied_materials": ["lease"]}
    )
    again = case["tasks"][0]
    assert again["element"] == "check"
    page = client.get(f"/work/tasks/{again['id']}").get_data(as_text=True)
    # the window decides again on what the applicant brought: the lease is 已补正 (issue 17 · D)
    assert _states(page) == {"form": "已提交", "lease": "已补正", "photo": "按需提交"}

    case = cases.complete(services, clerk, again["id"], {"verdict": "ok"})
    assert case["status"] == "completed"
    page = client.get(f"/work/tasks/{again['id']}").get_data(as_text=True)
    assert _states(page)["lease"] == "已补正"
    # the same 补正 is what the case page and the 补正告知书 count
    case_page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "补正材料告知书" in case_page
    notice = client.get(f"/cases/{case['id']}/correction-notice").get_data(as_text=True)
    assert "租赁合同" in notice and "申请表" not in notice
