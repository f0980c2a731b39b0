"""The REST API through Flask's test client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import PROCESSES
from tests.fixtures import bpmn
from tests.fixtures.restaurant import APPLICATION, CLERK_OF, PATHS, REFUSE


def upload(client: Any, headers: dict[str, str], name: str, data: bytes) -> Any:
    return client.post(
        "/api/v1/bundles",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def restaurant_zip() -> bytes:
    files: dict[str, Any] = {p.name: p.read_bytes() for p in (PROCESSES / "restaurant").iterdir()}
    forms = PROCESSES.parent / "forms" / "restaurant"
    files.update({f"forms/restaurant/{p.name}": p.read_bytes() for p in forms.iterdir()})
    return bpmn.zipped(files)


def test_the_restaurant_case_end_to_end(client: Any, users: dict[str, Any]) -> None:
    designer = users["designer"].headers
    created = upload(client, designer, "restaurant.zip", restaurant_zip())
    assert created.status_code == 201, created.json
    assert (created.json["key"], created.json["version"]) == ("restaurant", 1)
    listed = client.get("/api/v1/bundles", headers=users["auditor"].headers).json["bundles"]
    assert [(b["key"], b["name"], b["version"]) for b in listed] == [
        ("restaurant", "我要开餐馆", 1)
    ]

    started = client.post(
        "/api/v1/cases",
        headers=users["front_desk"].headers,
        json={"bundle": "restaurant", "data": APPLICATION},
    )
    assert started.status_code == 201
    case = started.json
    assert {"id", "bundle", "version", "status", "data", "tasks"} <= set(case)
    assert case["data"] == APPLICATION
    for element, form in PATHS["granted_with_inspection"][0]:
        clerk = users[CLERK_OF[element]].headers
        worklist = client.get("/api/v1/tasks", headers=clerk).json["tasks"]
        task = next(t for t in worklist if t["element"] == element and t["case_id"] == case["id"])
        assert {"id", "case_id", "element", "name", "groups", "assignee"} <= set(task)
        claimed = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=clerk)
        assert claimed.status_code == 200 and claimed.json["assignee"] == CLERK_OF[element]
        done = client.post(
            f"/api/v1/tasks/{task['id']}/complete", headers=clerk, json={"data": form}
        )
        assert done.status_code == 200, done.json
        case = done.json
    assert case["status"] == "completed"
    fetched = client.get(f"/api/v1/cases/{case['id']}", headers=users["auditor"].headers).json
    assert (
        fetched["status"] == "completed" and fetched["data"]["permit_number"] == "JY13301020000017"
    )
    events = client.get(
        f"/api/v1/cases/{case['id']}/events", headers=users["auditor"].headers
    ).json["events"]
    assert {"seq", "type", "actor", "at", "task", "data"} <= set(events[0])
    assert [e["type"] for e in events][:3] == ["case_started", "task_claimed", "task_completed"]
    assert (
        events[2]["actor"] == "front_desk"
        and events[2]["data"]["form"] == PATHS["granted_with_inspection"][0][0][1]
    )


def test_authentication_and_roles(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    assert client.get("/api/v1/bundles").status_code == 401
    assert (
        client.get("/api/v1/bundles", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    assert upload(client, users["front_desk"].headers, "x.bpmn", bpmn.linear()).status_code == 403
    assert (
        client.post(
            "/api/v1/cases",
            headers=users["auditor"].headers,
            json={"bundle": "restaurant", "data": APPLICATION},
        ).status_code
        == 403
    )
    case = client.post(
        "/api/v1/cases",
        headers=users["front_desk"].headers,
        json={"bundle": "restaurant", "data": APPLICATION},
    ).json
    assert (
        client.get(f"/api/v1/cases/{case['id']}", headers=users["designer"].headers).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/cases/{case['id']}/events", headers=users["front_desk"].headers
        ).status_code
        == 403
    )
    assert client.get("/api/v1/tasks", headers=users["auditor"].headers).status_code == 403
    task = case["tasks"][0]
    wrong = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        headers=users["food_reviewer"].headers,
        json={"data": {"intake_decision": "accept"}},
    )
    assert wrong.status_code == 403 and "front_desk" in wrong.json["error"]
    assert client.get("/api/v1/cases/999999", headers=users["admin"].headers).status_code == 404
    assert (
        client.post("/api/v1/tasks/nope/claim", headers=users["front_desk"].headers).status_code
        == 404
    )


def test_form_errors_and_finished_tasks(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    clerk = users["front_desk"].headers
    bad_start = client.post(
        "/api/v1/cases",
        headers=clerk,
        json={"bundle": "restaurant", "data": {**APPLICATION, "premises_area_m2": -1}},
    )
    assert (
        bad_start.status_code == 422 and bad_start.json["errors"][0]["field"] == "premises_area_m2"
    )
    case = client.post(
        "/api/v1/cases", headers=clerk, json={"bundle": "restaurant", "data": APPLICATION}
    ).json
    task = case["tasks"][0]
    invalid = client.post(
        f"/api/v1/tasks/{task['id']}/complete", headers=clerk, json={"data": {"intake_decision": 3}}
    )
    assert invalid.status_code == 422
    assert invalid.json["errors"] == [
        {"field": "intake_decision", "message": "应为文本", "element": "intake"}
    ]
    assert (
        client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=clerk,
            data="not json",
            content_type="application/json",
        ).status_code
        == 422
    )
    ok = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=clerk, json={"data": REFUSE})
    assert ok.status_code == 200 and ok.json["status"] == "completed"
    again = client.post(
        f"/api/v1/tasks/{task['id']}/complete", headers=clerk, json={"data": REFUSE}
    )
    assert again.status_code == 409


def test_a_task_without_a_form_accepts_any_object(client: Any, users: dict[str, Any]) -> None:
    assert upload(client, users["designer"].headers, "p.bpmn", bpmn.linear()).status_code == 201
    case = client.post(
        "/api/v1/cases", headers=users["front_desk"].headers, json={"bundle": "p", "data": {"x": 1}}
    ).json
    done = client.post(
        f"/api/v1/tasks/{case['tasks'][0]['id']}/complete",
        headers=users["front_desk"].headers,
        json={"data": {"anything": {"nested": [1, 2]}}},
    )
    assert done.status_code == 200
    assert done.json["data"] == {"x": 1, "anything": {"nested": [1, 2]}}


BAD_UPLOADS = {
    "not well-formed": ("bad.bpmn", b"<bpmn:definitions", None),
    "billion laughs": (
        "lol.bpmn",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
        None,
    ),
    "xxe": (
        "xxe.bpmn",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        None,
    ),
    "schema": ("s.bpmn", bpmn.linear(extra='<bpmn:bogus id="b1" />'), None),
    "script task": (
        "s.bpmn",
        bpmn.document(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:scriptTask id="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
        ),
        "x",
    ),
    "unsafe condition": ("c.bpmn", bpmn.decision("open('/etc/passwd').read()"), "yes"),
    "missing form": (
        "f.bpmn",
        bpmn.linear('camunda:candidateGroups="g" camunda:formKey="none.json"'),
        "task",
    ),
    "invalid form": (
        "f.zip",
        bpmn.zipped(
            {
                "p.bpmn": bpmn.linear('camunda:candidateGroups="g" camunda:formKey="f.json"'),
                "f.json": {"type": "object", "required": "yes"},
            }
        ),
        "task",
    ),
    "parse error": (
        "l.bpmn",
        bpmn.document(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>'
            '<bpmn:userTask id="t" camunda:candidateGroups="g"><bpmn:standardLoopCharacteristics/></bpmn:userTask>'
        ),
        "t",
    ),
    "not a bundle": ("x.txt", b"hello", None),
    "bad zip": ("x.zip", b"PK\x03\x04garbage", None),
}


@pytest.mark.parametrize("kind", sorted(BAD_UPLOADS))
def test_a_bad_upload_is_422_with_its_problems_and_stores_nothing(
    client: Any, users: dict[str, Any], kind: str
) -> None:
    name, data, element = BAD_UPLOADS[kind]
    response = upload(client, users["designer"].headers, name, data)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert errors and all({"message", "element", "line"} <= set(e) for e in errors)
    assert all(e["message"] for e in errors)
    if element is not None:
        assert element in [e["element"] for e in errors]
        assert any(e["line"] for e in errors if e["element"] == element)
    assert "root:" not in str(response.json)
    assert client.get("/api/v1/bundles", headers=users["designer"].headers).json["bundles"] == []


def test_an_upload_without_a_file_field(client: Any, users: dict[str, Any]) -> None:
    response = client.post("/api/v1/bundles", headers=users["designer"].headers)
    assert response.status_code == 422 and "file" in response.json["errors"][0]["message"]


def test_paging_the_worklist(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    clerk = users["front_desk"].headers
    for _ in range(5):
        client.post(
            "/api/v1/cases", headers=clerk, json={"bundle": "restaurant", "data": APPLICATION}
        )
    first = client.get("/api/v1/tasks?limit=2", headers=clerk).json
    assert len(first["tasks"]) == 2 and first["next"]
    seen = [t["id"] for t in first["tasks"]]
    after = first["next"]
    while after:
        page = client.get(f"/api/v1/tasks?limit=2&after={after}", headers=clerk).json
        seen += [t["id"] for t in page["tasks"]]
        after = page["next"]
    assert len(seen) == len(set(seen)) == 5
    assert client.get("/api/v1/tasks?limit=0", headers=clerk).status_code == 422


def test_bundle_detail_gives_tasks_and_forms(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    headers = users["front_desk"].headers
    detail = client.get("/api/v1/bundles/restaurant", headers=headers).json
    assert detail["version"] == 1 and detail["start_form"] == "restaurant/application.json"
    tasks = {t["element"]: t for t in detail["human_tasks"]}
    assert tasks["review_food"]["groups"] == ["food_safety"]
    assert detail["forms"][tasks["intake"]["form"]]["required"] == ["intake_decision"]
    assert client.get("/api/v1/bundles/restaurant/versions/1", headers=headers).json == detail
    assert client.get("/api/v1/bundles/restaurant/versions/2", headers=headers).status_code == 404
    assert client.get("/api/v1/bundles/nope", headers=headers).status_code == 404


def test_the_home_page_serves_without_signing_in(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "联办" in page.get_data(as_text=True)
    assert client.get("/no-such-page").status_code == 404


def test_upload_permission_is_checked_before_the_file(client: Any, users: dict[str, Any]) -> None:
    assert client.post("/api/v1/bundles", headers=users["front_desk"].headers).status_code == 403


def test_paging_from_an_unknown_task_is_refused(client: Any, users: dict[str, Any]) -> None:
    response = client.get("/api/v1/tasks?after=nope", headers=users["front_desk"].headers)
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "after"


def test_an_upload_answers_its_warnings_as_the_spec_says(
    client: Any, users: dict[str, Any]
) -> None:
    """Stored (201) with `warnings`: each a problem with message, element, line and file."""
    data = bpmn.decision("approved == True")
    checked = client.post(
        "/api/v1/bundles/validate",
        headers=users["designer"].headers,
        data={"file": (io.BytesIO(data), "d.bpmn")},
        content_type="multipart/form-data",
    )
    response = upload(client, users["designer"].headers, "d.bpmn", data)
    assert response.status_code == 201, response.json
    for answer in (response.json, checked.json):
        (warning,) = answer["warnings"]
        assert warning["element"] == "yes" and warning["file"] == "d.bpmn"
        assert warning["line"] and "`approved`" in warning["message"]
    assert checked.status_code == 200
