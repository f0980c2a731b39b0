"""Working days (工作日) as the Administrative Licensing Law counts them, with China's holidays.

The usual calendar: ``with_statutory_holidays(*chinese_calendar_rules())``: the published
years, and after them the holidays the 全国年节及纪念日放假办法 fixes (provisional all the same).
"""

from engine.calendar.model import (
    SOURCE_ADMIN,
    SOURCE_PACKAGE,
    SOURCE_STATUTORY,
    DayRule,
    WorkdayResult,
)
from engine.calendar.seed import chinese_calendar_rules
from engine.calendar.statutory import LUNAR_YEARS, statutory_rules, with_statutory_holidays
from engine.calendar.workdays import WorkdayCalendar

__all__ = [
    "SOURCE_ADMIN",
    "SOURCE_PACKAGE",
    "SOURCE_STATUTORY",
    "LUNAR_YEARS",
    "DayRule",
    "WorkdayCalendar",
    "WorkdayResult",
    "chinese_calendar_rules",
    "statutory_rules",
    "with_statutory_holidays",
]
