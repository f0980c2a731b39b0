"""转办 and 委派 (issue 18 · 2 and 3) through the REST API, on SQLite and on PostgreSQL: each
rule and each refusal, the messages, the timeline, the clock and the audit replay."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import accounts, audit, case_pages, messages, task_handover
from engine.services.context import Services
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.restaurant import ACCEPT, APPLICATION, LICENCE_OK

API = "/api/v1"


@pytest.fixture
def people(services: Services, users: dict[str, Any], restaurant: Any) -> dict[str, Any]:
    """The test clerks plus a second market reviewer (with a name and department) and a
    supervisor of the restaurant bundle (its 督办 group)."""
    from types import SimpleNamespace

    made = dict(users)
    for name, groups, shown, place in [
        ("market_reviewer2", ["market_regulation"], "王芳", "市场监管局"),
        ("supervisor", ["supervisors"], "赵督办", "督查室"),
    ]:
        user, token = accounts.create_user(
            services, name, "clerk", groups, display_name=shown, department=place
        )
        made[name] = SimpleNamespace(
            user=user, token=token, headers={"Authorization": f"Bearer {token}"}
        )
    return made


def _review_task(client: Any, people: dict[str, Any]) -> tuple[int, str]:
    """A new case accepted at the window: its open 营业执照审查 task (market_regulation)."""
    desk = people["front_desk"].headers
    case = client.post(
        f"{API}/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    )
    assert case.status_code == 201, case.json
    intake = next(t for t in case.json["tasks"] if t["element"] == "intake")
    done = client.post(f"{API}/tasks/{intake['id']}/complete", headers=desk, json={"data": ACCEPT})
    assert done.status_code == 200, done.json
    review = next(t for t in done.json["tasks"] if t["element"] == "review_licence")
    return case.json["id"], review["id"]


def _post(client: Any, who: Any, task_id: str, op: str, body: dict[str, Any]) -> Any:
    """The call, its answer checked against docs/openapi.yaml (successes and refusals)."""
    response = client.post(f"{API}/tasks/{task_id}/{op}", headers=who.headers, json=body)
    assert_matches(response, f"/tasks/{{task_id}}/{op}", "post")
    return response


def _events(client: Any, people: dict[str, Any], case_id: int) -> list[dict[str, Any]]:
    found = client.get(f"{API}/cases/{case_id}/events", headers=people["auditor"].headers)
    events: list[dict[str, Any]] = assert_matches(found, "/cases/{case_id}/events", "get")["events"]
    return events


def _mine(client: Any, who: Any) -> list[str]:
    listed = client.get(f"{API}/tasks?claimed=mine", headers=who.headers).json["tasks"]
    return [t["id"] for t in listed]


def test_a_transfer_gives_the_task_to_a_colleague_of_its_group(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, colleague = people["market_reviewer"], people["market_reviewer2"]
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=me.headers).status_code == 200
    before = client.get(f"{API}/cases/{case_id}", headers=me.headers).json
    assert task_id in _mine(client, me)

    given = _post(client, me, task_id, "transfer", {"to": "market_reviewer2", "reason": "出差"})
    assert given.status_code == 200, given.json
    assert (given.json["assignee"], given.json["owner"]) == ("market_reviewer2", None)
    assert task_id not in _mine(client, me) and task_id in _mine(client, colleague)
    # only the new claimant can work it now
    refused = client.post(f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": {}})
    assert refused.status_code == 403
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "task_transferred" and event["actor"] == "market_reviewer"
    assert event["data"] == {"from": "market_reviewer", "to": "market_reviewer2", "reason": "出差"}
    told = messages.inbox(services, colleague.user)[0]
    assert told.task_id == task_id and "转办" in told.title and "出差" in told.body
    # the clock and the task's own deadline do not move
    after = client.get(f"{API}/cases/{case_id}", headers=me.headers).json
    assert after["deadline"] == before["deadline"] and after["clock"] == before["clock"]
    task_after = next(t for t in after["tasks"] if t["id"] == task_id)
    task_before = next(t for t in before["tasks"] if t["id"] == task_id)
    assert task_after["deadline"] == task_before["deadline"]
    # the timeline says it in words
    with services.uow() as uow:
        stored = uow.cases.events(case_id)[-1]
    shown = case_pages.describe(stored, {"review_licence": "营业执照审查"})
    assert shown == "「营业执照审查」由 market_reviewer 转办给 market_reviewer2; 原因: 出差"

    done = client.post(
        f"{API}/tasks/{task_id}/complete", headers=colleague.headers, json={"data": LICENCE_OK}
    )
    assert done.status_code == 200, done.json


def test_an_unclaimed_task_is_transferred_by_a_member_of_its_group(
    client: Any, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    given = _post(
        client,
        people["market_reviewer"],
        task_id,
        "transfer",
        {"to": "market_reviewer2", "reason": "请王芳办理"},
    )
    assert given.status_code == 200 and given.json["assignee"] == "market_reviewer2"
    assert _events(client, people, case_id)[-1]["data"]["from"] == "market_reviewer"


def test_transfer_refusals(client: Any, people: dict[str, Any]) -> None:
    case_id, task_id = _review_task(client, people)
    me = people["market_reviewer"]

    def transfer(who: Any, body: dict[str, Any]) -> Any:
        return _post(client, who, task_id, "transfer", body)

    ok = {"to": "market_reviewer2", "reason": "出差"}
    for body, field in [
        ({"to": "market_reviewer2"}, "reason"),
        ({"to": "market_reviewer2", "reason": "  "}, "reason"),
        ({"to": "market_reviewer2", "reason": "长" * 2001}, "reason"),
        ({"to": "market_reviewer2", "reason": 5}, "reason"),
        ({"reason": "出差"}, "to"),
        ({"to": "nobody", "reason": "出差"}, "to"),
        ({"to": "designer", "reason": "出差"}, "to"),  # not a clerk
        ({"to": "market_reviewer", "reason": "出差"}, "to"),  # myself
        ({"to": "food_reviewer", "reason": "出差"}, "to"),  # not of the task's groups
    ]:
        refused = transfer(me, body)
        assert refused.status_code == 422, (body, refused.json)
        assert refused.json["errors"][0]["field"] == field
    wrong_group = transfer(people["food_reviewer"], ok)
    assert wrong_group.status_code == 403 and "您不在其中" in wrong_group.json["error"]
    assert transfer(people["auditor"], ok).status_code == 403
    assert _post(client, me, "no-such-task", "transfer", ok).status_code == 404
    # claimed by someone else: only the claimant (or a supervisor) may give it away
    assert (
        client.post(
            f"{API}/tasks/{task_id}/claim", headers=people["market_reviewer2"].headers
        ).status_code
        == 200
    )
    taken = transfer(me, {"to": "market_reviewer2", "reason": "出差"})
    assert taken.status_code == 403 and "market_reviewer2" in taken.json["error"]
    already = transfer(people["market_reviewer2"], {"to": "market_reviewer2", "reason": "x"})
    assert already.status_code == 422
    # nothing was recorded by the refusals
    assert [e["type"] for e in _events(client, people, case_id)][-1] == "task_claimed"
    # a closed task: 409
    done = client.post(
        f"{API}/tasks/{task_id}/complete",
        headers=people["market_reviewer2"].headers,
        json={"data": LICENCE_OK},
    )
    assert done.status_code == 200
    closed = transfer(people["market_reviewer2"], {"to": "market_reviewer", "reason": "x"})
    assert closed.status_code == 409 and "已办结" in closed.json["error"]


def test_a_supervisor_may_transfer_a_claimed_task(client: Any, people: dict[str, Any]) -> None:
    case_id, task_id = _review_task(client, people)
    assert (
        client.post(
            f"{API}/tasks/{task_id}/claim", headers=people["market_reviewer"].headers
        ).status_code
        == 200
    )
    given = _post(
        client,
        people["supervisor"],
        task_id,
        "transfer",
        {"to": "market_reviewer2", "reason": "原承办人休假"},
    )
    assert given.status_code == 200, given.json
    assert given.json["assignee"] == "market_reviewer2"
    event = _events(client, people, case_id)[-1]
    assert event["actor"] == "supervisor" and event["data"]["from"] == "market_reviewer"
    # a supervisor cannot delegate a task that is not theirs to work
    asked = _post(
        client, people["supervisor"], task_id, "delegate", {"to": "food_reviewer", "reason": "x"}
    )
    assert asked.status_code == 403


def test_a_delegation_asks_an_opinion_and_comes_back(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, them = people["market_reviewer"], people["food_reviewer"]
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=me.headers).status_code == 200
    before = client.get(f"{API}/cases/{case_id}", headers=me.headers).json

    asked = _post(
        client, me, task_id, "delegate", {"to": "food_reviewer", "reason": "请就后厨布局提意见"}
    )
    assert asked.status_code == 200, asked.json
    assert (asked.json["assignee"], asked.json["owner"]) == ("food_reviewer", "market_reviewer")
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "task_delegated"
    assert event["data"] == {"to": "food_reviewer", "reason": "请就后厨布局提意见"}
    told = messages.inbox(services, them.user)[0]
    assert told.task_id == task_id and "委派" in told.title

    # the delegate, of another group, sees it and can read it, but not complete it
    listed = client.get(f"{API}/tasks", headers=them.headers).json["tasks"]
    row = next(t for t in listed if t["id"] == task_id)
    assert row["owner"] == "market_reviewer" and row["assignee"] == "food_reviewer"
    assert task_id in _mine(client, them)
    assert (
        client.get(f"{API}/tasks/{task_id}", headers=them.headers).json["owner"]
        == "market_reviewer"
    )
    assert client.get(f"{API}/cases/{case_id}", headers=them.headers).status_code == 200
    refused = client.post(
        f"{API}/tasks/{task_id}/complete", headers=them.headers, json={"data": LICENCE_OK}
    )
    assert refused.status_code == 403 and refused.json["error"] == "委派的任务请填写意见后交回"
    assert client.post(f"{API}/tasks/{task_id}/unclaim", headers=them.headers).status_code == 403
    passed_on = _post(client, them, task_id, "transfer", {"to": "inspector", "reason": "x"})
    assert passed_on.status_code == 403
    # the owner waits: no completing, transferring or delegating again meanwhile
    waiting = client.post(
        f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": LICENCE_OK}
    )
    assert waiting.status_code == 409 and "food_reviewer" in waiting.json["error"]
    for op, body in [
        ("transfer", {"to": "market_reviewer2", "reason": "x"}),
        ("delegate", {"to": "inspector", "reason": "x"}),
    ]:
        assert _post(client, me, task_id, op, body).status_code == 409, op
    # only the delegate answers, with an opinion
    assert _post(client, me, task_id, "answer", {"opinion": "同意"}).status_code == 403
    assert (
        _post(client, people["inspector"], task_id, "answer", {"opinion": "同意"}).status_code
        == 403
    )
    for body in ({}, {"opinion": ""}, {"opinion": "长" * 2001}, {"opinion": ["同意"]}):
        blank = _post(client, them, task_id, "answer", body)
        assert blank.status_code == 422 and blank.json["errors"][0]["field"] == "opinion"

    answered = _post(client, them, task_id, "answer", {"opinion": "后厨布局符合要求"})
    assert answered.status_code == 200, answered.json
    assert (answered.json["assignee"], answered.json["owner"]) == ("market_reviewer", None)
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "delegation_answered" and event["actor"] == "food_reviewer"
    assert event["data"] == {"opinion": "后厨布局符合要求", "to": "market_reviewer"}
    told = messages.inbox(services, me.user)[0]
    assert "后厨布局符合要求" in told.body
    assert task_id not in _mine(client, them) and task_id in _mine(client, me)
    again = _post(client, them, task_id, "answer", {"opinion": "再说一句"})
    assert again.status_code == 409
    opinions = task_handover.opinions(services, me.user, task_id)
    assert [(o["by"], o["opinion"]) for o in opinions] == [("food_reviewer", "后厨布局符合要求")]

    # the clock and the task's deadline are as before
    after = client.get(f"{API}/cases/{case_id}", headers=me.headers).json
    assert after["deadline"] == before["deadline"] and after["clock"] == before["clock"]

    done = client.post(
        f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": LICENCE_OK}
    )
    assert done.status_code == 200, done.json
    closed = _post(client, them, task_id, "answer", {"opinion": "x"})
    assert closed.status_code == 409


def test_delegation_refusals(client: Any, people: dict[str, Any]) -> None:
    case_id, task_id = _review_task(client, people)
    me = people["market_reviewer"]
    for body, field in [
        ({"to": "food_reviewer"}, "reason"),
        ({"to": "market_reviewer", "reason": "x"}, "to"),
        ({"to": "admin", "reason": "x"}, "to"),
        ({"to": "nobody", "reason": "x"}, "to"),
    ]:
        refused = _post(client, me, task_id, "delegate", body)
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == field
    outsider = _post(
        client, people["food_reviewer"], task_id, "delegate", {"to": "inspector", "reason": "x"}
    )
    assert outsider.status_code == 403
    not_delegated = _post(client, me, task_id, "answer", {"opinion": "x"})
    assert not_delegated.status_code == 409
    recorded = {e["type"] for e in _events(client, people, case_id)}
    assert not recorded & {"task_delegated", "delegation_answered", "task_transferred"}


def test_a_case_that_went_through_transfer_and_delegation_still_verifies(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    steps = [
        ("market_reviewer", "transfer", {"to": "market_reviewer2", "reason": "出差"}),
        ("market_reviewer2", "delegate", {"to": "inspector", "reason": "请核查"}),
        ("inspector", "answer", {"opinion": "可以"}),
    ]
    for who, op, body in steps:
        done = _post(client, people[who], task_id, op, body)
        assert done.status_code == 200, (op, done.json)
    finished = client.post(
        f"{API}/tasks/{task_id}/complete",
        headers=people["market_reviewer2"].headers,
        json={"data": LICENCE_OK},
    )
    assert finished.status_code == 200, finished.json
    types = [e["type"] for e in _events(client, people, case_id)]
    assert ["task_transferred", "task_delegated", "delegation_answered"] == [
        t for t in types if t in ("task_transferred", "task_delegated", "delegation_answered")
    ]
    verdict = audit.replay(services, people["auditor"].user, case_id)
    assert verdict["verified"] is True, verdict
    checked = client.get(f"{API}/cases/{case_id}/replay", headers=people["auditor"].headers)
    assert checked.status_code == 200 and checked.json["verified"] is True, checked.json


def test_colleagues_lists_who_can_take_the_task(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    _, task_id = _review_task(client, people)
    found = task_handover.colleagues(services, people["market_reviewer"].user, task_id)
    assert [p["name"] for p in found["transfer"]] == ["market_reviewer2"]
    assert found["transfer"][0]["label"] == "王芳 (市场监管局)"
    delegates = {p["name"] for p in found["delegate"]}
    assert "food_reviewer" in delegates and "market_reviewer2" in delegates
    assert "market_reviewer" not in delegates and "designer" not in delegates


# ------------------------------------------------------------------ the pages


def _page_client(app: Any, services: Services, name: str) -> tuple[Any, str]:
    from tests.fixtures.pages import sign_in

    browser = app.test_client()
    return browser, sign_in(browser, services, name, "handover-pw-1")


def test_the_task_page_transfers_delegates_and_answers(
    app: Any, client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, csrf = _page_client(app, services, "market_reviewer")
    html = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert 'id="transfer"' in html and 'id="delegate"' in html
    assert "王芳 (市场监管局)" in html  # the colleague of the group, by name and department
    # refusals come back on the task page, in Chinese, with a 4xx
    blank = me.post(
        f"/work/tasks/{task_id}/transfer",
        data={"to": "market_reviewer2", "reason": "", "csrf_token": csrf},
    )
    assert blank.status_code == 422 and "请填写转办原因" in blank.get_data(as_text=True)
    outside = me.post(
        f"/work/tasks/{task_id}/transfer",
        data={"to": "food_reviewer", "reason": "x", "csrf_token": csrf},
    )
    assert outside.status_code == 422 and "征求其他部门意见请用委派" in outside.get_data(
        as_text=True
    )

    asked = me.post(
        f"/work/tasks/{task_id}/delegate",
        data={"to": "food_reviewer", "reason": "请提意见", "csrf_token": csrf},
    )
    assert asked.status_code == 302 and asked.headers["Location"].endswith(f"/work/tasks/{task_id}")
    waiting = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert (
        "任务已委派给 <strong>food_reviewer</strong>" in waiting and 'id="delegate"' not in waiting
    )
    again = me.post(
        f"/work/tasks/{task_id}/delegate",
        data={"to": "inspector", "reason": "x", "csrf_token": csrf},
    )
    assert again.status_code == 409 and "请等其交回后再办理" in again.get_data(as_text=True)

    them, their_csrf = _page_client(app, services, "food_reviewer")
    listed = them.get("/work/").get_data(as_text=True)
    assert f'data-task="{task_id}"' in listed and "委派给我" in listed
    page = them.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert "填写意见并交回" in page and "提交办理" not in page
    forced = them.post(f"/work/tasks/{task_id}", data={"csrf_token": their_csrf})
    assert forced.status_code == 403 and "委派的任务请填写意见后交回" in forced.get_data(
        as_text=True
    )
    answered = them.post(
        f"/work/tasks/{task_id}/answer",
        data={"opinion": "同意登记", "csrf_token": their_csrf},
    )
    assert answered.status_code == 302
    back = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert "委派意见: food_reviewer:" in back and "同意登记" in back

    given = me.post(
        f"/work/tasks/{task_id}/transfer",
        data={"to": "market_reviewer2", "reason": "出差", "csrf_token": csrf},
    )
    assert given.status_code == 302 and given.headers["Location"].endswith("/work/")
    assert f'data-task="{task_id}"' not in me.get("/work/?claimed=mine").get_data(as_text=True)
    assert case_id
