"""The editor's properties panel asks the server: the groups with their members, the fields a
condition may read at an element of the draft, a condition checked as it is typed (SQLite and
PostgreSQL, through the test client, with the session's CSRF token as the page sends it)."""

from __future__ import annotations

import json
from typing import Any

from engine.services import accounts
from tests.conftest import PROCESSES
from tests.fixtures.pages import sign_in

PASSWORD = "panel pages pw"
RESTAURANT = PROCESSES / "restaurant"


def _files() -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(RESTAURANT.iterdir()) if p.is_file()}


def _post(client: Any, token: str | None, url: str, body: Any) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(
        url,
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )


def test_groups_lists_every_group_with_its_member_count(
    client: Any, users: Any, services: Any
) -> None:
    accounts.create_user(services, "window2", "clerk", ["front_desk", "night_desk"])
    sign_in(client, services, "designer", PASSWORD)
    response = client.get("/designer/panel/groups")
    assert response.status_code == 200
    groups = {g["name"]: g["members"] for g in response.get_json()}
    assert groups["front_desk"] == 3 and groups["night_desk"] == 1
    assert groups["food_safety"] == 1
    assert list(groups) == sorted(groups)


def test_fields_before_a_gateway_of_the_restaurant(client: Any, users: Any, services: Any) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    body = {"files": _files(), "element": "flow_inspection_needed"}
    response = _post(client, token, "/designer/panel/fields", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    assert found["complete"] is True and found["reached"] is True
    by_name = {f["name"]: f for f in found["fields"]}
    # the start form, 一窗受理 and both parallel reviews ran before it; 现场踏勘 did not
    assert by_name["needs_inspection"] == {
        "name": "needs_inspection",
        "title": "是否需要现场踏勘",
        "type": "boolean",
        "form": "restaurant/review_food.json",
    }
    assert {"applicant_name", "intake_decision", "licence_approved"} <= set(by_name)
    assert "inspection_passed" not in by_name
    # entering 一窗受理: only what the applicant submitted
    first = _post(client, token, "/designer/panel/fields", {"files": _files(), "element": "intake"})
    names = {f["name"] for f in first.get_json()["fields"]}
    assert "applicant_name" in names and "intake_decision" not in names


def test_an_element_nothing_reaches_is_offered_every_field_not_complete(
    client: Any, users: Any, services: Any
) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    body = {"files": _files(), "element": "Flow_just_drawn"}
    found = _post(client, token, "/designer/panel/fields", body).get_json()
    assert found["complete"] is False and found["reached"] is False
    assert "inspection_passed" in {f["name"] for f in found["fields"]}


def test_fields_refuses_a_body_it_cannot_read(client: Any, users: Any, services: Any) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    for body, field in (
        ({"files": _files()}, "element"),
        ({"files": "restaurant.bpmn", "element": "intake"}, "files"),
        ({"files": {"../etc/x.bpmn": "<x/>"}, "element": "intake"}, "files"),
    ):
        response = _post(client, token, "/designer/panel/fields", body)
        assert response.status_code == 422, body
        refusal = response.get_json()
        assert refusal["errors"][0]["field"] == field
        assert refusal["message"]  # in Chinese, naming what
    not_json = client.post(
        "/designer/panel/fields",
        data="x",
        content_type="text/plain",
        headers={"X-CSRFToken": token},
    )
    assert not_json.status_code == 422
    assert "JSON" in not_json.get_json()["message"] + json.dumps(not_json.get_json()["errors"])


def test_check_a_valid_condition_and_a_misspelled_field(
    client: Any, users: Any, services: Any
) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    fields = ["sells_cold_chain", "shop_name"]
    ok = _post(
        client,
        token,
        "/designer/panel/check",
        {"expression": "sells_cold_chain == true", "fields": fields},
    ).get_json()
    assert ok == {"ok": True, "error": None, "unknown": []}
    misspelled = _post(
        client,
        token,
        "/designer/panel/check",
        {"expression": "sells_coldchain == true", "fields": fields},
    ).get_json()
    assert misspelled["ok"] is False and misspelled["error"] is None
    assert misspelled["unknown"] == [{"name": "sells_coldchain", "suggestion": "sells_cold_chain"}]
    # without the fields known, only the language is checked
    unchecked = _post(
        client, token, "/designer/panel/check", {"expression": "anything == 1", "fields": None}
    ).get_json()
    assert unchecked["ok"] is True


def test_check_an_invalid_condition_gives_its_position_and_a_hint(
    client: Any, users: Any, services: Any
) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    found = _post(
        client, token, "/designer/panel/check", {"expression": "  status = 'x'", "fields": None}
    ).get_json()
    assert found["ok"] is False
    assert "`==`" in found["error"]["hint"]
    forbidden = _post(
        client, token, "/designer/panel/check", {"expression": "a.__class__", "fields": None}
    ).get_json()
    assert forbidden["ok"] is False and "不允许访问属性" in forbidden["error"]["message"]
    assert forbidden["error"]["offset"] == 2 and "(第 3 列)" in forbidden["error"]["message"]
    empty = _post(client, token, "/designer/panel/check", {"expression": " ", "fields": None})
    assert empty.get_json()["error"]["message"] == "条件表达式为空"
    refused = _post(client, token, "/designer/panel/check", {"expression": 3, "fields": None})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "expression"


def test_a_clerk_and_a_stranger_are_refused(client: Any, users: Any, services: Any) -> None:
    assert client.get("/designer/panel/groups").status_code == 302  # sign in first
    token = sign_in(client, services, "front_desk", PASSWORD)
    assert client.get("/designer/panel/groups").status_code == 403
    for url, body in (
        ("/designer/panel/fields", {"files": _files(), "element": "intake"}),
        ("/designer/panel/check", {"expression": "a == 1", "fields": None}),
    ):
        assert _post(client, token, url, body).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(client: Any, users: Any, services: Any) -> None:
    sign_in(client, services, "designer", PASSWORD)
    response = _post(client, None, "/designer/panel/check", {"expression": "a == 1"})
    assert response.status_code == 400
