"""Timer and due-date texts as the modelers write them (engine/bpmn/timer_texts.py): which texts
are ISO literals, cron times by Quartz's rules, due dates as deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.bpmn import timer_texts


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("PT10M", '"PT10M"'),
        (" P3D ", '"P3D"'),
        ("P1Y2M", '"P1Y2M"'),
        ("R3/PT1H", '"R3/PT1H"'),
        ("R/PT1H", '"R/PT1H"'),
        ("R/2026-03-02T09:00:00Z/P1D", '"R/2026-03-02T09:00:00Z/P1D"'),
        ("2026-12-01T09:00:00", '"2026-12-01T09:00:00"'),
        ("2026-12-01T09:00:00+08:00", '"2026-12-01T09:00:00+08:00"'),
        ("2026-12-01", '"2026-12-01"'),
        ('"P10D"', '"P10D"'),  # already an expression
        ("${waitTime}", "${waitTime}"),
        ("wait_for", "wait_for"),
        ("workdays(5)", "workdays(5)"),
        ("PT", "PT"),  # no number: a name
        ("Period", "Period"),
    ],
)
def test_only_iso_values_are_read_as_text(text: str, expression: str) -> None:
    assert timer_texts.expression_of(text) == expression


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        # LIANBAN_TIMEZONE is Asia/Shanghai (UTC+8) by default
        ("0 0/5 * * * ?", "2026-03-02T09:00:00+00:00", "2026-03-02T09:05:00+00:00"),
        ("0 0/5 * * * ?", "2026-03-02T09:05:00+00:00", "2026-03-02T09:10:00+00:00"),
        ("0 0 9 ? * MON-FRI", "2026-03-06T02:00:00+00:00", "2026-03-09T01:00:00+00:00"),
        ("0 0 9 ? * 2-6", "2026-03-06T02:00:00+00:00", "2026-03-09T01:00:00+00:00"),  # 2 = MON
        ("0 0 9 ? * 1", "2026-03-02T02:00:00+00:00", "2026-03-08T01:00:00+00:00"),  # 1 = SUN
        ("0 0 9 ? * 2#1", "2026-03-03T00:00:00+00:00", "2026-04-06T01:00:00+00:00"),  # 1st MON
        ("0 30 8 1 * ?", "2026-03-02T00:00:00+00:00", "2026-04-01T00:30:00+00:00"),
        ("0 0 12 * * ? 2027", "2026-03-02T00:00:00+00:00", "2027-01-01T04:00:00+00:00"),
    ],
)
def test_cron_times_follow_quartz(cron: str, after: str, expected: str) -> None:
    assert timer_texts.cron_problem(cron) is None
    found = timer_texts.next_cron_time(cron, datetime.fromisoformat(after))
    assert found == datetime.fromisoformat(expected)
    assert found.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "cycle", "fragment"),
    [
        ("0 0/5 * * *", True, "6 或 7 个字段"),
        ("0 0 25 * * ?", True, "不是有效的 cron 表达式"),
        ("0 0/5 * * * ?", False, "cron 只能用于定时器周期"),
    ],
)
def test_cron_refusals(text: str, cycle: bool, fragment: str) -> None:
    refused = timer_texts.refusal(text, cycle)
    assert refused is not None and fragment in refused


def test_expressions_are_not_cron() -> None:
    assert not timer_texts.is_cron("a * b * c")
    assert not timer_texts.is_cron("${x} * 2 * 3 * 4")
    assert timer_texts.refusal("PT5M", True) is None


OPENED = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("due", "data", "deadline"),
    [
        ("P3D", {}, date(2026, 3, 5)),
        ("PT4H", {}, date(2026, 3, 2)),
        ("P1M", {}, date(2026, 4, 2)),
        ("2026-03-20", {}, date(2026, 3, 20)),
        ("2026-03-20T17:00:00", {}, date(2026, 3, 20)),
        ("${limit}", {"limit": "P2D"}, date(2026, 3, 4)),
        ("${limit}", {"limit": "2026-05-01"}, date(2026, 5, 1)),
        ("${limit}", {"limit": date(2026, 6, 1)}, date(2026, 6, 1)),
        ("${limit}", {"limit": "next week"}, None),
        ("${limit}", {}, None),  # missing: no limit
        ("${limit}", {"limit": 5}, None),
    ],
)
def test_due_dates_as_deadlines(due: str, data: dict[str, object], deadline: date | None) -> None:
    assert timer_texts.due_date(due, data, OPENED) == deadline


@pytest.mark.parametrize(
    ("due", "fragment"),
    [
        ("in three days", "dueDate 应为 ISO 8601"),
        ("-P3D", "dueDate 应为 ISO 8601"),
        ("2026-13-01", "dueDate 应为 ISO 8601"),
        ("${a.b}", "不允许访问属性"),
    ],
)
def test_bad_due_dates(due: str, fragment: str) -> None:
    problem = timer_texts.due_date_problem(due)
    assert problem is not None and fragment in problem
    assert timer_texts.due_date_problem("P3D") is None
    assert timer_texts.due_date_problem("${dueDate}") is None
