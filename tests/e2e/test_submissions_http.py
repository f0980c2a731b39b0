"""The attacks of issue 14 section 1 through the API and the pages: a task writing a field its
form does not declare, values over the server's limits. Each gets a 422 naming the field, and
the case is exactly as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.services import Services, publishing, queries
from tests.e2e.test_pages_clerk import Desk, _token
from tests.fixtures import bpmn
from tests.fixtures import restaurant as r


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def task_id(case: dict[str, Any], element: str) -> str:
    return next(t["id"] for t in case["tasks"] if t["element"] == element)


def state(desk: Desk, case_id: int) -> Any:
    auditor = desk.users["auditor"].user
    return queries.get_case(desk.svc, auditor, case_id), queries.events(desk.svc, auditor, case_id)


def in_review(desk: Desk) -> dict[str, Any]:
    return desk.do(desk.start(), "intake", "front_desk", r.ACCEPT)


def api(desk: Desk, user: str, path: str, body: dict[str, Any]) -> Any:
    client = desk.app.test_client()
    return client.post(f"/api/v1{path}", json=body, headers=desk.users[user].headers)


def test_api_a_reviewer_cannot_write_another_departments_decision(desk: Desk) -> None:
    case = desk.do(
        in_review(desk),
        "review_food",
        "food_reviewer",
        {"food_approved": False, "needs_inspection": False, "food_opinion": "场所不符合要求"},
    )
    before = state(desk, case["id"])
    response = api(
        desk,
        "market_reviewer",
        f"/tasks/{task_id(case, 'review_licence')}/complete",
        {"data": {**r.LICENCE_OK, "food_approved": True}},
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {
            "field": "food_approved",
            "element": "review_licence",
            "message": "本表单没有此字段, 不能填写",
        }
    ]
    assert state(desk, case["id"]) == before


def test_api_the_issuer_cannot_change_the_holder(desk: Desk) -> None:
    case = desk.do(in_review(desk), "review_licence", "market_reviewer", r.LICENCE_OK)
    case = desk.do(case, "review_food", "food_reviewer", r.FOOD_OK)
    before = state(desk, case["id"])
    response = api(
        desk,
        "issuer",
        f"/tasks/{task_id(case, 'joint_issuance')}/complete",
        {"data": {**r.ISSUANCE, "applicant_name": "王五", "shop_name": "冒名餐馆"}},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"applicant_name", "shop_name"}
    assert state(desk, case["id"]) == before


def test_api_the_start_form_writes_only_its_fields(desk: Desk) -> None:
    response = api(
        desk,
        "front_desk",
        "/cases",
        {"bundle": "restaurant", "data": {**r.APPLICATION, "licence_approved": True}},
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["licence_approved"]
    assert queries.worklist(desk.svc, desk.users["front_desk"].user)["tasks"] == []


def with_attachment(desk: Desk) -> None:
    """A bundle whose start form has a file field and a free text field."""
    form = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 50},
            "remark": {"type": "string"},
            "photo": {"type": "string", "format": "data-url", "title": "照片"},
        },
    }
    body = """
  <bpmn:startEvent id="start" camunda:formKey="apply.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
  <bpmn:userTask id="task" name="办理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
  <bpmn:endEvent id="end" />"""
    files = {"file.bpmn": bpmn.document(body, "file"), "apply.json": form}
    publishing.deploy(desk.svc, from_upload("file.zip", bpmn.zipped(files)), "test")


def test_api_values_within_the_servers_limits(desk: Desk) -> None:
    """The 2 MB attachment limit holds for data URLs arriving through the API, and strings
    without a maxLength get the default (10,000 characters)."""
    with_attachment(desk)
    big = "data:image/png;name=a.png;base64," + base64.b64encode(
        b"\0" * (2 * 1024 * 1024 + 1)
    ).decode("ascii")
    response = api(
        desk,
        "front_desk",
        "/cases",
        {"bundle": "file", "data": {"name": "甲", "remark": "长" * 10_001, "photo": big}},
    )
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.json["errors"]} == {
        "photo": "文件不能超过 2 MB",
        "remark": "长度不能超过 10000 个字符",
    }
    assert queries.worklist(desk.svc, desk.users["front_desk"].user)["tasks"] == []
    ok = "data:image/png;name=a.png;base64," + base64.b64encode(b"\0" * 1000).decode("ascii")
    response = api(
        desk, "front_desk", "/cases", {"bundle": "file", "data": {"name": "甲", "photo": ok}}
    )
    assert response.status_code == 201, response.json


def test_page_a_posted_field_the_form_does_not_have_is_refused(desk: Desk) -> None:
    case = in_review(desk)
    before = state(desk, case["id"])
    client = desk.client("market_reviewer")
    task = task_id(case, "review_licence")
    page = client.get(f"/work/tasks/{task}").get_data(as_text=True)
    response = client.post(
        f"/work/tasks/{task}",
        data={
            "csrf_token": _token(page),
            "licence_approved": "true",
            "licence_opinion": "同意",
            "food_approved": "true",
        },
    )
    assert response.status_code == 422
    assert "表单没有字段 food_approved, 不能填写" in response.get_data(as_text=True)
    assert state(desk, case["id"]) == before


def test_page_the_start_form_refuses_fields_it_does_not_have(desk: Desk) -> None:
    client = desk.client("front_desk")
    page = client.get("/work/start/restaurant").get_data(as_text=True)
    form = {k: str(v) for k, v in r.APPLICATION.items()}
    response = client.post(
        "/work/start/restaurant",
        data={**form, "csrf_token": _token(page), "intake_decision": "accept"},
    )
    assert response.status_code == 422
    assert "表单没有字段 intake_decision, 不能填写" in response.get_data(as_text=True)
    assert queries.worklist(desk.svc, desk.users["front_desk"].user)["tasks"] == []


def test_page_values_within_the_servers_limits(desk: Desk) -> None:
    """A string without a maxLength posted through a page meets the same default as the API."""
    with_attachment(desk)
    client = desk.client("front_desk")
    page = client.get("/work/start/file").get_data(as_text=True)
    response = client.post(
        "/work/start/file",
        data={"csrf_token": _token(page), "name": "甲", "remark": "长" * 10_001},
    )
    assert response.status_code == 422
    assert "长度不能超过 10000 个字符" in response.get_data(as_text=True)
    assert queries.worklist(desk.svc, desk.users["front_desk"].user)["tasks"] == []
