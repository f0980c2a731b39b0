"""Timers as Camunda Modeler 5, bpmn.io and Flowable write them (unquoted ISO 8601, `${...}`,
cycles), and `camunda:dueDate` / `flowable:dueDate` as a task's deadline, run to the end through
the API with the worker firing what falls due (engine/bpmn/timer_texts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .harness import Interop

FILES = Path(__file__).parent / "files" / "timers"
CAMUNDA = (FILES / "camunda_modeler5_review_timers.bpmn").read_text()
BPMN_IO = (FILES / "bpmnio_reminders.bpmn").read_text()
FLOWABLE = (FILES / "flowable_inspection.bpmn20.xml").read_text()
CRON = (FILES / "camunda_modeler5_cron_reminder.bpmn").read_text()


def elements(view: dict[str, Any]) -> list[str]:
    return [t["element"] for t in view["tasks"]]


def test_camunda_unquoted_duration_on_a_boundary_timer_fires(interop: Interop) -> None:
    interop.accepted("review.bpmn", CAMUNDA)
    case = interop.start("permit_review")
    assert elements(case) == ["Activity_review"]
    interop.fire_timers(minutes=9)
    assert elements(interop.case(case["id"])) == ["Activity_review"]  # PT10M not yet
    interop.fire_timers(minutes=2)
    view = interop.case(case["id"])
    assert elements(view) == ["Activity_escalated"]  # the review was interrupted
    assert interop.run_to_end(view) == ["Activity_escalated"]


def test_camunda_unquoted_date_on_an_intermediate_timer_waits_for_that_day(
    interop: Interop,
) -> None:
    interop.accepted("review.bpmn", CAMUNDA)
    case = interop.start("permit_review")
    done = interop.complete(case["tasks"][0], {})
    assert done.status_code == 200, done.get_json()
    view = interop.case(case["id"])
    assert view["status"] == "running" and view["tasks"] == []  # waits for 2026-03-04 09:00
    interop.fire_timers(days=1)
    assert interop.case(case["id"])["status"] == "running"
    interop.fire_timers(days=1, hours=1)
    assert interop.case(case["id"])["status"] == "completed"


def test_camunda_due_date_is_the_task_deadline(interop: Interop) -> None:
    interop.accepted("review.bpmn", CAMUNDA)
    case = interop.start("permit_review")  # 2026-03-02 09:00
    review = case["tasks"][0]
    assert review["deadline"] == "2026-03-05"  # camunda:dueDate="P3D": three calendar days
    interop.fire_timers(minutes=11)
    escalated = interop.case(case["id"])["tasks"][0]
    assert escalated["deadline"] == "2026-03-10"  # camunda:dueDate="2026-03-10T17:00:00"


def test_bpmn_io_unquoted_duration_and_cycle_run(interop: Interop) -> None:
    interop.accepted("reminders.bpmn", BPMN_IO)
    case = interop.start("Process_reminders")
    assert case["status"] == "running" and case["tasks"] == []  # PT1H of cooling off
    interop.fire_timers(hours=1, seconds=1)
    assert elements(interop.case(case["id"])) == ["Activity_decide"]
    interop.fire_timers(hours=1, seconds=1)  # R2/PT1H: the first reminder
    assert elements(interop.case(case["id"])) == ["Activity_decide", "Activity_reminded"]
    interop.fire_timers(hours=1, seconds=1)  # and the second
    assert elements(interop.case(case["id"])).count("Activity_reminded") == 2
    interop.fire_timers(hours=5)  # R2: no third
    view = interop.case(case["id"])
    assert elements(view).count("Activity_reminded") == 2
    for task in view["tasks"]:
        if task["element"] == "Activity_reminded":
            assert interop.complete(task, {}).status_code == 200
    assert interop.run_to_end(interop.case(case["id"])) == ["Activity_decide"]


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        ("P2D", "2026-03-04"),
        ("2026-03-20", "2026-03-20"),
        ("2026-03-09T18:00:00+08:00", "2026-03-09"),
    ],
)
def test_flowable_literal_and_expression_timers_and_due_date(
    interop: Interop, due: str, deadline: str
) -> None:
    interop.accepted("inspection.bpmn20.xml", FLOWABLE)
    case = interop.start("site_inspection", {"dueDate": due, "waitTime": "PT2H"})
    assert case["tasks"] == []  # PT5M first
    interop.fire_timers(minutes=6)
    view = interop.case(case["id"])
    assert elements(view) == ["inspect"]
    assert view["tasks"][0]["deadline"] == deadline  # flowable:dueDate="${dueDate}"
    interop.fire_timers(hours=2)  # ${waitTime}: PT2H from the case data
    view = interop.case(case["id"])
    assert view["status"] == "completed" and view["tasks"] == []


def test_flowable_due_date_makes_the_task_overdue(interop: Interop) -> None:
    interop.accepted("inspection.bpmn20.xml", FLOWABLE)
    case = interop.start("site_inspection", {"dueDate": "P2D", "waitTime": "P30D"})
    interop.fire_timers(minutes=6)
    assert interop.case(case["id"])["tasks"][0]["overdue"] is False
    interop.fire_timers(days=4)
    task = interop.case(case["id"])["tasks"][0]
    assert task["overdue"] is True
    assert interop.run_to_end(interop.case(case["id"])) == ["inspect"]


def test_flowable_due_date_that_is_not_a_date_gives_no_limit(interop: Interop) -> None:
    interop.accepted("inspection.bpmn20.xml", FLOWABLE)
    case = interop.start("site_inspection", {"dueDate": "next week", "waitTime": "PT2H"})
    interop.fire_timers(minutes=6)
    assert interop.case(case["id"])["tasks"][0]["deadline"] is None


def test_camunda_cron_cycle_runs_on_the_wall_clock(interop: Interop) -> None:
    interop.accepted("cron.bpmn", CRON)
    case = interop.start("cron_reminder")  # 2026-03-02 09:00:00 UTC
    interop.fire_timers(minutes=4)
    assert elements(interop.case(case["id"])) == ["Activity_handle"]  # 09:05 not yet
    interop.fire_timers(minutes=1, seconds=1)  # 0 0/5 * * * ?: 09:05
    assert elements(interop.case(case["id"])) == ["Activity_handle", "Activity_chase"]
    interop.fire_timers(minutes=5)  # 09:10
    view = interop.case(case["id"])
    assert elements(view) == ["Activity_handle", "Activity_chase", "Activity_chase"]
    interop.fire_timers(hours=1)  # missed occurrences fire once, not twelve times
    view = interop.case(case["id"])
    assert elements(view).count("Activity_chase") == 3
    for task in view["tasks"]:
        if task["element"] == "Activity_chase":
            assert interop.complete(task, {}).status_code == 200
    assert interop.run_to_end(interop.case(case["id"])) == ["Activity_handle"]


@pytest.mark.parametrize(
    ("before", "after", "fragment"),
    [
        ("0 0/5 * * * ?", "0 0/5 * * *", "6 或 7 个字段"),  # Unix cron: no seconds
        ("0 0/5 * * * ?", "0 0 25 * * ?", "不是有效的 cron 表达式"),
        ("0 0/5 * * * ?", "0 0/5 * * * ? *extra", "cron"),
    ],
)
def test_a_cron_cycle_that_does_not_parse_is_refused(
    interop: Interop, before: str, after: str, fragment: str
) -> None:
    messages = interop.refused("cron.bpmn", CRON.replace(before, after))
    assert any(fragment in m for m in messages), messages


def test_cron_is_only_for_cycles(interop: Interop) -> None:
    messages = interop.refused("review.bpmn", CAMUNDA.replace(">PT10M<", ">0 0/10 * * * ?<"))
    assert any("cron 只能用于定时器周期" in m for m in messages), messages


@pytest.mark.parametrize(
    ("before", "after", "fragment"),
    [
        ("PT10M<", "PT10<", "ISO 8601 时长"),
        ("PT10M<", "PT0S<", "短于下限"),
        ("2026-03-04T09:00:00<", "2026-13-04T09:00:00<", "ISO 8601 日期时间"),
        ('camunda:dueDate="P3D"', 'camunda:dueDate="in three days"', "dueDate"),
        ('camunda:dueDate="P3D"', 'camunda:dueDate="${a.b}"', "不允许访问属性"),
    ],
)
def test_bad_timer_values_get_a_chinese_message_naming_the_element(
    interop: Interop, before: str, after: str, fragment: str
) -> None:
    answer = interop.upload("review.bpmn", CAMUNDA.replace(before, after, 1))
    assert answer.status_code == 422, answer.get_json()
    errors = answer.get_json()["errors"]
    found = [e for e in errors if fragment in e["message"]]
    assert found, errors
    # the element with an id nearest the value: the timer definition (Camunda Modeler gives it
    # an id), or the user task
    assert found[0]["element"] in {
        "TimerEventDefinition_0c3u1fj",  # of Event_too_slow
        "TimerEventDefinition_1n9d3h2",  # of Event_publish_day
        "Activity_review",
    }
    assert "Traceback" not in str(errors) and "Invalid" not in str(errors)
