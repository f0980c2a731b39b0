"""送达 within 10 working days (Administrative Licensing Law Art. 44), on a fake clock across
春节 2026, and the 预警 of a task's own limit.

春节 2026 on the seeded calendar: 02-15 (Sun) to 02-23 (Mon) off, with the makeup working
Saturdays 02-14 and 02-28. A decision on Monday 02-09 gives a 送达 deadline of Saturday 02-28
(02-10..02-13, 02-14, 02-24..02-27, 02-28: ten working days); 预警 (margin 2) on Thursday 02-26;
overdue, 督办, on Monday 03-02.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.bundles.source import from_upload
from engine.services import (
    Services,
    accounts,
    cases,
    messages,
    progress,
    publishing,
    queries,
)
from engine.services.worker import run_due
from tests.e2e.test_openapi import component, problems
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock

BEIJING = ZoneInfo("Asia/Shanghai")


def bundle(
    key: str,
    issue_limit: str | None = None,
    time_limits: dict[str, Any] | None = None,
    items: bool = True,
) -> bytes:
    """受理 → 审查 (the decision) → 统一发证 (`certificate_action: issue`)."""
    own = f'<camunda:property name="time_limit" value="{issue_limit}" />' if issue_limit else ""
    process = bpmn.document(
        f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="accept" />
  <bpmn:userTask id="accept" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review" />
  <bpmn:userTask id="review" name="审查决定" camunda:candidateGroups="market_regulation" />
  <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="issue" />
  <bpmn:userTask id="issue" name="统一发证" camunda:candidateGroups="issuance">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="certificate_action" value="issue" />{own}
    </camunda:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f4" sourceRef="issue" targetRef="e" /><bpmn:endEvent id="e" name="办结" />""",
        process_id=key,
        name="送达事项",
    )
    limits = {"starts_at": "accept", "escalation_group": "supervisors", **(time_limits or {})}
    metadata: dict[str, Any] = {"key": key, "name": "送达事项", "time_limits": limits}
    if items:
        metadata["items"] = [
            {"code": "a", "name": "甲证", "statutory_workdays": 20, "promised_workdays": 20}
        ]
    return bpmn.zipped({f"{key}.bpmn": process, "bundle.json": json.dumps(metadata)})


