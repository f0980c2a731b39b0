"""What every use case shares (`Services`: the database, the clock and time zone, the caches, the
sender) and what every part of one engine step shares (`Step`).

`Services` holds state only. The use cases are functions in the modules beside this one, each
taking the `Services` first: `cases.complete(services, actor, task_id, data)`. An entry point
(a web route, a CLI command, a test) calls them directly; nothing here imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path

from engine import config
from engine.bpmn.case_workflow import CaseWorkflow
from engine.bundles.compiler import FormLibrary
from engine.calendar import WorkdayCalendar
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import Case
from engine.domain.throttle import Limits
from engine.forms import InputLimits
from engine.notifications import Sender, sender_from_environment
from engine.persistence.db import Database
from engine.persistence.unit_of_work import UnitOfWork

from .calendar_cache import CalendarCache
from .runtimes import LiveWorkflows, RuntimeCache

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Services:
    """The state the use cases share; one per process (the web app and the CLI each build one)."""

    def __init__(
        self,
        engine: Database,
        forms_dir: Path | None = None,
        clock: Clock = utc_now,
        tz: tzinfo | None = None,
        sender: Sender | None = None,
        limits: InputLimits | None = None,
        secret_key: str | None = None,
        throttle_limits: Limits | None = None,
    ) -> None:
        self.engine = engine
        # Keys the receipt codes' hashes (engine.domain.access_codes); never in the database.
        self.secret_key = secret_key or config.secret_key()
        # How many failed sign-ins and receipt codes are tolerated (engine.domain.throttle).
        self.throttle_limits = throttle_limits or config.throttle_limits()
        self.forms = FormLibrary(forms_dir)
        self.clock = clock
        self.tz = tz or config.timezone()
        self.sender: Sender = sender or sender_from_environment()
        # what any submitted value may be at most (engine/forms/limits.py)
        self.limits = limits or InputLimits.from_environment()
        self.runtimes = RuntimeCache()
        self.live = LiveWorkflows()
        self.calendars = CalendarCache()

    def today(self, now: datetime | None = None) -> date:
        """The local calendar day (working days are counted in local days)."""
        return (now or self.clock()).astimezone(self.tz).date()

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def uow(self, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, write=write)


@dataclass(frozen=True, slots=True)
class Step:
    """A case's step in its transaction, once the engine has moved: built once by the use case
    (start, complete, a timer firing) and handed to each part that records it (`record_step`,
    the task table, the case clock, certificates). `calendar` and `today` are read when it is
    built."""

    svc: Services
    uow: UnitOfWork
    case: Case
    version: BundleVersion
    workflow: CaseWorkflow
    actor: str  # who the step's event is recorded for
    now: datetime
    calendar: WorkdayCalendar = field(init=False)
    today: date = field(init=False)  # the local day of `now`

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", self.svc.calendars.get(self.uow))
        object.__setattr__(self, "today", self.svc.today(self.now))
