"""Timer and due-date texts as the modelers write them.

Camunda Modeler, bpmn.io and Flowable write a timer's ISO 8601 value as it is, unquoted
(`<bpmn:timeDuration>PT10M</bpmn:timeDuration>`, `R3/PT1H`, `2026-12-01T09:00:00`), and
Camunda and Flowable read anything else as a JUEL expression (`${duration}`). SpiffWorkflow reads
every timer as an expression of the script engine, which needs the value quoted (`"PT10M"`). So
a text that is an ISO 8601 value and nothing else is read as that text (`expression_of` quotes
it): the upload checks, and the parser through `parse_timer_event` (installed by patches.py),
both see the quoted form. Any other text stays an expression of the safe language.

A `timeCycle` may also be a cron expression as Camunda 7 and Flowable write it (Quartz: six or
seven fields, seconds first, `?` for "no value", days of the week 1 = Sunday ... 7 = Saturday or
SUN-SAT): `0 0/5 * * * ?` every five minutes, `0 0 9 ? * MON-FRI` at 9:00 on weekdays. Its times
are wall-clock times in `LIANBAN_TIMEZONE`, computed by `croniter`; it repeats while its event
waits, each occurrence once (occurrences missed while no worker ran fire once, not one by one).
SpiffWorkflow's cycle repeats a fixed interval, so `cycle_complete` (installed by patches.py) runs
a cron cycle itself and leaves every ISO cycle to SpiffWorkflow. A cron text anywhere else, or one
that does not parse, is refused at upload (`refusal`).

A user task's `camunda:dueDate` (also `flowable:`/`activiti:dueDate`), an ISO date, an ISO
duration or a `${...}` expression, is the task's deadline (`due_date`), in calendar days:
docs/bundles.md, "Task properties".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from croniter import croniter
from lxml import etree
from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)

from engine.config import timezone
from engine.expressions import DEFAULT_FUNCTIONS, EvaluationError, ExpressionError
from engine.expressions import compile_expression as _compile

from .clock import engine_now
from .namespaces import ACTIVITI, CAMUNDA, FLOWABLE, tag

_DURATION = re.compile(r"-?P(?=[^/]*\d)[0-9YMWDTHS.,]+", re.IGNORECASE)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.,]+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?")
_CYCLE = re.compile(r"R\d*(?:/[0-9A-Z:.,+\-]+){1,2}", re.IGNORECASE)
_CRON_FIELD = r"[0-9A-Z*?/,#\-]+"
_CRON_NUMBER = r"[0-9*?/,\-]+"  # seconds and minutes (Quartz), minutes and hours (Unix)
_CRON = re.compile(rf"{_CRON_NUMBER}\s+{_CRON_NUMBER}(?:\s+{_CRON_FIELD}){{3,5}}", re.IGNORECASE)

DUE_DATE = "dueDate"
"""The property a human task's due date is kept under in its manifest."""
_DUE_DATE_ATTRIBUTES = tuple(tag(ns, DUE_DATE) for ns in (CAMUNDA, FLOWABLE, ACTIVITI))


def is_literal(text: str) -> bool:
    """Whether ``text`` is an unquoted ISO 8601 duration, date-time or repeating interval."""
    value = text.strip()
    return bool(
        _DURATION.fullmatch(value) or _DATE_TIME.fullmatch(value) or _CYCLE.fullmatch(value)
    )


def is_cron(text: str) -> bool:
    """Whether ``text`` reads as a cron expression (Quartz: 6 or 7 fields; 5 of Unix cron are
    recognised to be refused)."""
    value = text.strip()
    return bool(_CRON.fullmatch(value)) and not value.startswith(("${", "#{"))


def expression_of(text: str) -> str:
    """The expression the engine evaluates for a timer written ``text``: an ISO literal quoted,
    anything else as written."""
    if is_literal(text):
        return '"' + text.strip() + '"'
    return text


_QUARTZ_DAY = re.compile(r"(?<![#/\d])\d+")  # a day number, not an nth (6#3) or a step (1/2)


def _croniter_form(text: str) -> str:
    """A Quartz cron expression as croniter reads it (seconds first): the days of the week
    numbered from Sunday = 0 instead of Sunday = 1. ValueError when it has not 6 or 7 fields."""
    fields = text.split()
    if len(fields) not in (6, 7):
        raise ValueError("cron needs 6 or 7 fields")
    fields[5] = _QUARTZ_DAY.sub(lambda m: str(int(m.group()) - 1), fields[5])
    return " ".join(fields)


