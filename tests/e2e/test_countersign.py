"""加签 before / after and 减签 (issue 18 · 5) through the REST API, on SQLite and PostgreSQL:
signing, completing with the kept form, taking back, the cap, who may, a suspended case, the
timeline and the audit replay."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import accounts, audit, case_pages, countersign, messages
from engine.services.context import Services
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.restaurant import ACCEPT, APPLICATION, LICENCE_OK

API = "/api/v1"


@pytest.fixture
def people(services: Services, users: dict[str, Any], restaurant: Any) -> dict[str, Any]:
    """The test clerks plus a second market reviewer with a name and a department."""
    from types import SimpleNamespace

    made = dict(users)
    user, token = accounts.create_user(
        services,
        "market_reviewer2",
        "clerk",
        ["market_regulation"],
        display_name="王芳",
        department="市场监管局",
    )
    made["market_reviewer2"] = SimpleNamespace(
        user=user, token=token, headers={"Authorization": f"Bearer {token}"}
    )
    return made


def _review_task(client: Any, people: dict[str, Any]) -> tuple[int, str]:
    """A new case accepted at the window: its open 营业执照审查 task, claimed by
    market_reviewer."""
    desk = people["front_desk"].headers
    case = client.post(
        f"{API}/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    )
    assert case.status_code == 201, case.json
    intake = next(t for t in case.json["tasks"] if t["element"] == "intake")
    done = client.post(f"{API}/tasks/{intake['id']}/complete", headers=desk, json={"data": ACCEPT})
    assert done.status_code == 200, done.json
    review = next(t for t in done.json["tasks"] if t["element"] == "review_licence")
    claimed = client.post(
        f"{API}/tasks/{review['id']}/claim", headers=people["market_reviewer"].headers
    )
    assert claimed.status_code == 200
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


def _verified(client: Any, services: Services, people: dict[str, Any], case_id: int) -> None:
    verdict = audit.replay(services, people["auditor"].user, case_id)
    assert verdict["verified"] is True, {k: v for k, v in verdict.items() if k != "steps"}


def _case(client: Any, who: Any, case_id: int) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"{API}/cases/{case_id}", headers=who.headers).json
    return found


def test_a_signer_before_me_signs_and_the_task_comes_back(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["food_reviewer"]
    before = _case(client, me, case_id)
    added = _post(
        client,
        me,
        task_id,
        "add-signer",
        {"position": "before", "to": "food_reviewer", "reason": "请食品安全科先签"},
    )
    assert added.status_code == 200, added.json
    assert (added.json["owner"], added.json["assignee"], added.json["owner_kind"]) == (
        "market_reviewer",
        "food_reviewer",
        "sign_before",
    )
    told = messages.inbox(services, signer.user)[0]
    assert told.task_id == task_id and "前加签" in told.title and "请食品安全科先签" in told.body
    # while the signer holds it: the owner waits (409), the signer cannot complete (403)
    waiting = client.post(
        f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": LICENCE_OK}
    )
    assert waiting.status_code == 409 and "任务正在等待 food_reviewer 加签" in waiting.json["error"]
    own = client.post(
        f"{API}/tasks/{task_id}/complete", headers=signer.headers, json={"data": LICENCE_OK}
    )
    assert own.status_code == 403 and "加签的任务请签署后交回" in own.json["error"]
    for who in (me, signer):
        again = _post(
            client,
            who,
            task_id,
            "add-signer",
            {"position": "before", "to": "inspector", "reason": "x"},
        )
        assert again.status_code in (403, 409)
    delegated = client.post(
        f"{API}/tasks/{task_id}/delegate",
        headers=signer.headers,
        json={"to": "inspector", "reason": "x"},
    )
    assert delegated.status_code == 403
    # only the signer signs; 不同意 needs an opinion
    assert _post(client, me, task_id, "sign", {"decision": "approve"}).status_code == 403
    bare = _post(client, signer, task_id, "sign", {"decision": "reject"})
    assert bare.status_code == 422
    signed = _post(client, signer, task_id, "sign", {"decision": "reject", "opinion": "后厨不合格"})
    assert signed.status_code == 200, signed.json
    assert (signed.json["assignee"], signed.json["owner"], signed.json["owner_kind"]) == (
        "market_reviewer",
        None,
        None,
    )
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "added_signature" and event["actor"] == "food_reviewer"
    assert event["data"] == {
        "position": "before",
        "decision": "reject",
        "opinion": "后厨不合格",
        "to": "market_reviewer",
    }
    told = messages.inbox(services, me.user)[0]
    assert "不同意" in told.body and "后厨不合格" in told.body
    shown = countersign.signatures(services, task_id)
    assert [(s["by"], s["decision_label"], s["opinion"]) for s in shown] == [
        ("food_reviewer", "不同意", "后厨不合格")
    ]
    with services.uow() as uow:
        stored = uow.cases.events(case_id)
    names = {"review_licence": "营业执照审查"}
    assert case_pages.describe(stored[-2], names) == (
        "「营业执照审查」前加签 food_reviewer; 原因: 请食品安全科先签"
    )
    assert (
        case_pages.describe(stored[-1], names)
        == "「营业执照审查」前加签签署: 不同意; 意见: 后厨不合格"
    )
    # the clock did not move; I decide now
    after = _case(client, me, case_id)
    assert after["deadline"] == before["deadline"] and after["clock"] == before["clock"]
    done = client.post(
        f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": LICENCE_OK}
    )
    assert done.status_code == 200, done.json
    _verified(client, services, people, case_id)


def test_a_signer_after_me_who_agrees_completes_the_task_with_my_form(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["market_reviewer2"]
    # the form is checked as completing checks it
    bad = _post(
        client,
        me,
        task_id,
        "add-signer",
        {"position": "after", "to": "market_reviewer2", "reason": "复核", "data": {}},
    )
    assert bad.status_code == 422, bad.json
    added = _post(
        client,
        me,
        task_id,
        "add-signer",
        {"position": "after", "to": "market_reviewer2", "reason": "复核", "data": LICENCE_OK},
    )
    assert added.status_code == 200 and added.json["owner_kind"] == "sign_after", added.json
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "signer_added" and event["data"] == {
        "position": "after",
        "to": "market_reviewer2",
        "reason": "复核",
        "form": LICENCE_OK,
    }
    signed = _post(client, signer, task_id, "sign", {"decision": "approve"})
    assert signed.status_code == 200, signed.json
    assert signed.json["id"] == case_id  # the case, moved on
    assert all(t["id"] != task_id for t in signed.json["tasks"])
    events = _events(client, people, case_id)
    sig = next(e for e in events if e["type"] == "added_signature")
    completed = next(e for e in events if e["type"] == "task_completed" and e["task"] == task_id)
    assert sig["seq"] == completed["seq"] + 1  # one transaction
    assert completed["actor"] == "market_reviewer"
    assert completed["data"]["form"] == LICENCE_OK
    assert completed["data"]["countersigned_by"] == "market_reviewer2"
    _verified(client, services, people, case_id)


def test_a_signer_after_me_who_disagrees_sends_it_back_uncompleted(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["market_reviewer2"]
    body = {"position": "after", "to": "market_reviewer2", "reason": "复核", "data": LICENCE_OK}
    assert _post(client, me, task_id, "add-signer", body).status_code == 200
    signed = _post(client, signer, task_id, "sign", {"decision": "reject", "opinion": "名称有误"})
    assert signed.status_code == 200, signed.json
    assert signed.json["status"] == "open" and signed.json["assignee"] == "market_reviewer"
    types = [e["type"] for e in _events(client, people, case_id)]
    assert types.count("task_completed") == 1  # the window's intake only
    _verified(client, services, people, case_id)


def test_removing_a_signer_takes_the_task_back(
    client: Any, services: Services, people: dict[str, Any]
) -> None:
    case_id, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["food_reviewer"]
    body = {"position": "after", "to": "food_reviewer", "reason": "复核", "data": LICENCE_OK}
    assert _post(client, me, task_id, "add-signer", body).status_code == 200
    assert _post(client, signer, task_id, "remove-signer", {"reason": "x"}).status_code == 403
    assert _post(client, me, task_id, "remove-signer", {"reason": ""}).status_code == 422
    removed = _post(client, me, task_id, "remove-signer", {"reason": "无需复核"})
    assert removed.status_code == 200, removed.json
    assert (removed.json["assignee"], removed.json["owner"], removed.json["owner_kind"]) == (
        "market_reviewer",
        None,
        None,
    )
    event = _events(client, people, case_id)[-1]
    assert event["type"] == "signer_removed" and event["data"] == {
        "position": "after",
        "signer": "food_reviewer",
        "reason": "无需复核",
    }
    assert "减签" in messages.inbox(services, signer.user)[0].title
    # the removed signer can no longer sign
    late = _post(client, signer, task_id, "sign", {"decision": "approve"})
    assert late.status_code == 409
    done = client.post(
        f"{API}/tasks/{task_id}/complete", headers=me.headers, json={"data": LICENCE_OK}
    )
    assert done.status_code == 200, done.json
    _verified(client, services, people, case_id)


def test_at_most_five_signers_per_task(client: Any, people: dict[str, Any]) -> None:
    _, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["food_reviewer"]
    body = {"position": "before", "to": "food_reviewer", "reason": "请签"}
    for _ in range(countersign.MAX_SIGNERS):
        assert _post(client, me, task_id, "add-signer", body).status_code == 200
        assert _post(client, signer, task_id, "sign", {"decision": "approve"}).status_code == 200
    sixth = _post(client, me, task_id, "add-signer", body)
    assert sixth.status_code == 409 and "最多加签 5 次" in sixth.json["error"]


def test_refusals(client: Any, people: dict[str, Any]) -> None:
    case_id, task_id = _review_task(client, people)
    me = people["market_reviewer"]
    cases = [
        (me, {"position": "sideways", "to": "food_reviewer", "reason": "x"}, 422),
        (me, {"position": "before", "to": "food_reviewer", "reason": ""}, 422),
        (me, {"position": "before", "to": "food_reviewer", "reason": "x" * 2001}, 422),
        (me, {"position": "before", "to": "market_reviewer", "reason": "x"}, 422),
        (me, {"position": "before", "to": "nobody", "reason": "x"}, 422),
        (me, {"position": "before", "to": "auditor", "reason": "x"}, 422),
        (me, {"position": "after", "to": "food_reviewer", "reason": "x", "data": "no"}, 422),
        # not the claimant
        (people["market_reviewer2"], {"position": "before", "to": "inspector", "reason": "x"}, 403),
        (people["auditor"], {"position": "before", "to": "inspector", "reason": "x"}, 403),
    ]
    for who, body, status in cases:
        refused = _post(client, who, task_id, "add-signer", body)
        assert refused.status_code == status, (body, refused.json)
    # nothing to sign or remove
    assert _post(client, me, task_id, "sign", {"decision": "approve"}).status_code == 409
    assert _post(client, me, task_id, "sign", {"decision": "maybe"}).status_code == 422
    # a delegated task cannot be given to a signer
    delegated = client.post(
        f"{API}/tasks/{task_id}/delegate",
        headers=me.headers,
        json={"to": "inspector", "reason": "x"},
    )
    assert delegated.status_code == 200
    body = {"position": "before", "to": "food_reviewer", "reason": "x"}
    assert _post(client, me, task_id, "add-signer", body).status_code == 409
    # the delegate cannot answer a 加签 as a delegation, nor the signer as a delegate
    answered = client.post(
        f"{API}/tasks/{task_id}/answer", headers=people["inspector"].headers, json={"opinion": "可"}
    )
    assert answered.status_code == 200
    assert _post(client, me, task_id, "add-signer", body).status_code == 200
    wrong = client.post(
        f"{API}/tasks/{task_id}/answer",
        headers=people["food_reviewer"].headers,
        json={"opinion": "可"},
    )
    assert wrong.status_code == 409
    assert _case(client, me, case_id)["status"] == "running"


def test_a_suspended_case_refuses(client: Any, people: dict[str, Any]) -> None:
    case_id, task_id = _review_task(client, people)
    me, signer = people["market_reviewer"], people["food_reviewer"]
    body = {"position": "before", "to": "food_reviewer", "reason": "请签"}
    assert _post(client, me, task_id, "add-signer", body).status_code == 200
    suspended = client.post(
        f"{API}/cases/{case_id}/suspend",
        headers=me.headers,
        json={"reason": "等待结论", "kind": "court"},
    )
    assert suspended.status_code == 200, suspended.json
    signed = _post(client, signer, task_id, "sign", {"decision": "approve"})
    assert signed.status_code == 409 and "挂起" in signed.json["error"], signed.json
    removed = _post(client, me, task_id, "remove-signer", {"reason": "x"})
    assert removed.status_code == 409 and "挂起" in removed.json["error"]


def _page_client(app: Any, services: Services, name: str) -> tuple[Any, str]:
    from tests.fixtures.pages import sign_in

    browser = app.test_client()
    return browser, sign_in(browser, services, name, "countersign-pw-1")


def test_the_task_page_adds_signs_and_removes(
    app: Any, client: Any, services: Services, people: dict[str, Any]
) -> None:
    _, task_id = _review_task(client, people)
    me, csrf = _page_client(app, services, "market_reviewer")
    html = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert 'id="add-signer"' in html and "王芳 (市场监管局)" in html and "提交并加签" in html
    # refusals come back on the task page, in Chinese, with a 4xx
    blank = me.post(
        f"/work/tasks/{task_id}/add-signer",
        data={"sign_to": "food_reviewer", "sign_reason": "", "csrf_token": csrf},
    )
    assert blank.status_code == 422 and "请填写加签原因" in blank.get_data(as_text=True)
    # an ordinary submit ignores the 后加签 fields of the task form
    after = {
        "countersign_position": "after",
        "countersign_to": "food_reviewer",
        "countersign_reason": "请复核",
        "licence_approved": "true",
        "licence_opinion": "同意",
        "csrf_token": csrf,
    }
    bad = me.post(f"/work/tasks/{task_id}/add-signer", data={**after, "licence_approved": ""})
    assert bad.status_code == 422
    added = me.post(f"/work/tasks/{task_id}/add-signer", data=after)
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    waiting = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert "任务正在等待 <strong>food_reviewer</strong> 后加签" in waiting
    again = me.post(
        f"/work/tasks/{task_id}/add-signer",
        data={"sign_to": "inspector", "sign_reason": "x", "csrf_token": csrf},
    )
    assert again.status_code == 409 and "任务正在等待 food_reviewer 加签" in again.get_data(
        as_text=True
    )

    them, their_csrf = _page_client(app, services, "food_reviewer")
    page = them.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert "签署并交回" in page and "提交办理" not in page and "准予登记" in page
    forced = them.post(f"/work/tasks/{task_id}", data={"csrf_token": their_csrf})
    assert forced.status_code == 403 and "加签的任务请签署后交回" in forced.get_data(as_text=True)
    bare = them.post(
        f"/work/tasks/{task_id}/sign", data={"decision": "reject", "csrf_token": their_csrf}
    )
    assert bare.status_code == 422 and "请填写意见" in bare.get_data(as_text=True)

    removed = me.post(
        f"/work/tasks/{task_id}/remove-signer", data={"reason": "无需复核", "csrf_token": csrf}
    )
    assert removed.status_code == 302
    back = me.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    assert 'id="add-signer"' in back and "提交办理" in back
    done = me.post(
        f"/work/tasks/{task_id}",
        data={
            "licence_approved": "true",
            "licence_opinion": "同意",
            "countersign_to": "food_reviewer",
            "countersign_reason": "",
            "csrf_token": csrf,
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/work/")
