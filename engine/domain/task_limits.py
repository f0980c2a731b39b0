"""Where a task's own limit comes from (docs/time-limits.md): the element's `time_limit`, or the
送达 limit of the Administrative Licensing Law Art. 44 for an issuance task."""

from __future__ import annotations

from datetime import datetime, tzinfo

from engine.calendar import WorkdayCalendar
from engine.calendar.hours import OfficeHours, add_work_hours, add_working_seconds, working_seconds

from .bundle_metadata import CERTIFICATE_ITEMS
from .bundle_versions import BundleVersion
from .timelimits import hour_limit

DELIVERY = "delivery"  # 送达 (Art. 44): `time_limits.delivery_workdays` from the decision
OWN = "own"  # the element's own `time_limit`
ISSUE = "issue"  # the `certificate_action` of 统一发证


def limit_kind(version: BundleVersion | None, element: str) -> str | None:
    """OWN (the element states a `time_limit`, which wins), DELIVERY (an issuance task,
    `certificate_action: issue` without `certificate_items`, of a bundle with a time policy),
    or None (no limit of its own)."""
    info = version.human_tasks.get(element) if version else None
    if version is None or info is None:
        return None
    if info.properties.get("time_limit") is not None:
        return OWN
    policy = version.time_policy
    if (
        info.properties.get("certificate_action") == ISSUE
        and CERTIFICATE_ITEMS not in info.properties  # one item's issue is not 统一发证
        and (policy.limit is not None or policy.statutory_limit is not None)
    ):
        return DELIVERY
    return None


# Hour limits (`time_limit: 4h`, docs/time-limits.md "Hour limits"): working hours counted in the
# bundle's office hours (`time_limits.office_hours`), 预警 `time_limits.warning_hours` before.
DEFAULT_WARNING_HOURS = 1


def task_hours(version: BundleVersion | None, element: str) -> int | None:
    """The working hours of the element's `time_limit` when it is written `<n>h`, else None."""
    info = version.human_tasks.get(element) if version else None
    limit = info.properties.get("time_limit") if info else None
    return hour_limit(limit) if limit is not None else None


def _hour_settings(version: BundleVersion) -> dict[str, object]:
    limits = version.metadata.get("time_limits") if isinstance(version.metadata, dict) else None
    return limits if isinstance(limits, dict) else {}


def office_hours(version: BundleVersion) -> OfficeHours:
    """`time_limits.office_hours` (checked at upload), else 09:00-12:00 and 13:30-17:00."""
    pairs = _hour_settings(version).get("office_hours")
    return OfficeHours.parse(pairs if isinstance(pairs, list) else None)


def warning_hours(version: BundleVersion) -> int:
    """`time_limits.warning_hours`: 预警 this many working hours before an hour limit."""
    value = _hour_settings(version).get("warning_hours", DEFAULT_WARNING_HOURS)
    return value if isinstance(value, int) else DEFAULT_WARNING_HOURS


def due_moment(
    version: BundleVersion,
    element: str,
    opened: datetime,
    calendar: WorkdayCalendar,
    tz: tzinfo,
) -> datetime | None:
    """When a task of `element` opened at `opened` is due, if its limit is in hours."""
    hours = task_hours(version, element)
    if hours is None:
        return None
    return add_work_hours(opened, hours, calendar, tz, office_hours(version)).value


def warning_moment(
    version: BundleVersion, due_at: datetime, calendar: WorkdayCalendar, tz: tzinfo
) -> datetime | None:
    """The 预警 moment of an hour limit: `warning_hours` working hours before it (None: 0)."""
    hours = warning_hours(version)
    if hours == 0:
        return None
    office = office_hours(version)
    return add_working_seconds(due_at, -hours * 3600, calendar, tz, office).value


def remaining_work_minutes(
    version: BundleVersion,
    due_at: datetime,
    now: datetime,
    calendar: WorkdayCalendar,
    tz: tzinfo,
) -> int:
    """Working minutes from `now` to `due_at` (whole ones), negative once past it."""
    office = office_hours(version)
    if now < due_at:
        return working_seconds(now, due_at, calendar, tz, office) // 60
    return -((working_seconds(due_at, now, calendar, tz, office) + 59) // 60)


def due_text(due_at: datetime, tz: tzinfo) -> str:
    """A due moment in local wall time, "2026-12-07 11:30"."""
    return due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def work_time_text(minutes: int) -> str:
    """ "1 个工作小时", "45 分钟", "2 个工作小时 30 分钟" (of working time)."""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        return f"{hours} 个工作小时 {rest} 分钟"
    return f"{hours} 个工作小时" if hours else f"{rest} 分钟"
