"""Working days (工作日) as the Administrative Licensing Law counts them, with China's holidays.

The usual calendar: ``WorkdayCalendar(*chinese_calendar_rules())``.
"""

from engine.calendar.model import SOURCE_ADMIN, SOURCE_PACKAGE, DayRule, WorkdayResult
from engine.calendar.seed import chinese_calendar_rules
from engine.calendar.workdays import WorkdayCalendar

__all__ = [
    "SOURCE_ADMIN",
    "SOURCE_PACKAGE",
    "DayRule",
    "WorkdayCalendar",
    "WorkdayResult",
    "chinese_calendar_rules",
]
