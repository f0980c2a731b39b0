"""Hour limits (`time_limit: 4h`, docs/time-limits.md "Hour limits") through the API on both
databases, on a fake clock: the task's `due_at` in working hours, its 预警 and 超期 checks run at
their moments, 督办 as for day limits; office hours of the bundle's own; the upload's checks.

December 2026 on the seeded calendar: Friday 12-04, Monday 12-07 are working days.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.test_openapi import component, problems
from tests.fixtures import bpmn

BEIJING = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing local time of December 2026 as the UTC instant the fake clock holds."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def iso(day: int, hour: int, minute: int = 0) -> str:
    return local(day, hour, minute).isoformat()


def bundle(key: str, limit: str = "4h", time_limits: dict[str, Any] | None = None) -> bytes:
    """受理 → 设立登记 (its own `time_limit`) → 办结."""
    process = bpmn.document(
        f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="accept" />
  <bpmn:userTask id="accept" name="受理" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="register" />
  <bpmn:userTask id="register" name="设立登记" camunda:candidateGroups="market_regulation">
    <bpmn:extensionElements><camunda:properties>
      <camunda:property name="time_limit" value="{limit}" />
    </camunda:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="register" targetRef="e" /><bpmn:endEvent id="e" />""",
        process_id=key,
        name="企业开办",
    )
    metadata = {
        "key": key,
        "name": "企业开办",
        "items": [{"code": "reg", "name": "设立登记", "promised_hours": 4}],
        "time_limits": {"escalation_group": "supervisors", **(time_limits or {})},
    }
    return bpmn.zipped({f"{key}.bpmn": process, "bundle.json": json.dumps(metadata)})


def opened(interop: Any, key: str, at: datetime) -> dict[str, Any]:
    """A case whose 受理 completes at `at`: its 设立登记 task as GET /tasks/ID shows it."""
    interop.clock.now = at
    case = interop.start(key)
    answer = interop.complete(case["tasks"][0], {})
    assert answer.status_code == 200, answer.get_json()
    [task] = interop.case(case["id"])["tasks"]
    return task_view(interop, task["id"])


def task_view(interop: Any, task_id: str) -> dict[str, Any]:
    answer = interop.client.get(
        f"/api/v1/tasks/{task_id}", headers=interop.clerk(group="market_regulation")
    )
    assert answer.status_code == 200, answer.get_json()
    assert problems(answer.get_json(), component("Task")) == []
    return answer.get_json()


def events(interop: Any, case_id: int, kind: str) -> list[dict[str, Any]]:
    answer = interop.client.get(f"/api/v1/cases/{case_id}/events", headers=interop.admin)
    found = [e for e in answer.get_json()["events"] if e["type"] == kind]
    for event in found:
        assert problems(event, component("Event")) == [], event
    return found


def run_at(interop: Any, at: datetime) -> None:
    interop.clock.now = at
    from engine.services.worker import run_due

    run_due(interop.services)


def worklist_flag(interop: Any, task_id: str) -> str:
    answer = interop.client.get("/api/v1/tasks", headers=interop.clerk(group="market_regulation"))
    [row] = [t for t in answer.get_json()["tasks"] if t["id"] == task_id]
    assert problems(row, component("WorklistTask")) == []
    return str(row["flag"])


