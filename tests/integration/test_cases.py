"""Cases through the service layer, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.bundles.source import from_path, from_upload
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.persistence.tables import case_events
from engine.persistence.tables import cases as case_rows
from engine.services import Services, cases, publishing, queries
from engine.services.audit import replay
from tests.conftest import PROCESSES
from tests.fixtures import bpmn
from tests.fixtures.concurrency import simultaneously
from tests.fixtures.restaurant import APPLICATION, CLERK_OF, PATHS, REFUSE


def task_of(view: dict[str, Any], element: str) -> dict[str, Any]:
    found = [t for t in view["tasks"] if t["element"] == element]
    assert found, f"{element} is not open: {[t['element'] for t in view['tasks']]}"
    return found[0]


def clerk_for(users: dict[str, Any], element: str) -> Any:
    return CLERK_OF[element]


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_restaurant_path(
    services: Services, users: dict[str, Any], restaurant: Any, path: str
) -> None:
    steps, end = PATHS[path]
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    assert view["status"] == "running" and view["version"] == 1
    for element, form in steps:
        clerk = users[clerk_for(users, element)].user
        task = task_of(view, element)
        assert clerk.groups & set(task["groups"])
        view = cases.complete(services, clerk, task["id"], form)
        for key, value in form.items():
            assert view["data"][key] == value
    assert view["status"] == "completed"
    assert view["outcome"]["element"] == end
    assert replay(services, users["auditor"].user, view["id"])["verified"]  # issue 4
    assert view["tasks"] == []
    events = queries.events(services, users["auditor"].user, view["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "case_started" and events[-1]["type"] == "case_completed"
    completed = [e for e in events if e["type"] == "task_completed"]
    assert [(e["element"], e["data"]["form"]) for e in completed] == [(el, f) for el, f in steps]


def test_worklists_follow_groups_and_claims(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    intake = task_of(view, "intake")
    assert [t["id"] for t in queries.worklist(services, users["front_desk"].user)["tasks"]] == [
        intake["id"]
    ]
    assert queries.worklist(services, users["food_reviewer"].user)["tasks"] == []
    with pytest.raises(Forbidden):
        cases.claim(services, users["food_reviewer"].user, intake["id"])
    claimed = cases.claim(services, users["front_desk"].user, intake["id"])
    assert claimed["assignee"] == "front_desk"
    with pytest.raises(Conflict):
        cases.claim(services, users["other_clerk"].user, intake["id"])
    with pytest.raises(Forbidden):
        cases.complete(
            services, users["other_clerk"].user, intake["id"], PATHS["refused_at_intake"][0][0][1]
        )
    cases.unclaim(services, users["front_desk"].user, intake["id"])
    view = cases.complete(
        services, users["other_clerk"].user, intake["id"], {"intake_decision": "accept"}
    )
    elements = {t["element"] for t in view["tasks"]}
    assert elements == {"review_licence", "review_food"}
    assert [
        t["element"] for t in queries.worklist(services, users["food_reviewer"].user)["tasks"]
    ] == ["review_food"]
    types = [e["type"] for e in queries.events(services, users["admin"].user, view["id"])]
    # accepting (受理) starts the clock of the bundle's time limit
    assert types == [
        "case_started",
        "task_claimed",
        "task_unclaimed",
        "task_completed",
        "clock_started",
    ]


def _counts(services: Services, case_id: int) -> tuple[Any, ...]:
    with services.engine.connect() as conn:
        row = conn.execute(
            select(case_rows.c.revision, case_rows.c.state, case_rows.c.data).where(
                case_rows.c.id == case_id
            )
        ).one()
        events = conn.execute(select(func.count()).where(case_events.c.case_id == case_id)).scalar()
    return (row.revision, row.state, row.data, events)


def test_a_failed_step_leaves_the_case_exactly_as_it_was(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    intake = task_of(view, "intake")
    before = _counts(services, view["id"])
    with pytest.raises(Invalid) as err:
        cases.complete(
            services, users["front_desk"].user, intake["id"], {"intake_decision": "maybe"}
        )
    assert err.value.errors[0]["field"] == "intake_decision"
    with pytest.raises(Invalid) as err:
        cases.complete(services, users["front_desk"].user, intake["id"], {})
    assert err.value.errors[0]["message"] == "必填"
    assert _counts(services, view["id"]) == before


def test_start_data_is_checked_against_the_start_form(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    with pytest.raises(Invalid) as err:
        cases.start_case(
            services,
            users["front_desk"].user,
            "restaurant",
            {**APPLICATION, "contact_phone": "123"},
        )
    assert [e["field"] for e in err.value.errors] == ["contact_phone"]
    with pytest.raises(NotFound):
        cases.start_case(services, users["front_desk"].user, "no-such-bundle", {})
    with pytest.raises(Forbidden):
        cases.start_case(services, users["designer"].user, "restaurant", APPLICATION)


def test_running_cases_stay_on_their_version(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    old = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    source = from_path(PROCESSES / "restaurant")
    name = next(p for p in source.files if p.endswith(".bpmn"))
    source.files[name] = source.files[name].replace("一窗受理".encode(), "综合窗口受理".encode())
    assert publishing.deploy(services, source, users["designer"].user)["version"] == 2
    new = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    assert (old["version"], new["version"]) == (1, 2)
    assert task_of(new, "intake")["name"] == "综合窗口受理"
    view = cases.complete(services, users["front_desk"].user, task_of(old, "intake")["id"], REFUSE)
    assert view["version"] == 1 and view["status"] == "completed"


def test_a_step_never_reparses_bpmn(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    services.runtimes.loads = 0
    for _ in range(3):
        view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
        cases.complete(
            services,
            users["front_desk"].user,
            task_of(view, "intake")["id"],
            {"intake_decision": "accept"},
        )
    assert services.runtimes.loads <= 1


def test_cancel_withdraws_every_open_task(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    view = cases.complete(
        services,
        users["front_desk"].user,
        task_of(view, "intake")["id"],
        {"intake_decision": "accept"},
    )
    licence = task_of(view, "review_licence")
    view = cases.cancel(services, users["front_desk"].user, view["id"], "申请人撤回")
    assert view["status"] == "cancelled" and view["tasks"] == []
    with pytest.raises(Conflict):
        cases.complete(
            services, users["market_reviewer"].user, licence["id"], {"licence_approved": True}
        )
    assert queries.worklist(services, users["market_reviewer"].user)["tasks"] == []


def test_a_completed_task_cannot_be_completed_again(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    intake = task_of(view, "intake")
    cases.complete(services, users["front_desk"].user, intake["id"], {"intake_decision": "accept"})
    with pytest.raises(Conflict):
        cases.complete(
            services, users["front_desk"].user, intake["id"], {"intake_decision": "accept"}
        )


def test_parallel_completions_at_the_same_moment_both_land(
    services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(
        services, from_upload("parallel.bpmn", bpmn.parallel()), users["designer"].user
    )
    market, food = users["market_reviewer"].user, users["food_reviewer"].user
    for _ in range(5):
        view = cases.start_case(
            services, users["front_desk"].user, "parallel", {"applicant": "李四"}
        )
        a, b = task_of(view, "a"), task_of(view, "b")
        results = simultaneously(
            lambda a=a: cases.complete(services, market, a["id"], {"a_ok": True}),
            lambda b=b: cases.complete(services, food, b["id"], {"b_ok": True}),
        )
        assert all(isinstance(r, dict) for r in results), results
        final = queries.get_case(services, users["auditor"].user, view["id"])
        assert final["status"] == "completed"
        assert final["data"] == {"applicant": "李四", "a_ok": True, "b_ok": True}
        types = [e["type"] for e in queries.events(services, users["auditor"].user, view["id"])]
        assert types.count("task_completed") == 2
