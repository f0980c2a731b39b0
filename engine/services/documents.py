"""What printed documents (补正告知书, 受理通知书, 不予受理通知书, receipts, the case archive)
sign and date with: the clerk's display name and department, and the LOCAL date of the action.

An event's time is stored in UTC: 01:04 on 12-05 in Beijing is 17:04 on 12-04 UTC, so its ISO
text cut to ten characters dates a document a day early. Use `signed` (or `local_date`) instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.users import signature

if TYPE_CHECKING:
    from engine.persistence.unit_of_work import UnitOfWork

    from .context import Services


def local_date(svc: Services, at: datetime) -> str:
    """The local calendar date of a moment, "2026-12-05"."""
    return at.astimezone(svc.tz).date().isoformat()


def local_time(svc: Services, at: datetime) -> str:
    """The local wall time of a moment, "2026-12-05 01:04:00"."""
    return at.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M:%S")


def signatures(uow: UnitOfWork, names: Iterable[str]) -> dict[str, str]:
    """{login name: "张敏 (综合窗口)"} for every name given; a name that is no user's (the
    system, a removed account) stands for itself."""
    wanted = [n for n in dict.fromkeys(names) if n]
    found = uow.users.signatures(wanted)
    return {n: found.get(n, signature(n, None, None)) for n in wanted}


def signed(svc: Services, uow: UnitOfWork, actor: str, at: datetime) -> dict[str, Any]:
    """Who signs a document for an action and on which local date: `signed_by` ("张敏 (综合窗口)"),
    `signed_on` ("2026-12-05"), `signed_at` (local wall time)."""
    return {
        "signed_by": signatures(uow, [actor]).get(actor, actor),
        "signed_on": local_date(svc, at),
        "signed_at": local_time(svc, at),
    }


def signature_of(svc: Services, name: str) -> str:
    """One user's "张敏 (综合窗口)" (the name itself when it is no user's)."""
    with svc.uow() as uow:
        return signatures(uow, [name]).get(name, name)


def staff_signatures(svc: Services, names: Iterable[str]) -> dict[str, str]:
    """{login name: "张敏 (综合窗口)"} of the users among `names` (others left out: "system",
    "applicant" keep the words the page gives them)."""
    with svc.uow() as uow:
        return uow.users.signatures(names)