def test_a_four_hour_limit_is_due_warned_and_overdue_at_its_moments(interop: Any) -> None:
    interop.accepted("hourly.zip", bundle("hourly"))
    task = opened(interop, "hourly", local(7, 10, 30))
    # 10:30-12:00, then 13:30-16:00: due at 16:00, the day's date its deadline
    assert task["due_at"] == iso(7, 16)
    assert task["deadline"] == "2026-12-07"
    assert task["limit_hours"] == 4 and task["limit_kind"] == "own"
    assert task["remaining_work_minutes"] == 240 and task["overdue"] is False
    case_id = task["case_id"]
    assert worklist_flag(interop, task["id"]) == "normal"

    run_at(interop, local(7, 14, 59))  # 预警 is one working hour before: 15:00
    assert events(interop, case_id, "task_warning") == []
    assert worklist_flag(interop, task["id"]) == "normal"
    run_at(interop, local(7, 15, 0))
    [warned] = events(interop, case_id, "task_warning")
    assert warned["data"] == {
        "deadline": "2026-12-07",
        "due_at": iso(7, 16),
        "remaining_work_minutes": 60,
    }
    assert worklist_flag(interop, task["id"]) == "warning"

    run_at(interop, local(7, 15, 59))
    assert events(interop, case_id, "task_overdue") == []
    assert task_view(interop, task["id"])["overdue"] is False
    run_at(interop, local(7, 16, 0))  # at the moment, not the next working day
    [overdue] = events(interop, case_id, "task_overdue")
    assert overdue["data"] == {"deadline": "2026-12-07", "due_at": iso(7, 16)}
    late = task_view(interop, task["id"])
    assert late["overdue"] is True and late["remaining_work_minutes"] == 0
    assert worklist_flag(interop, task["id"]) == "overdue"
    # 督办, as for a day limit
    supervision = interop.client.get("/api/v1/tasks", headers=interop.clerk(group="supervisors"))
    [duty] = supervision.get_json()["tasks"]
    assert duty["name"] == "督办: 设立登记 已超过办理时限 (2026-12-07 16:00)"
    run_at(interop, local(7, 17, 30))  # escalated once
    assert len(events(interop, case_id, "task_overdue")) == 1
    assert late_minutes(interop, task["id"]) == 60


def late_minutes(interop: Any, task_id: str) -> int:
    return -int(task_view(interop, task_id)["remaining_work_minutes"])


def test_office_hours_of_the_bundle_and_a_weekend(interop: Any) -> None:
    limits = {"office_hours": [["08:30", "12:00"], ["14:00", "17:30"]], "warning_hours": 2}
    interop.accepted("weekend.zip", bundle("weekend", "3h", limits))
    # Friday 16:30: one hour on Friday, two on Monday from 08:30
    task = opened(interop, "weekend", local(4, 16, 30))
    assert task["due_at"] == iso(7, 10, 30)
    assert task["deadline"] == "2026-12-07"
    case_id = task["case_id"]
    run_at(interop, local(4, 17, 29))
    assert events(interop, case_id, "task_warning") == []
    run_at(interop, local(4, 17, 30))  # two working hours before: Friday's closing
    [warned] = events(interop, case_id, "task_warning")
    assert warned["data"]["remaining_work_minutes"] == 120
    run_at(interop, local(6, 23, 0))  # the weekend is not working time
    assert events(interop, case_id, "task_overdue") == []
    assert task_view(interop, task["id"])["remaining_work_minutes"] == 120
    run_at(interop, local(7, 10, 30))
    assert len(events(interop, case_id, "task_overdue")) == 1


def test_completed_in_time_nothing_fires_and_a_limit_within_the_margin_is_not_warned(
    interop: Any,
) -> None:
    interop.accepted("quick.zip", bundle("quick", "1h"))
    task = opened(interop, "quick", local(7, 11, 30))
    assert task["due_at"] == iso(7, 14)  # 11:30-12:00, 13:30-14:00
    done = interop.complete(task, {})
    assert done.status_code == 200, done.get_json()
    run_at(interop, local(8, 9))
    case_id = task["case_id"]
    assert events(interop, case_id, "task_warning") == []  # 1 h limit, 1 h margin: none
    assert events(interop, case_id, "task_overdue") == []


def test_day_limits_keep_no_due_moment(interop: Any) -> None:
    interop.accepted("days.zip", bundle("days", "2"))
    task = opened(interop, "days", local(7, 10))
    assert task["due_at"] is None and task["limit_hours"] is None
    assert task["remaining_work_minutes"] is None
    assert task["deadline"] == "2026-12-09"


