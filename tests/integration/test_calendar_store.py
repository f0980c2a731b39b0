"""The stored calendar: seeded once, edited by admins with every change recorded, shared by
every process through its change counter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.errors import Forbidden
from engine.persistence.db import make_engine
from engine.services import Services, calendar
from engine.services.calendar_cache import CalendarCache


def test_seeding_is_idempotent_and_covers_the_package_years(services: Services) -> None:
    assert calendar.seed(services) == []
    view = calendar.calendar_view(services, 2026)
    assert view["known"] and view["known_years"][0] == 2004
    names = {d["day"]: d["name"] for d in view["days"]}
    assert names["2026-10-01"] == "国庆节" and names["2026-10-10"] == "国庆节调休"
    assert calendar.add_workdays(services, date(2026, 9, 28), 5).value == date(2026, 10, 10)


def test_admin_changes_apply_everywhere_and_are_recorded(
    services: Services, users: dict[str, Any], db_url: str
) -> None:
    other_engine = make_engine(db_url)
    other = Services(other_engine)  # another process's view of the same database
    other.calendars = CalendarCache(recheck=0)  # (it looks again at most once a second)
    try:
        assert calendar.add_workdays(other, date(2026, 6, 1), 1).value == date(2026, 6, 2)
        with pytest.raises(Forbidden):
            calendar.set_day(services, users["front_desk"].user, date(2026, 6, 2), False, "x")
        calendar.set_day(services, users["admin"].user, date(2026, 6, 2), False, "防汛停工")
        assert calendar.add_workdays(other, date(2026, 6, 1), 1).value == date(2026, 6, 3)
        calendar.set_day(services, users["admin"].user, date(2026, 6, 6), True, "调休上班")
        assert calendar.add_workdays(other, date(2026, 6, 5), 1).value == date(2026, 6, 6)
        assert calendar.remove_day(services, users["admin"].user, date(2026, 6, 2))
        assert calendar.add_workdays(other, date(2026, 6, 1), 1).value == date(2026, 6, 2)
    finally:
        other_engine.dispose()
    with services.uow() as uow:
        changes = uow.calendar.changes()
    assert [(c["action"], c["day"], c["actor"]) for c in changes[:3]] == [
        ("remove", "2026-06-02", "admin"),
        ("set", "2026-06-06", "admin"),
        ("set", "2026-06-02", "admin"),
    ]
    assert changes[2]["after"] == {"workday": False, "name": "防汛停工", "source": "admin"}


def test_a_new_year_is_provisional_until_published(
    services: Services, users: dict[str, Any]
) -> None:
    result = calendar.add_workdays(services, date(2026, 12, 28), 10)
    assert result.provisional
    admin = users["admin"].user
    calendar.set_day(services, admin, date(2027, 1, 1), False, "元旦")
    assert calendar.add_workdays(services, date(2026, 12, 31), 1).value == date(2027, 1, 4)
    assert calendar.add_workdays(services, date(2026, 12, 31), 1).provisional
    assert calendar.publish_year(services, admin, 2027)
    assert not calendar.add_workdays(services, date(2026, 12, 31), 1).provisional
    assert calendar.add_workdays(services, date(2027, 12, 30), 2).provisional  # 2028 unknown


def test_the_calendar_api(client: Any, users: dict[str, Any]) -> None:
    admin, clerk = users["admin"].headers, users["front_desk"].headers
    got = client.get("/api/v1/calendar/add?start=2026-09-28&n=5", headers=clerk).json
    assert got == {"start": "2026-09-28", "n": 5, "date": "2026-10-10", "provisional": False}
    assert client.get("/api/v1/calendar/add?start=2026-13-01&n=5", headers=clerk).status_code == 422
    assert (
        client.put(
            "/api/v1/calendar/days/2026-06-02", headers=clerk, json={"workday": False, "name": "x"}
        ).status_code
        == 403
    )
    put = client.put(
        "/api/v1/calendar/days/2026-06-02", headers=admin, json={"workday": False, "name": "停工"}
    )
    assert put.status_code == 200 and put.json["before"] is None
    year = client.get("/api/v1/calendar/2026", headers=clerk).json
    assert {"day": "2026-06-02", "workday": False, "name": "停工", "source": "admin"} in year[
        "days"
    ]
    assert client.delete("/api/v1/calendar/days/2026-06-02", headers=admin).json == {
        "removed": True
    }
    assert client.get("/api/v1/calendar/changes", headers=clerk).status_code == 403
    assert (
        len(
            client.get("/api/v1/calendar/changes", headers=users["auditor"].headers).json["changes"]
        )
        == 3
    )
    assert client.post("/api/v1/calendar/years/2029", headers=admin).status_code == 422
