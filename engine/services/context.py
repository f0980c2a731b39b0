"""The services object: shared state (database, caches, clock) and the use cases on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from engine import config
from engine.bundles.compiler import FormLibrary
from engine.domain.throttle import Limits
from engine.domain.users import User
from engine.forms import InputLimits
from engine.notifications import Sender, sender_from_environment
from engine.persistence.db import Database
from engine.persistence.unit_of_work import UnitOfWork

from . import bundles, cases, queries, users
from .calendar import CalendarCache
from .runtimes import LiveWorkflows, RuntimeCache

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Services:
    """The engine's public face; every method is one use case."""

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

    # users
    def create_user(self, name: str, role: str, groups: list[str]) -> tuple[User, str]:
        return users.create_user(self, name, role, groups)

    def authenticate(self, token: str | None) -> User:
        return users.authenticate(self, token)

    # bundles
    def deploy(
        self, source: Any, actor: User | str, skip_unchanged: bool = False, replace: bool = False
    ) -> dict[str, Any]:
        return bundles.deploy(self, source, actor, skip_unchanged, replace)

    def list_bundles(self, actor: User) -> list[dict[str, Any]]:
        return bundles.list_bundles(self, actor)

    def bundle_detail(self, actor: User, key: str, version: int | None = None) -> dict[str, Any]:
        return bundles.bundle_detail(self, actor, key, version)

    # cases
    def start_case(self, actor: User, bundle_key: Any, data: Any) -> dict[str, Any]:
        return cases.start_case(self, actor, bundle_key, data)

    def claim(self, actor: User, task_id: str) -> dict[str, Any]:
        return cases.claim(self, actor, task_id)

    def unclaim(self, actor: User, task_id: str) -> dict[str, Any]:
        return cases.unclaim(self, actor, task_id)

    def complete(self, actor: User, task_id: str, data: Any) -> dict[str, Any]:
        return cases.complete(self, actor, task_id, data)

    def renew(self, actor: User, number: str) -> dict[str, Any]:
        return cases.renew(self, actor, number)

    def cancel_case(self, actor: User, case_id: int, reason: Any) -> dict[str, Any]:
        return cases.cancel(self, actor, case_id, reason)

    # queries
    def get_case(self, actor: User, case_id: int) -> dict[str, Any]:
        return queries.get_case(self, actor, case_id)

    def get_task(self, actor: User, task_id: str) -> dict[str, Any]:
        return queries.get_task(self, actor, task_id)

    def worklist(self, actor: User, limit: int = 50, after: str | None = None) -> dict[str, Any]:
        return queries.worklist(self, actor, limit, after)

    def events(self, actor: User, case_id: int) -> list[dict[str, Any]]:
        return queries.events(self, actor, case_id)