def test_wrong_hour_limits_and_office_hours_are_refused_at_upload(interop: Any) -> None:
    [bad_limit] = interop.refused("h0.zip", bundle("h0", "0h"))
    assert "time_limit" in bad_limit and "工作小时数 (如 4h" in bad_limit
    overlapping = {"office_hours": [["09:00", "12:00"], ["11:30", "17:00"]]}
    [bad_hours] = interop.refused("oh.zip", bundle("oh", "4h", overlapping))
    assert bad_hours == (
        "元数据字段 time_limits/office_hours (办公时间) 第 2 段 11:30-17:00 与前一段重叠或顺序颠倒"
        " (各段应按时间先后排列)"
    )
    wrong = {"warning_hours": -1}
    assert any("warning_hours" in m for m in interop.refused("wh.zip", bundle("wh", "4h", wrong)))


def test_a_suspension_does_not_move_an_hour_limit(interop: Any) -> None:
    """挂起 pauses the checks, not the task's due moment: on 恢复 the passed moment is overdue."""
    interop.accepted("paused.zip", bundle("paused"))
    task = opened(interop, "paused", local(7, 10, 30))  # due 16:00
    case_id = task["case_id"]
    admin = interop.admin
    interop.clock.now = local(7, 11)
    body = {"reason": "等待专家评审", "kind": "expert_review"}
    answer = interop.client.post(f"/api/v1/cases/{case_id}/suspend", headers=admin, json=body)
    assert answer.status_code == 200, answer.get_json()
    run_at(interop, local(7, 16, 30))  # the checks of a suspended case do nothing
    assert events(interop, case_id, "task_warning") == []
    assert events(interop, case_id, "task_overdue") == []
    interop.clock.now = local(8, 9)
    answer = interop.client.post(f"/api/v1/cases/{case_id}/resume", headers=admin, json={})
    assert answer.status_code == 200, answer.get_json()
    assert task_view(interop, task["id"])["due_at"] == iso(7, 16)  # not moved
    run_at(interop, local(8, 9))
    [overdue] = events(interop, case_id, "task_overdue")
    assert overdue["data"]["due_at"] == iso(7, 16)
    assert events(interop, case_id, "task_warning") == []  # past due: the overdue speaks


def test_the_guide_shows_an_items_promise_in_hours(interop: Any) -> None:
    interop.accepted("guided.zip", bundle("guided"))
    page = interop.client.get("/guide/guided")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<span class="promised-hours">4 个工作小时</span>' in html
    assert "以「个工作小时」承诺的事项按工作日的办公时间计算" in html


def test_the_dashboard_judges_an_hour_limit_by_its_moment(interop: Any) -> None:
    """Two 4-hour tasks due 16:00 the same day, one done at 15:00, one at 16:30: the task figures
    and their drill-down call one on time and one overdue (by the day alone both were on time)."""
    from datetime import date

    from engine.services import dashboard, stats_refresh
    from engine.services.dashboard import Period

    interop.accepted("hourly.zip", bundle("hourly"))
    early, late = (
        opened(interop, "hourly", local(7, 10, 30)),
        opened(interop, "hourly", local(7, 10, 30)),
    )
    for task, at in ((early, local(7, 15)), (late, local(7, 16, 30))):
        interop.clock.now = at
        clerk = interop.clerk(group="market_regulation")
        claimed = interop.client.post(f"/api/v1/tasks/{task['id']}/claim", headers=clerk)
        assert claimed.status_code == 200, claimed.get_json()
        done = interop.client.post(f"/api/v1/tasks/{task['id']}/complete", json={}, headers=clerk)
        assert done.status_code == 200, done.get_json()
    stats_refresh.refresh(interop.services)
    with interop.services.uow() as uow:
        user = uow.users.by_name("interop_admin")
    assert user is not None
    december = Period("month", date(2026, 12, 1), date(2026, 12, 31), "2026年12月")
    shown = dashboard.figures(interop.services, user, december, "hourly")
    [row] = [r for r in shown["by_task"] if r["element"] == "register"]
    assert (row["completed"], row["on_time"], row["overdue"]) == (2, 1, 1)
    for measure, case in (("task_on_time", early), ("task_overdue", late)):
        found = dashboard.cases(interop.services, user, december, measure, "hourly")
        assert [c["id"] for c in found["cases"]] == [case["case_id"]], measure
