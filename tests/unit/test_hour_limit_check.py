"""A task's `time_limit` may state working hours, `<n>h` (1..2000): accepted at upload beside
working days and data field names; anything else named in the refusal."""

from __future__ import annotations

import pytest

from engine.bundles.checks import human_task_rules
from engine.domain.bundle_versions import HumanTaskInfo
from engine.domain.timelimits import MAX_WORK_HOURS, hour_limit


def problems(limit: str) -> list[str]:
    info = HumanTaskInfo("t", "设立登记", "p", ("front_desk",), properties={"time_limit": limit})
    return [p.message for p in human_task_rules(info, "p.bpmn")]


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("4h", 4),
        ("1h", 1),
        ("2000h", 2000),
        ("0h", None),
        ("2001h", None),
        ("4", None),
        ("h", None),
        ("4H", None),
        ("4.5h", None),
        ("-4h", None),
        ("４h", None),
        (" 4h", None),
        ("00004h", None),
    ],
)
def test_hour_limits_are_read(text: str, hours: int | None) -> None:
    assert hour_limit(text) == hours


@pytest.mark.parametrize("limit", ["4h", "2h", "1h", "2000h", "20", "0", "supply_workdays"])
def test_hours_days_and_field_names_upload(limit: str) -> None:
    assert problems(limit) == []


@pytest.mark.parametrize("limit", ["0h", "2001h", "4 h", "4.5h", "4hours", "-2h"])
def test_other_hour_limits_are_refused_naming_the_grammar(limit: str) -> None:
    [message] = problems(limit)
    assert f"不能是 '{limit}'" in message
    assert "工作小时数 (如 4h" in message and f"1 到 {MAX_WORK_HOURS} 小时" in message
