"""The staff message centre and 催办 (issue 17 · G) on SQLite and PostgreSQL: messages written
in the step's transaction (none from a failed step), one per member of the task's groups but
the one who acted; the unread count; 取消认领; 预警/超期/督办 from the worker; 催办 recorded as
an event the replay accepts, told to the holders, at most once an hour per task."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.bundles.source import from_path, from_upload
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.services import Services, accounts, audit, cases, messages, publishing, queries
from engine.services.worker import run_due
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock
from tests.fixtures.limits import BUNDLE
from tests.integration.test_deadlines import MONDAY, at


@pytest.fixture
def svc(services: Services) -> Services:
    clocked = Services(services.engine, services.forms.root, clock=FakeClock(MONDAY))
    publishing.deploy(clocked, from_path(PROCESSES / "restaurant"), "test")
    return clocked


def _task(view: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in view["tasks"] if t["element"] == element))


def _kinds(svc: Services, user: Any) -> list[tuple[str, str | None]]:
    return [(m.kind.value, m.task_id) for m in messages.inbox(svc, user)]


def test_a_new_task_tells_its_groups_in_the_steps_transaction(
    svc: Services, users: dict[str, Any]
) -> None:
    front, other = users["front_desk"].user, users["other_clerk"].user
    market, food = users["market_reviewer"].user, users["food_reviewer"].user
    second, _ = accounts.create_user(svc, "market_two", "clerk", ["market_regulation", "x"])

    case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
    intake = _task(case, "intake")
    # 收件 opened 一窗受理 for front_desk: its other member is told, not the one who acted
    assert _kinds(svc, other) == [("task", intake)]
    assert messages.unread_count(svc, front) == 0

    # a failed step (a refused submission) leaves no message
    with pytest.raises(Invalid):
        cases.complete(svc, front, intake, {"intake_decision": "nonsense"})
    assert messages.unread_count(svc, market) == 0

    case = cases.complete(svc, front, intake, r.ACCEPT)
    review = _task(case, "review_licence")
    assert _kinds(svc, market) == [("task", review)]
    assert _kinds(svc, second) == [("task", review)]  # each member of the group, once
    assert _kinds(svc, food) == [("task", _task(case, "review_food"))]
    [message] = messages.inbox(svc, market)
    assert message.title == "新任务: 营业执照审查" and f"办件 {case['id']}" in message.body
    assert message.read_at is None and messages.unread_count(svc, market) == 1

    # 取消认领: the others of the group are told the task is back in their queue
    cases.claim(svc, second, review)
    cases.unclaim(svc, second, review)
    assert _kinds(svc, market)[0] == ("returned", review)
    assert messages.unread_count(svc, second) == 1  # not told of their own act

    # mark read: one, then all; someone else's message cannot be touched
    opened, task_open = messages.open_message(svc, market, message.id)
    assert opened.task_id == review and task_open
    assert messages.unread_count(svc, market) == 1
    with pytest.raises(NotFound):
        messages.mark_read(svc, food, message.id)
    assert messages.mark_read(svc, market) == 1
    assert messages.unread_count(svc, market) == 0
    assert all(m.read_at is not None for m in messages.inbox(svc, market))


def test_urge_is_recorded_told_and_limited(svc: Services, users: dict[str, Any]) -> None:
    front, market = users["front_desk"].user, users["market_reviewer"].user
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
    case = cases.complete(svc, front, _task(case, "intake"), r.ACCEPT)
    review = _task(case, "review_licence")
    messages.mark_read(svc, market)

    with pytest.raises(Forbidden, match="督办组"):
        messages.urge(svc, front, review, "快点")
    with pytest.raises(Invalid, match="500"):
        messages.urge(svc, supervisor, review, "催" * 501)
    done = messages.urge(svc, supervisor, review, "申请人今天第三次来电询问")
    assert done["to"] == ["group:market_regulation"]
    [urged] = messages.inbox(svc, market, unread_only=True)
    assert urged.kind == messages.MessageKind.URGE and urged.task_id == review
    assert "申请人今天第三次来电询问" in urged.body and "supervisor" in urged.body

    # once an hour per task, refused in Chinese with the time to wait
    svc.clock.advance(minutes=30)  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="一小时内只能催办一次"):
        messages.urge(svc, users["admin"].user, review, "")
    svc.clock.advance(minutes=31)  # type: ignore[attr-defined]
    cases.claim(svc, market, review)  # now held by one person: only they are told
    messages.urge(svc, users["admin"].user, review, None)
    assert [m.kind.value for m in messages.inbox(svc, market, unread_only=True)] == [
        "urge",
        "urge",
    ]

    events = queries.events(svc, users["auditor"].user, case["id"])
    urges = [e for e in events if e["type"] == "task_urged"]
    assert [e["actor"] for e in urges] == ["supervisor", "admin"]
    assert urges[0]["data"] == {
        "message": "申请人今天第三次来电询问",
        "to": ["group:market_regulation"],
    }
    assert urges[1]["data"]["to"] == ["market_reviewer"]
    assert audit.replay(svc, users["auditor"].user, case["id"])["verified"]

    # a finished task cannot be urged
    cases.complete(svc, market, review, r.LICENCE_OK)
    svc.clock.advance(hours=2)  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="已结束"):
        messages.urge(svc, supervisor, review, "")


def test_warning_overdue_and_supervision_are_told(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("limited.zip", BUNDLE), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    desk, market = users["front_desk"].user, users["market_reviewer"].user
    case = cases.start_case(svc, desk, "limited", {"applicant": "张三"})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    review = case["tasks"][0]["id"]
    cases.claim(svc, market, review)
    messages.mark_read(svc, market)

    clock.now = at(8)  # the review is past its own limit: 超期 to its holder, 督办 to supervisors
    run_due(svc)
    assert ("overdue", review) in _kinds(svc, market)
    told = messages.inbox(svc, supervisor)
    # 督办, and (holding the 督办 task of the case now) its 预警
    assert [m.kind.value for m in told] == ["warning", "supervision"]
    supervision = told[1]
    assert "督办" in supervision.title and "审查 已超过办理时限" in supervision.body
    listed = queries.worklist(svc, supervisor)["tasks"]
    assert supervision.task_id == listed[0]["id"]
    # 10-08 is also the case's warning day (two working days before 10-10): 预警 to the holder
    assert ("warning", review) in _kinds(svc, market)
    assert messages.unread_count(svc, users["food_reviewer"].user) == 0


def test_the_cost_of_a_step_with_a_three_member_group(svc: Services, users: dict[str, Any]) -> None:
    """Printed for the lead: a complete() that opens tasks for three-member groups."""
    front = users["front_desk"].user
    for n in range(2):
        accounts.create_user(svc, f"m{n}", "clerk", ["market_regulation", "food_safety"])
    timings = []
    for _ in range(5):
        case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
        started = time.perf_counter()
        cases.complete(svc, front, _task(case, "intake"), r.ACCEPT)
        timings.append(time.perf_counter() - started)
    assert messages.unread_count(svc, users["market_reviewer"].user) == 5
    assert len(messages.inbox(svc, accounts_user(svc, "m0"))) == 10
    print(f"complete() opening two tasks for 3-member groups: {min(timings) * 1000:.1f} ms")


def accounts_user(svc: Services, name: str) -> Any:
    with svc.uow() as uow:
        return uow.users.by_name(name)


def test_a_step_that_comes_back_is_told_as_returned(svc: Services, users: dict[str, Any]) -> None:
    front, other = users["front_desk"].user, users["other_clerk"].user
    case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
    case = cases.complete(svc, front, _task(case, "intake"), r.CORRECT)
    assert _kinds(svc, other)[0] == ("task", _task(case, "correction"))
    case = cases.complete(svc, front, _task(case, "correction"), r.CORRECTED)
    # 补正 done: 一窗受理 comes back, told as 退回重办
    [back, *_] = messages.inbox(svc, other)
    assert (back.kind.value, back.task_id) == ("returned", _task(case, "intake"))
    assert back.title == "退回重办: 一窗受理" and back.kind_label == "退回"


def test_urge_mails_a_group_with_an_address(svc: Services, users: dict[str, Any]) -> None:
    from engine.notifications import SmtpSender

    front = users["front_desk"].user
    case = cases.start_case(svc, front, "restaurant", r.APPLICATION)
    case = cases.complete(svc, front, _task(case, "intake"), r.ACCEPT)
    svc.sender = SmtpSender("smtp://127.0.0.1:1", {"market_regulation": ["market@example.cn"]})
    messages.urge(svc, users["admin"].user, _task(case, "review_licence"), "请今天办理")
    messages.urge(svc, users["admin"].user, _task(case, "review_food"), "")  # no address
    with svc.uow() as uow:
        sent = [n for n in uow.notifications.for_case(case["id"]) if n["kind"] == "urge"]
    assert [n["recipient"] for n in sent] == ["group:market_regulation"]
    assert "请今天办理" in sent[0]["body"] and sent[0]["status"] == "pending"


def test_a_bad_rating_tells_the_supervisors_of_their_rectification(
    services: Services, users: dict[str, Any], client: Any
) -> None:
    from tests.integration.test_ratings import concluded

    supervisor, _ = accounts.create_user(services, "chief", "clerk", ["supervisors"])
    case = concluded(services, users, client)
    rated = client.post(
        f"/api/v1/cases/{case['id']}/rating",
        headers=users["front_desk"].headers,
        json={"level": 2, "comment": "等了很久"},
    )
    assert rated.status_code == 201
    [told] = messages.inbox(services, supervisor)
    assert told.kind == messages.MessageKind.TASK and told.title == "新任务: 差评整改: 不满意"
    assert told.body == f"办件 {case['id']} 有新的待办任务「差评整改: 不满意」。"
