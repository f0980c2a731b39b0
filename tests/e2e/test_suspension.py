"""挂起 / 恢复 through the API on both databases: who may, what a suspended case refuses, the
statutory clock by kind (and by the bundle's list), with a clock already paused, and replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.services import Services, accounts, publishing
from tests.conftest import FORMS
from tests.e2e.test_openapi import assert_matches, component, problems
from tests.fixtures import limits
from tests.fixtures.clock import FakeClock

# 2026-09-28 09:00 in Beijing: a Monday before the National Day holiday (10-01..10-07, 10-10 a
# makeup working Saturday). The "limited" bundle: 受理 (front_desk) → 审查 (market_regulation,
# 2 working days) → 专家评审 (food_safety, `clock: pause`) → 发证; 5 working days promised.
MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)


def at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


def bundle(stops: list[str] | None = None) -> bytes:
    meta = json.loads(json.dumps(limits.METADATA))
    if stops is not None:
        meta["time_limits"]["suspension_stops_clock"] = stops
    return limits.bpmn.zipped({"limited.bpmn": limits.PROCESS, "bundle.json": json.dumps(meta)})


class Api:
    def __init__(self, services: Services, users: dict[str, Any], stops: Any = None) -> None:
        from web import create_app

        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, FORMS, clock=self.clock)
        publishing.deploy(self.svc, from_upload("limited.zip", bundle(stops)), "test")
        _, token = accounts.create_user(self.svc, "supervisor", "clerk", ["supervisors"])
        self.headers = {name: u.headers for name, u in users.items()}
        self.headers["supervisor"] = {"Authorization": f"Bearer {token}"}
        self.client = create_app({"SERVICES": self.svc, "TESTING": True}).test_client()

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers[who], json=body or {})

    def get(self, path: str, who: str = "auditor") -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers[who])

    def accepted_case(self) -> dict[str, Any]:
        """A case past 受理: the clock runs, 审查 is open (market_regulation)."""
        case = self.post("front_desk", "/cases", {"bundle": "limited", "data": {}}).get_json()
        task = case["tasks"][0]["id"]
        done = self.post("front_desk", f"/tasks/{task}/complete", {"data": {}}).get_json()
        assert done["clock"] == "running" and done["deadline"] == "2026-10-10"
        return dict(done)

    def suspend(self, who: str, case_id: int, kind: str, reason: str = "等待结论") -> Any:
        return self.post(who, f"/cases/{case_id}/suspend", {"reason": reason, "kind": kind})

    def resume(self, who: str, case_id: int, note: str = "") -> Any:
        return self.post(who, f"/cases/{case_id}/resume", {"note": note})

    def events(self, case_id: int) -> list[dict[str, Any]]:
        return list(self.get(f"/cases/{case_id}/events").get_json()["events"])


def test_who_may_suspend_and_what_a_suspended_case_refuses(
    services: Services, users: dict[str, Any]
) -> None:
    api = Api(services, users)
    case = api.accepted_case()
    review = case["tasks"][0]
    # not holding it: the window that received it (its task is done), another department
    for who in ("front_desk", "inspector"):
        refused = api.suspend(who, case["id"], "court")
        assert assert_matches(refused, "/cases/{case_id}/suspend", "post") and (
            refused.status_code == 403
        )
    for body, field in (
        ({"kind": "court"}, "reason"),
        ({"reason": "  ", "kind": "court"}, "reason"),
        ({"reason": "x" * 2001, "kind": "court"}, "reason"),
        ({"reason": "等待", "kind": "holiday"}, "kind"),
        ({"reason": "等待"}, "kind"),
    ):
        bad = api.post("market_reviewer", f"/cases/{case['id']}/suspend", body)
        assert bad.status_code == 422, body
        assert [e["field"] for e in bad.get_json()["errors"]] == [field]

    reason = "申请人与他人存在场地产权纠纷, 等待法院裁定"
    done = api.suspend("market_reviewer", case["id"], "court", reason)
    suspended = assert_matches(done, "/cases/{case_id}/suspend", "post")
    assert suspended["status"] == "suspended"
    assert suspended["suspension"]["reason"] == reason
    assert suspended["suspension"]["kind_label"] == "等待法院裁定"
    assert suspended["suspension"]["by"] == "market_reviewer"
    # a court ruling is not one of Art. 45's procedures: the clock runs on
    assert suspended["suspension"]["clock"] == "running" and suspended["clock"] == "running"
    assert suspended["tasks"][0]["id"] == review["id"]  # still there, not worked

    for path in ("claim", "unclaim", "complete"):
        refused = api.post("market_reviewer", f"/tasks/{review['id']}/{path}", {"data": {}})
        assert refused.status_code == 409, path
        message = refused.get_json()["error"]
        assert (
            message.startswith("办件已挂起") and reason in message and "恢复后才能办理" in message
        )
    urged = api.post("supervisor", f"/tasks/{review['id']}/urge", {"message": "请加快"})
    assert urged.status_code == 409 and "办件已挂起" in urged.get_json()["error"]
    again = api.suspend("supervisor", case["id"], "other")
    assert again.status_code == 409 and "已挂起" in again.get_json()["error"]
    # the worklist keeps the task, marked by its case's status
    listed = api.get("/tasks", "market_reviewer").get_json()["tasks"]
    assert [(t["id"], t["case"]["status"]) for t in listed] == [(review["id"], "suspended")]

    # resuming: the holder or a supervisor; not another department
    assert api.resume("inspector", case["id"]).status_code == 403
    api.clock.advance(days=1)
    back = api.resume("supervisor", case["id"], "法院已裁定")
    resumed = assert_matches(back, "/cases/{case_id}/resume", "post")
    assert resumed["status"] == "running" and resumed["suspension"] is None
    assert api.resume("supervisor", case["id"]).status_code == 409
    claimed = api.post("market_reviewer", f"/tasks/{review['id']}/claim")
    assert claimed.status_code == 200

    events = api.events(case["id"])
    for event in events:
        assert problems(event, component("Event")) == [], event
    kinds = [e["type"] for e in events]
    assert "clock_paused" not in kinds and "clock_resumed" not in kinds
    up = next(e for e in events if e["type"] == "case_suspended")
    down = next(e for e in events if e["type"] == "case_unsuspended")
    assert up["data"] == {
        "reason": reason,
        "kind": "court",
        "kind_label": "等待法院裁定",
        "clock": "running",
        "paused_clock": False,
    }
    assert down["actor"] == "supervisor" and down["data"]["note"] == "法院已裁定"
    assert down["data"]["suspended_workdays"] == 1

    verdict = api.get(f"/cases/{case['id']}/replay").get_json()
    assert verdict["verified"], verdict
    step = api.get(f"/cases/{case['id']}/steps/{up['seq']}").get_json()
    assert step["status"] == "suspended" and step["matches_record"]
    step = api.get(f"/cases/{case['id']}/steps/{down['seq']}").get_json()
    assert step["status"] == "running" and step["matches_record"]


def test_an_ended_case_cannot_be_suspended_and_a_suspended_one_can_be_withdrawn(
    services: Services, users: dict[str, Any]
) -> None:
    api = Api(services, users)
    case = api.accepted_case()
    assert api.suspend("market_reviewer", case["id"], "hearing").status_code == 200
    # the applicant withdraws while the case waits: 撤回 stays possible
    withdrawn = api.post("market_reviewer", f"/cases/{case['id']}/cancel", {"reason": "申请人撤回"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "cancelled"
    assert withdrawn.get_json()["clock"] == "stopped"
    refused = api.suspend("admin", case["id"], "court")
    assert refused.status_code == 409 and "已撤销" in refused.get_json()["error"]
    assert api.resume("admin", case["id"]).status_code == 409
    assert api.get(f"/cases/{case['id']}/replay").get_json()["verified"]


def test_art45_kinds_stop_the_clock_and_the_deadline_moves(
    services: Services, users: dict[str, Any]
) -> None:
    api = Api(services, users)
    case = api.accepted_case()  # Monday 09-28, deadline 10-10
    api.clock.now = at(29, 9)
    done = api.suspend("admin", case["id"], "expert_review", "委托专家评审场地安全").get_json()
    assert done["suspension"]["clock"] == "stopped" and done["clock"] == "paused"
    assert done["remaining_workdays"] == 4
    api.clock.now = at(9)  # the experts answer ten days later (the holiday between)
    assert api.get(f"/cases/{case['id']}").get_json()["remaining_workdays"] == 4  # frozen
    back = api.resume("market_reviewer", case["id"], "专家评审意见已收到").get_json()
    # waited 09-30, 10-08 and 10-09: three working days, the deadline moves from 10-10 to 10-14
    assert (back["clock"], back["deadline"], back["remaining_workdays"]) == (
        "running",
        "2026-10-14",
        4,
    )
    events = api.events(case["id"])
    kinds = [e["type"] for e in events]
    at_suspend = kinds.index("case_suspended")
    assert kinds[at_suspend : at_suspend + 2] == ["case_suspended", "clock_paused"]
    paused = events[at_suspend + 1]
    assert paused["data"] == {
        "by": "suspended",
        "kind": "expert_review",
        # 特别程序 (Art. 45): the applicant is told which, and how long (not given here)
        "procedure": {
            "kind": "expert_review",
            "label": "专家评审",
            "expected_workdays": None,
            "expected_until": None,
        },
    }
    at_resume = kinds.index("case_unsuspended")
    assert kinds[at_resume : at_resume + 2] == ["case_unsuspended", "clock_resumed"]
    resumed = events[at_resume + 1]
    assert resumed["data"] == {
        "by": "unsuspended",
        "waited_workdays": 3,
        "deadline": "2026-10-14",
        "procedure": "expert_review",
    }
    assert events[at_resume]["data"]["suspended_workdays"] == 3
    for event in events:
        assert problems(event, component("Event")) == [], event
    assert api.get(f"/cases/{case['id']}/replay").get_json()["verified"]


def test_the_bundle_says_which_kinds_stop_the_clock(
    services: Services, users: dict[str, Any]
) -> None:
    api = Api(services, users, stops=["court"])
    first, second = api.accepted_case(), api.accepted_case()
    court = api.suspend("market_reviewer", first["id"], "court").get_json()
    assert court["suspension"]["clock"] == "stopped" and court["clock"] == "paused"
    expert = api.suspend("market_reviewer", second["id"], "expert_review").get_json()
    assert expert["suspension"]["clock"] == "running" and expert["clock"] == "running"

    refused = dict(limits.METADATA, time_limits={"suspension_stops_clock": ["holiday"]})
    upload = limits.bpmn.zipped(
        {"limited.bpmn": limits.PROCESS, "bundle.json": json.dumps(refused)}
    )
    with pytest.raises(Invalid) as err:
        publishing.deploy(api.svc, from_upload("bad.zip", upload), "test")
    assert "suspension_stops_clock" in json.dumps(err.value.errors, ensure_ascii=False)


def test_a_clock_already_paused_stays_paused_through_the_suspension(
    services: Services, users: dict[str, Any]
) -> None:
    """专家评审 as a task (`clock: pause`, as 补正 pauses it) is open when the case is suspended:
    the suspension does not pause it again, resuming does not restart it; completing the task
    does, counting the whole wait."""
    api = Api(services, users)
    case = api.accepted_case()
    review = case["tasks"][0]["id"]
    api.clock.now = at(29, 9)
    done = api.post("market_reviewer", f"/tasks/{review}/complete", {"data": {}}).get_json()
    assert done["clock"] == "paused"
    api.clock.now = at(30, 9)
    held = api.suspend("food_reviewer", case["id"], "testing", "样品送检").get_json()
    assert held["suspension"]["clock"] == "stopped" and held["clock"] == "paused"
    api.clock.now = at(8)
    back = api.resume("food_reviewer", case["id"]).get_json()
    assert back["clock"] == "paused"  # the expert review still waits
    expert = back["tasks"][0]["id"]
    api.clock.now = at(9)
    done = api.post("food_reviewer", f"/tasks/{expert}/complete", {"data": {}}).get_json()
    # paused 09-29 → 10-09: 09-30, 10-08, 10-09; the deadline moves from 10-10 to 10-14
    assert (done["clock"], done["deadline"]) == ("running", "2026-10-14")
    kinds = [e["type"] for e in api.events(case["id"])]
    assert kinds.count("clock_paused") == 1 and kinds.count("clock_resumed") == 1
    assert kinds.index("case_unsuspended") < kinds.index("clock_resumed")
    events = api.events(case["id"])
    assert next(e for e in events if e["type"] == "case_suspended")["data"]["paused_clock"] is False
    assert api.get(f"/cases/{case['id']}/replay").get_json()["verified"]


def test_the_applicant_sees_the_kind_not_the_reason(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.services import progress

    api = Api(services, users)
    case = api.accepted_case()
    api.suspend("market_reviewer", case["id"], "hearing", "内部: 邻居投诉较多, 需听证")
    found = progress.progress_view(api.svc, case["id"])
    assert found["status"] == "suspended"
    assert found["suspension"]["kind_label"] == "听证" and "reason" not in found["suspension"]
    assert "挂起 (听证)" in [s["step"] for s in found["timeline"]]
    assert problems(found, component("CaseProgress")) == []
    assert "邻居" not in json.dumps(found, ensure_ascii=False)


def test_a_suspended_case_still_counts_as_open_for_the_duplicate_check(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from engine.services import cases, duplicates, suspension
    from tests.fixtures import restaurant as r

    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", r.APPLICATION)
    suspension.suspend(services, desk, case["id"], "申请人补办产权证明, 等待法院裁定", "court")
    found = duplicates.open_cases(services, desk, "restaurant", r.APPLICATION)
    assert [c["id"] for c in found] == [case["id"]]


def test_a_suspension_racing_a_completion_one_order_wins(
    services: Services, users: dict[str, Any], db_url: str
) -> None:
    """Both lock the case row: either the task was completed first (then the case, running on,
    is suspended) or the case was suspended first (then the completion is refused, 409)."""
    from engine.errors import Conflict
    from engine.persistence.db import make_engine
    from engine.services import cases, suspension
    from engine.services.audit import replay
    from tests.fixtures.concurrency import simultaneously

    api = Api(services, users)
    reviewer, admin = users["market_reviewer"].user, users["admin"].user
    for _ in range(3):
        case = api.accepted_case()
        review = case["tasks"][0]["id"]
        engines = [make_engine(db_url), make_engine(db_url)]
        try:
            one, two = (Services(e, FORMS, clock=api.clock) for e in engines)
            done, held = simultaneously(
                lambda one=one, task=review: cases.complete(one, reviewer, task, {}),
                lambda two=two, at=case["id"]: suspension.suspend(two, admin, at, "等待", "court"),
            )
        finally:
            for e in engines:
                e.dispose()
        assert isinstance(held, dict) and held["status"] == "suspended", held
        kinds = [e["type"] for e in api.events(case["id"])]
        if isinstance(done, Conflict):
            assert "办件已挂起" in done.message and "task_completed" not in kinds[2:]
        else:
            assert isinstance(done, dict), done
            assert kinds.index("task_completed", 2) < kinds.index("case_suspended")
        assert replay(api.svc, None, case["id"])["verified"]
