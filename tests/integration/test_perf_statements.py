"""The fewer statements a step sends (issue 6, "Persistence and HTTP") change no answer.

A step now finds and locks its case through the task and reads the case's open tasks (the
completed task among them) in one statement, inserts the tasks it opens in one statement per
table, and reads a rating only for a completed case; a token is recognised with one statement
(the user joined to their groups). These tests compare each step's answer with a fresh read of
the same case, and check that tokens and group changes still take effect at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from engine.errors import Conflict, NotFound, Unauthorized
from engine.services import Services, accounts, cases, queries
from engine.services.accounts import reissue_token, set_groups
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, ISSUANCE, LICENCE_OK


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL statements sent inside the block (BEGIN, COMMIT and savepoints left out)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            sent.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(services.engine, "before_cursor_execute", record)


def _task(view: dict[str, Any], element: str) -> str:
    [task_id] = [t["id"] for t in view["tasks"] if t["element"] == element]
    return str(task_id)


def _same_as_a_fresh_read(services: Services, user: Any, view: dict[str, Any]) -> None:
    fresh = queries.get_case(services, user, view["id"])
    assert view == fresh


def test_each_step_answers_as_a_fresh_read_of_the_case(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    front, food, market, issuer = (
        users[n].user for n in ("front_desk", "food_reviewer", "market_reviewer", "issuer")
    )
    case = cases.start_case(services, front, "restaurant", APPLICATION)
    case.pop("access_code")
    _same_as_a_fresh_read(services, front, case)
    # 受理 opens both parallel reviews at once (inserted together)
    case = cases.complete(services, front, _task(case, "intake"), ACCEPT)
    assert sorted(t["element"] for t in case["tasks"]) == ["review_food", "review_licence"]
    _same_as_a_fresh_read(services, front, case)
    # one review done: the other stays open, as stored
    with statements(services) as sent:
        case = cases.complete(services, food, _task(case, "review_food"), FOOD_OK)
    assert [t["element"] for t in case["tasks"]] == ["review_licence"]
    _same_as_a_fresh_read(services, front, case)
    # the case row found through the task and locked, with its open tasks and whether it has
    # certificates (it has none, so they are not read); the task's and its group rows' update,
    # the case update, its event: 5 (it was 10)
    assert len(sent) == 5, sent
    case = cases.complete(services, market, _task(case, "review_licence"), LICENCE_OK)
    _same_as_a_fresh_read(services, front, case)
    with statements(services) as sent:
        case = cases.complete(services, issuer, _task(case, "joint_issuance"), {**ISSUANCE})
    assert case["status"] == "completed" and case["tasks"] == [] and case["rating"] is None
    assert len(case["certificates"]) == 2
    # 统一发证: both certificate numbers checked in one query and inserted in one statement,
    # every renewal reminder and time-limit job in one INSERT ... ON CONFLICT DO NOTHING (it
    # was a read, a savepoint, an insert and its release per job): 9 statements (it was 20)
    assert sum("INSERT INTO certificates" in s for s in sent) == 1, sent
    assert sum("jobs" in s for s in sent) == 1, sent
    assert len(sent) == 9, sent
    _same_as_a_fresh_read(services, front, case)


def test_a_rating_is_still_shown_once_the_case_is_rated(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    front, food, market, issuer = (
        users[n].user for n in ("front_desk", "food_reviewer", "market_reviewer", "issuer")
    )
    case = cases.start_case(services, front, "restaurant", APPLICATION)
    code = case["access_code"]
    case = cases.complete(services, front, _task(case, "intake"), ACCEPT)
    case = cases.complete(services, food, _task(case, "review_food"), FOOD_OK)
    case = cases.complete(services, market, _task(case, "review_licence"), LICENCE_OK)
    case = cases.complete(services, issuer, _task(case, "joint_issuance"), {**ISSUANCE})
    from engine.services import follow_ups

    follow_ups.rate(services, case["id"], 5, "很好", code=code)
    rating = queries.get_case(services, front, case["id"])["rating"]
    assert rating is not None and rating["level"] == 5


def test_completing_a_task_that_is_no_longer_open_is_still_refused(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    front = users["front_desk"].user
    case = cases.start_case(services, front, "restaurant", APPLICATION)
    intake = _task(case, "intake")
    cases.complete(services, front, intake, ACCEPT)
    with pytest.raises(Conflict, match="任务已办结"):
        cases.complete(services, front, intake, ACCEPT)
    with pytest.raises(NotFound):
        cases.complete(services, front, "no-such-task", ACCEPT)


def test_a_token_is_one_statement_and_changes_take_effect_at_once(services: Services) -> None:
    _, loner_token = accounts.create_user(services, "无组", "auditor", [])
    _, token = accounts.create_user(services, "两组", "clerk", ["issuance", "inspection"])
    with statements(services) as sent:
        found = accounts.authenticate(services, token)
    assert len(sent) == 1
    assert found.name == "两组" and found.groups == frozenset({"issuance", "inspection"})
    assert (
        accounts.authenticate(services, loner_token).groups == frozenset()
    )  # no group: still found
    set_groups(services, "两组", ["front_desk"])
    assert accounts.authenticate(services, token).groups == frozenset({"front_desk"})
    set_groups(services, "两组", [])
    assert accounts.authenticate(services, token).groups == frozenset()
    new = reissue_token(services, "两组")
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, token)
    assert accounts.authenticate(services, new).name == "两组"
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, "not-a-token")