def local(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Beijing local time of 2026 as the UTC instant the fake clock holds."""
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def decided(
    svc: Services, users: dict[str, Any], clock: FakeClock, key: str, accepted: datetime
) -> tuple[int, dict[str, Any]]:
    """A case accepted at `accepted` and decided on Monday 02-09: its issuance task."""
    clock.now = accepted
    desk = users["front_desk"].user
    case = cases.start_case(svc, desk, key, {"applicant": "张三"})
    case = cases.complete(svc, desk, case["tasks"][0]["id"], {})
    clock.now = local(2, 9)
    case = cases.complete(svc, users["market_reviewer"].user, case["tasks"][0]["id"], {})
    (issue,) = case["tasks"]
    assert issue["element"] == "issue"
    return case["id"], issue


def pages_of(svc: Services, case_id: int, task_id: str) -> list[str]:
    """The worklist, the task page and the case page of the issuer, and the public progress
    page, as text without tags."""
    import re
    import time

    from tests.fixtures.pages import sign_in
    from web import create_app
    from web.pages.public import PROGRESS_GRANT

    app = create_app({"SERVICES": svc, "TESTING": True})
    client = app.test_client()
    sign_in(client, svc, "issuer", "Kx7-window-pw-19")
    urls = ["/work/", f"/work/tasks/{task_id}", f"/cases/{case_id}"]
    pages = [client.get(url) for url in urls]
    public = app.test_client()
    with public.session_transaction() as session:
        session[PROGRESS_GRANT] = {"case": case_id, "until": int(time.time()) + 600}
    pages.append(public.get(f"/progress/{case_id}"))
    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    texts = [re.sub(r"<[^>]+>", "", p.get_data(as_text=True)) for p in pages]
    return [re.sub(r"\s+", " ", t) for t in texts]


def test_delivery_deadline_across_spring_festival(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(local(2, 2))
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("d.zip", bundle("delivered")), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    issuer, auditor = users["issuer"].user, users["auditor"].user

    case_id, issue = decided(svc, users, clock, "delivered", local(2, 2))
    assert (issue["deadline"], issue["limit_kind"], issue["remaining_workdays"]) == (
        "2026-02-28",
        "delivery",
        10,
    )
    case = queries.get_case(svc, auditor, case_id)
    assert case["deadline"] == "2026-03-06"  # 受理 02-02 + 20: the case limit is not the issue
    assert queries.get_task(svc, issuer, issue["id"])["limit_kind"] == "delivery"
    assert progress.progress_view(svc, case_id)["delivery_deadline"] == "2026-02-28"
    shown = "送达期限 2026-02-28 (行政许可法第四十四条)"
    *staff, public = pages_of(svc, case_id, issue["id"])
    for page in staff:  # the worklist, the task page and the case page
        assert shown in page, page
    assert "送达期限2026-02-28 前发放或送达证照 (行政许可法第四十四条)" in public

    def row() -> dict[str, Any]:
        (task,) = queries.worklist(svc, issuer)["tasks"]
        return task

    clock.now = local(2, 13)  # Friday before 春节: six working days left (02-14, 02-24..28)
    run_due(svc)
    assert (row()["flag"], row()["remaining_workdays"]) == ("normal", 6)
    clock.now = local(2, 25, 23, 59)
    run_due(svc)
    kinds = [e["type"] for e in queries.events(svc, auditor, case_id)]
    assert "task_warning" not in kinds

    clock.now = local(2, 26, 0, 1)  # 预警 day: add(02-28, -2) = Thursday 02-26
    run_due(svc)
    assert (row()["flag"], row()["remaining_workdays"]) == ("warning", 2)
    assert row()["case"]["timeliness"] == "normal"  # the task's own 预警, not the case's
    events = queries.events(svc, auditor, case_id)
    (warned,) = [e for e in events if e["type"] == "task_warning"]
    assert warned["task"] == issue["id"] and warned["actor"] == "system"
    assert warned["data"] == {"deadline": "2026-02-28", "remaining_workdays": 2}
    (note,) = [m for m in messages.inbox(svc, issuer) if m.kind == "warning"]
    assert "送达期限 2026-02-28" in note.body and "还剩 2 个工作日" in note.body

    clock.now = local(2, 28, 12)  # the makeup Saturday itself: the last day, not overdue
    run_due(svc)
    assert (row()["flag"], row()["remaining_workdays"], row()["overdue"]) == ("warning", 0, False)
    clock.now = local(3, 1, 12)  # Sunday: still nothing
    run_due(svc)
    assert "task_overdue" not in [e["type"] for e in queries.events(svc, auditor, case_id)]

    clock.now = local(3, 2, 0, 1)  # Monday 03-02: the next working day
    run_due(svc)
    assert (row()["flag"], row()["overdue"], row()["remaining_workdays"]) == ("overdue", True, -1)
    events = queries.events(svc, auditor, case_id)
    kinds = [e["type"] for e in events]
    assert kinds.count("task_overdue") == 1 and kinds.count("supervision_opened") == 1
    assert kinds.count("task_warning") == 1
    (overdue,) = [e for e in events if e["type"] == "task_overdue"]
    assert overdue["data"] == {"deadline": "2026-02-28"}
    (supervision,) = queries.worklist(svc, supervisor)["tasks"]
    assert supervision["name"] == "督办: 统一发证 已超过办理时限 (2026-02-28)"

    case = cases.complete(svc, issuer, issue["id"], {})
    assert case["status"] == "completed" and case["clock"] == "stopped"
    for event in queries.events(svc, auditor, case_id):
        assert problems(event, component("Event")) == [], event


def test_own_time_limit_wins_and_delivery_workdays_is_read(
    services: Services, users: dict[str, Any]
) -> None:
    clock = FakeClock(local(2, 2))
    svc = Services(services.engine, clock=clock)
    deploy = publishing.deploy
    deploy(svc, from_upload("o.zip", bundle("own_limit", issue_limit="3")), "test")
    deploy(svc, from_upload("f.zip", bundle("five", time_limits={"delivery_workdays": 5})), "test")
    deploy(svc, from_upload("n.zip", bundle("untimed", items=False)), "test")

    _, own = decided(svc, users, clock, "own_limit", local(2, 2))
    assert (own["deadline"], own["limit_kind"]) == ("2026-02-12", "own")
    _, five = decided(svc, users, clock, "five", local(2, 2))
    # five working days from Monday 02-09: 02-10..02-13 and the makeup Saturday 02-14
    assert (five["deadline"], five["limit_kind"]) == ("2026-02-14", "delivery")
    _, untimed = decided(svc, users, clock, "untimed", local(2, 2))
    assert (untimed["deadline"], untimed["limit_kind"]) == (None, None)  # no time policy

    # 预警 for the five-day limit: add(02-14, -2) = Thursday 02-12
    clock.now = local(2, 12, 0, 1)
    run_due(svc)
    warned = [
        e
        for e in queries.events(svc, users["auditor"].user, five["case_id"])
        if e["type"] == "task_warning"
    ]
    assert [e["data"] for e in warned] == [{"deadline": "2026-02-14", "remaining_workdays": 2}]


def test_the_time_limit_statistics(services: Services, users: dict[str, Any]) -> None:
    """Five cases received in February 2026 and one in March, on two bundles; counted on
    Tuesday 03-10."""
    from engine.errors import Forbidden, Invalid
    from engine.services import extension, time_statistics
    from tests.fixtures.pages import sign_in
    from web import create_app

    clock = FakeClock(local(2, 2))
    svc = Services(services.engine, clock=clock)
    special = {"special_procedures": {"review": {"kind": "expert_review", "expected_workdays": 5}}}
    stat = bundle("stat", time_limits=special)
    publishing.deploy(svc, from_upload("s.zip", with_intake(stat)), "test")
    publishing.deploy(svc, from_upload("d.zip", bundle("delivered")), "test")
    supervisor, _ = accounts.create_user(svc, "supervisor", "clerk", ["supervisors"])
    head, _ = accounts.create_user(svc, "head", "clerk", ["office_heads"])
    issuer, auditor = users["issuer"].user, users["auditor"].user

    # three cases accepted on Monday 02-02; 专家评审 (the review) stops each clock until 02-09
    on_time, issue_1 = decided(svc, users, clock, "stat", local(2, 2))
    late, issue_2 = decided(svc, users, clock, "stat", local(2, 2))
    still_open, _ = decided(svc, users, clock, "stat", local(2, 2))
    clock.now = local(2, 2, 10)  # a fourth is received and never answered at the window
    deemed = cases.start_case(svc, users["front_desk"].user, "stat", {"applicant": "李四"})["id"]
    other, _ = decided(svc, users, clock, "delivered", local(2, 3))  # no pause, issuance open

    clock.now = local(2, 10, 0, 1)  # the intake limit (02-09) passed: deemed accepted
    run_due(svc)
    clock.now = local(2, 13)
    cases.complete(svc, issuer, issue_1["id"], {})  # delivered by 02-28
    asked = extension.request(svc, issuer, still_open, 5, "证照制作需要时间")
    approval = next(t for t in asked["tasks"] if t["kind"] == "extension")
    cases.complete(svc, head, approval["id"], {"decision": "approve", "opinion": "同意"})
    asked = extension.request(svc, issuer, late, 3, "再等等")
    approval = next(t for t in asked["tasks"] if t["kind"] == "extension")
    cases.complete(svc, head, approval["id"], {"decision": "reject", "opinion": "不同意"})
    clock.now = local(3, 2, 10)
    cases.start_case(svc, users["front_desk"].user, "delivered", {"applicant": "王五"})
    clock.now = local(3, 3)
    cases.complete(svc, issuer, issue_2["id"], {})  # after its 送达 deadline 02-28
    # the deemed case's deadline: 20 working days from 02-02 = 03-06; overdue from Monday 03-09
    clock.now = local(3, 10, 0, 1)
    run_due(svc)

    found = time_statistics.time_limits(svc, auditor, "2026-02-01", "2026-02-28")
    assert (found["from"], found["to"], found["bundle"], found["today"]) == (
        "2026-02-01",
        "2026-02-28",
        None,
        "2026-03-10",
    )
    by_key = {b["key"]: b for b in found["bundles"]}
    assert list(by_key) == ["delivered", "stat"]
    figures = by_key["stat"]
    assert figures["name"] == "送达事项"
    assert (figures["cases"], figures["accepted"]) == (4, 4)
    assert figures["deemed_accepted"] == {"count": 1, "cases": [deemed]}
    assert figures["extensions"] == {"requested": 2, "granted": 1, "refused": 1, "workdays": 5}
    assert figures["delivery"] == {"on_time": 1, "late": 1, "open": 1, "open_overdue": 1}
    # each review paused the clock from 02-02 to 02-09: 02-03..02-06 and 02-09 = 5 working days
    assert figures["pauses"] == {
        "expert_review": {"label": "专家评审", "count": 3, "workdays": 15, "ongoing": 0}
    }
    assert figures["hearings"] == {"requested": 0, "waived": 0}
    assert figures["preliminary"] == {"forwarded": 0, "late": 0}
    assert figures["overdue_cases"] == {"count": 1, "cases": [deemed]}
    assert by_key["delivered"]["cases"] == 1  # the March case is outside the period
    assert by_key["delivered"]["delivery"] == {
        "on_time": 0,
        "late": 0,
        "open": 1,
        "open_overdue": 1,
    }
    assert by_key["delivered"]["pauses"] == {}
    total = found["total"]
    assert (total["cases"], total["accepted"]) == (5, 5)
    assert total["delivery"] == {"on_time": 1, "late": 1, "open": 2, "open_overdue": 2}
    # the other bundle's case: 受理 02-03 + 20 working days = 03-09, overdue on 03-10
    assert by_key["delivered"]["overdue_cases"] == {"count": 1, "cases": [other]}
    assert total["overdue_cases"] == {"count": 2, "cases": sorted([deemed, other])}

    one = time_statistics.time_limits(svc, supervisor, "2026-02-01", "2026-03-31", "delivered")
    assert [b["key"] for b in one["bundles"]] == ["delivered"] and one["total"]["cases"] == 2
    try:
        time_statistics.time_limits(svc, issuer)
        raise AssertionError("a clerk outside the 督办 group sees no statistics")
    except Forbidden:
        pass
    try:
        time_statistics.time_limits(svc, auditor, "2026-03-01", "2026-02-01")
        raise AssertionError("an empty period is refused")
    except Invalid as err:
        assert err.errors[0]["field"] == "to"

    app = create_app({"SERVICES": svc, "TESTING": True})
    api = app.test_client()
    answer = api.get(
        "/api/v1/statistics/time-limits?from=2026-02-01&to=2026-02-28",
        headers=users["auditor"].headers,
    )
    assert answer.status_code == 200 and answer.get_json() == found
    assert problems(answer.get_json(), component("TimeLimitStatistics")) == []
    refused = api.get("/api/v1/statistics/time-limits", headers=users["issuer"].headers)
    assert refused.status_code == 403 and "error" in refused.get_json()
    wrong = api.get("/api/v1/statistics/time-limits?from=x", headers=users["auditor"].headers)
    assert wrong.status_code == 422

    page = app.test_client()
    sign_in(page, svc, "supervisor", "Kx7-statistics-pw")
    html = page.get("/statistics/time-limits?from=2026-02-01&to=2026-02-28").get_data(as_text=True)
    assert "时限统计" in html and "行政许可法第四十四条" in html and "专家评审" in html
    assert 'href="/statistics/time-limits"' in html  # in the navigation
    for event in queries.events(svc, auditor, deemed):
        assert problems(event, component("Event")) == [], event
    worker = app.test_client()
    sign_in(worker, svc, "issuer", "Kx7-window-pw-19")
    home = worker.get("/work/")
    assert home.status_code == 200 and "时限统计" not in home.get_data(as_text=True)
    assert worker.get("/statistics/time-limits").status_code == 403


def with_intake(zipped: bytes) -> bytes:
    """The bundle with its window named (`intake.element`): the Art. 32 limit applies."""
    import io
    import zipfile

    files = {}
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        for name in archive.namelist():
            files[name] = archive.read(name).decode("utf-8")
    metadata = json.loads(files["bundle.json"])
    metadata["intake"] = {"element": "accept"}
    files["bundle.json"] = json.dumps(metadata)
    return bpmn.zipped(files)