def next_cron_time(text: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that the Quartz cron ``text`` names, in UTC; its
    fields are read in ``LIANBAN_TIMEZONE``."""
    local = after.astimezone(timezone())
    found: datetime = croniter(_croniter_form(text), local, second_at_beginning=True).get_next(
        datetime
    )
    return found.astimezone(UTC)


def cron_problem(text: str) -> str | None:
    """Why a cron ``timeCycle`` cannot run, or None."""
    try:
        next_cron_time(text, datetime(2026, 1, 1, tzinfo=UTC))
    except Exception:  # croniter's errors (CroniterError, ValueError, KeyError...)
        return (
            "不是有效的 cron 表达式: 需要 6 或 7 个字段 (秒 分 时 日 月 周 [年]), "
            "日与周其中一个写 ?, 如每 5 分钟一次写作 0 0/5 * * * ?"
        )
    return None


def refusal(text: str, cycle: bool) -> str | None:
    """Why a timer text is refused before it is read as an expression, or None (``cycle``:
    whether it is a ``timeCycle``, the only place a cron expression means something)."""
    if not is_cron(text):
        return None
    if not cycle:
        return (
            "是 cron 表达式: cron 只能用于定时器周期 (timeCycle); "
            "时长请写 ISO 8601 时长 (如 PT5M), 日期请写 ISO 8601 日期时间"
        )
    return cron_problem(text)


_ORIGINAL_CYCLE_COMPLETE = CycleTimerEventDefinition.cycle_complete


def cycle_complete(self: CycleTimerEventDefinition, my_task: Any) -> bool:
    """SpiffWorkflow's `cycle_complete` for ISO cycles; for a cron cycle, whether its next time
    has passed (then the one after now is the next), the due time kept where SpiffWorkflow keeps
    a cycle's (`event_value["next"]`, read by task_table.pending_timers)."""
    if not (isinstance(self.expression, str) and is_cron(self.expression)):
        return bool(_ORIGINAL_CYCLE_COMPLETE(self, my_task))
    now = engine_now()
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        event_value = {"cycles": -1, "next": next_cron_time(self.expression, now).isoformat()}
        event_value["duration"] = 0
    ready = False
    if datetime.fromisoformat(event_value["next"]) < now:
        event_value["next"] = next_cron_time(self.expression, now).isoformat()
        ready = True
    my_task._set_internal_data(event_value=event_value)
    return ready


_ORIGINAL_PARSE_TIMER_EVENT = EventDefinitionParser.parse_timer_event


def parse_timer_event(self: EventDefinitionParser, event: etree._Element) -> Any:
    """SpiffWorkflow's `parse_timer_event`, with an unquoted ISO value read as that text."""
    definition = _ORIGINAL_PARSE_TIMER_EVENT(self, event)
    if isinstance(definition, TimerEventDefinition) and isinstance(definition.expression, str):
        definition.expression = expression_of(definition.expression)
    return definition


# --- due dates --------------------------------------------------------------------------------


def due_date_of(node: etree._Element) -> str | None:
    """A human task's ``camunda:dueDate`` (or Flowable's, Activiti's), stripped, or None."""
    for attribute in _DUE_DATE_ATTRIBUTES:
        value: str | None = node.get(attribute)
        if value is not None and value.strip():
            return value.strip()
    return None


def with_due_date(node: etree._Element, props: dict[str, str]) -> dict[str, str]:
    """The task's properties with its due date attribute added (a property of that name wins)."""
    due = due_date_of(node)
    if due is not None and DUE_DATE not in props:
        props[DUE_DATE] = due
    return props


def _is_expression(text: str) -> bool:
    return text.startswith(("${", "#{"))


def due_date_problem(text: str) -> str | None:
    """Why a due date is refused at upload (Chinese, without the element), or None."""
    if _is_expression(text):
        try:
            _compile(text, DEFAULT_FUNCTIONS)
        except ExpressionError as exc:
            return f"到期时间 dueDate 的表达式 `{text}` 无效: {exc.message}"
        return None
    if _deadline_from_value(text, date(2026, 1, 1)) is None:
        return (
            f"到期时间 dueDate 应为 ISO 8601 日期 (如 2026-12-01T09:00:00)、时长 (如 P3D) "
            f"或 ${{...}} 表达式, 不能是 '{text}'"
        )
    return None


def due_date(text: str, data: Mapping[str, Any], opened: date) -> date | None:
    """The deadline a due date gives a task opened on ``opened``: an ISO date, or ``opened`` plus
    an ISO duration in calendar time, the time of day dropped; an expression's value is read the
    same way (a date value as it is). None when an expression cannot be evaluated on the case
    data or its value is neither: the task then has no limit, as with a ``time_limit`` field
    that is missing."""
    if not _is_expression(text):
        return _deadline_from_value(text, opened)
    try:
        value = _compile(text, DEFAULT_FUNCTIONS).evaluate(data)
    except (ExpressionError, EvaluationError):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _deadline_from_value(value.strip(), opened)
    return None


def _deadline_from_value(text: str, opened: date) -> date | None:
    try:
        if _DURATION.fullmatch(text) and not text.startswith("-"):
            parsed = TimerEventDefinition.parse_iso_duration(text)
            start = datetime.combine(opened, time())
            delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
            return (start + delta).date()
        if _DATE_TIME.fullmatch(text):
            return datetime.fromisoformat(text.replace(",", ".")).date()
    except Exception:  # SpiffWorkflow's parser raises bare Exceptions; ValueError, OverflowError
        return None
    return None
