"""特别程序 (Administrative Licensing Law Art. 45) on a fake clock across 国庆 2026, on both
databases: a special-procedure task pauses the clock, the applicant is notified and a 特别程序告知书
can be printed; the pause is recorded with its kind and length (working days across the holiday
and the makeup Saturday 10-10); a 挂起 for 专家评审 with its expected length does the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.services import (
    Services,
    accounts,
    audit,
    cases,
    publishing,
    queries,
    suspension,
)
from engine.services import progress as case_progress
from engine.services.pauses import case_pauses
from tests.conftest import FORMS
from tests.e2e.test_openapi import component, problems
from tests.fixtures import law_special, limits
from tests.fixtures.clock import FakeClock
from tests.fixtures.pages import csrf_token, sign_in

# 2026-09-28 09:00 in Beijing: a Monday before the National Day holiday (10-01..10-07, 10-10 a
# makeup working Saturday).
MONDAY = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
APPLICANT = {"applicant_name": "李四", "contact_phone": "13800000001"}


def at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour - 8, 0, tzinfo=UTC)


def _svc(services: Services, bundle: bytes, name: str) -> tuple[Services, FakeClock]:
    clock = FakeClock(MONDAY)
    svc = Services(services.engine, FORMS, clock=clock)
    publishing.deploy(svc, from_upload(name, bundle), "test")
    accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    return svc, clock


def _task(case: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in case["tasks"] if t["element"] == element))


def _sent(svc: Services, case_id: int, kind: str) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return [n for n in uow.notifications.for_case(case_id) if n["kind"] == kind]


def _check_events(svc: Services, auditor: Any, case_id: int) -> list[dict[str, Any]]:
    events = queries.events(svc, auditor, case_id)
    for event in events:
        assert problems(event, component("Event")) == [], event
    return events


def test_a_special_procedure_pauses_the_clock_and_the_applicant_is_told(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    svc, clock = _svc(services, law_special.BUNDLE, "special.zip")
    desk, market = users["front_desk"].user, users["market_reviewer"].user
    food, auditor = users["food_reviewer"].user, users["auditor"].user

    case = cases.start_case(svc, desk, "special", APPLICANT)
    case = cases.complete(svc, desk, _task(case, "accept"), {})
    assert (case["clock"], case["deadline"]) == ("running", "2026-10-10")
    clock.now = at(29, 9)
    case = cases.complete(svc, market, _task(case, "review"), {})
    # 专家评审 opens: the clock stops, frozen at the four working days left
    assert case["clock"] == "paused" and case["remaining_workdays"] == 4

    events = _check_events(svc, auditor, case["id"])
    paused = next(e for e in events if e["type"] == "clock_paused")
    assert paused["data"] == {
        "waiting_on": ["expert"],
        "by": "task",
        # 09-29 + 5 working days: 09-30, 10-08, 10-09, 10-10 (makeup Saturday), 10-12
        "procedure": {
            "kind": "expert_review",
            "label": "专家评审",
            "expected_workdays": 5,
            "expected_until": "2026-10-12",
            "element": "expert",
        },
    }
    told = _sent(svc, case["id"], "special_procedure")
    assert [n["recipient"] for n in told] == ["tel:13800000001"]
    assert "进入 专家评审 程序, 预计 5 个工作日" in told[0]["body"]
    assert "不计入审批期限 (行政许可法第四十五条)" in told[0]["body"]

    # the public progress page names the procedure and its expected length
    progress = case_progress.progress_view(svc, case["id"])
    assert progress["procedure"] == {
        "label": "专家评审",
        "since": "2026-09-29",
        "expected_workdays": 5,
        "expected_until": "2026-10-12",
    }
    assert problems(progress, component("CaseProgress")) == []

    # the experts answer on 10-13: waited 09-30, 10-08, 10-09, 10-10, 10-12, 10-13
    clock.now = at(13)
    case = cases.complete(svc, food, _task(case, "expert"), {})
    assert (case["clock"], case["deadline"]) == ("running", "2026-10-19")
    assert case_progress.progress_view(svc, case["id"])["procedure"] is None

    events = _check_events(svc, auditor, case["id"])
    resumed = next(e for e in events if e["type"] == "clock_resumed")
    assert resumed["data"] == {
        "waited_workdays": 6,
        "deadline": "2026-10-19",
        "procedure": "expert_review",
    }
    with svc.uow() as uow:
        version, _ = svc.runtimes.get(uow, uow.cases.existing(case["id"]).bundle_version_id)
        stored = uow.cases.events(case["id"])
    pauses = case_pauses(stored, version)
    assert pauses == [
        {
            "seq": paused["seq"],
            "kind": "expert_review",
            "label": "专家评审",
            "by": "task",
            "since": "2026-09-29",
            "until": "2026-10-13",
            "workdays": 6,
            "expected_workdays": 5,
            "expected_until": "2026-10-12",
            "art45": True,
        }
    ]
    # an event stored before its data named the procedure reads from the bundle
    old = [e for e in stored if e.type == "clock_paused"][0]
    old.data = {"waiting_on": ["expert"]}
    assert case_pauses([old], version)[0]["kind"] == "expert_review"
    assert case_pauses([old])[0]["kind"] == "supplement"

    # GET /cases/ID carries the record; the case page shows it with the notice's link
    app = create_app({"SERVICES": svc, "TESTING": True})
    api = app.test_client()
    got = api.get(f"/api/v1/cases/{case['id']}", headers=users["auditor"].headers).get_json()
    assert got["pauses"] == pauses
    assert problems(got, component("Case")) == []

    page = app.test_client()
    sign_in(page, svc, "market_reviewer", "correct horse 1")
    html = page.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "计时暂停记录" in html and "专家评审" in html
    link = f"/cases/{case['id']}/special-procedure-notice/{paused['seq']}"
    assert link in html
    notice = page.get(link)
    assert notice.status_code == 200
    text = notice.get_data(as_text=True)
    for words in (
        "特别程序告知书",
        f"办件编号 {case['id']}",
        "李四",
        "特别程序事项",
        "专家评审",
        "2026-09-29",
        "5 个工作日",
        "《中华人民共和国行政许可法》第四十五条",
        "不计算在行政许可期限内",
        "某市市场监督管理局",
    ):
        assert words in text, words
    started = next(e for e in events if e["type"] == "clock_started")
    assert page.get(
        f"/cases/{case['id']}/special-procedure-notice/{started['seq']}"
    ).status_code == (404)
    assert page.get(f"/cases/{case['id']}/special-procedure-notice/999").status_code == 404

    case = cases.complete(svc, market, _task(case, "decide"), {})
    assert case["status"] == "completed"
    assert audit.replay(svc, auditor, case["id"])["verified"]


def test_a_suspension_for_expert_review_tells_the_expected_length(
    services: Services, users: dict[str, Any]
) -> None:
    svc, clock = _svc(services, limits.BUNDLE, "limited.zip")
    desk, market, auditor = (
        users["front_desk"].user,
        users["market_reviewer"].user,
        users["auditor"].user,
    )
    started = cases.start_case(svc, desk, "limited", APPLICANT)
    case = cases.complete(svc, desk, _task(started, "accept"), {})
    clock.now = at(29, 9)
    for wrong in (0, 3651, "三天", True, 2.5):
        with pytest.raises(Invalid) as refused:
            suspension.suspend(svc, market, case["id"], "委托专家评审", "expert_review", wrong)
        assert refused.value.errors[0]["field"] == "expected_workdays"
    done = suspension.suspend(svc, market, case["id"], "委托专家评审", "expert_review", "10")
    assert done["clock"] == "paused"

    events = _check_events(svc, auditor, case["id"])
    suspended = next(e for e in events if e["type"] == "case_suspended")
    assert suspended["data"]["expected_workdays"] == 10
    paused = next(e for e in events if e["type"] == "clock_paused")
    # 09-29 + 10 working days, 国庆 between and 10-10 worked: 10-19
    assert paused["data"]["procedure"] == {
        "kind": "expert_review",
        "label": "专家评审",
        "expected_workdays": 10,
        "expected_until": "2026-10-19",
    }
    told = _sent(svc, case["id"], "special_procedure")
    assert len(told) == 1 and "预计 10 个工作日" in told[0]["body"]
    assert case_progress.progress_view(svc, case["id"])["procedure"]["expected_workdays"] == 10
    # the public progress page, with the receipt's code, names it
    from web import create_app

    public = create_app({"SERVICES": svc, "TESTING": True}).test_client()
    token = csrf_token(public.get("/progress").get_data(as_text=True))
    code = started["access_code"]
    html = public.post(
        "/progress", data={"number": str(case["id"]), "code": code, "csrf_token": token}
    ).get_data(as_text=True)
    assert "特别程序" in html and "专家评审, 自 2026-09-29 起, 预计 10 个工作日" in html

    clock.now = at(12)  # waited 09-30, 10-08, 10-09, 10-10, 10-12
    suspension.resume(svc, market, case["id"], "评审结论已收到")
    with svc.uow() as uow:
        stored = uow.cases.events(case["id"])
    found = case_pauses(stored)
    assert [(p["kind"], p["by"], p["since"], p["until"], p["workdays"]) for p in found] == [
        ("expert_review", "suspended", "2026-09-29", "2026-10-12", 5)
    ]
    assert found[0]["expected_workdays"] == 10 and found[0]["art45"]
    _check_events(svc, auditor, case["id"])
    assert audit.replay(svc, auditor, case["id"])["verified"]

    # a 挂起 that is no special procedure tells the applicant nothing
    other = cases.start_case(svc, desk, "limited", APPLICANT)
    other = cases.complete(svc, desk, _task(other, "accept"), {})
    suspension.suspend(svc, market, other["id"], "等待法院裁定", "court")
    assert _sent(svc, other["id"], "special_procedure") == []
