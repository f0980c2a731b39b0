"""Keeping a case's workflow in memory between its steps (`LiveWorkflows`) changes nothing.

Every restaurant path is run twice on two identical SQLite databases with the same clock: once
rebuilding the workflow from its stored state at every step (the cache off) and once continuing
the workflow kept from the step before. Every step's answer, stored state and event hashes must
be the same. A step taken by another process in between, and a step that fails, make the next
step rebuild the workflow from its state, and the case still verifies by re-execution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.bundles.source import from_path, from_upload
from engine.errors import Invalid
from engine.persistence.db import make_engine
from engine.persistence.schema import upgrade
from engine.persistence.tables import case_events
from engine.persistence.tables import cases as case_rows
from engine.services import Services, accounts, audit, calendar, cases, publishing
from tests.conftest import CLERKS, FORMS, PROCESSES
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, LICENCE_OK, PATHS
from tests.integration.test_cases import clerk_for, task_of


def _services(path: Path, clock: FakeClock, live: bool) -> tuple[Services, dict[str, Any]]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    svc = Services(engine, FORMS, clock=clock)
    if not live:
        svc.live.size = 0
    calendar.seed(svc)
    users = {
        name: accounts.create_user(svc, name, "clerk", groups)[0] for name, groups in CLERKS.items()
    }
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")
    return svc, users


def _stored(svc: Services, case_id: int) -> tuple[str, str, list[str]]:
    with svc.engine.connect() as conn:
        state, last_hash = conn.execute(
            select(case_rows.c.state, case_rows.c.last_hash).where(case_rows.c.id == case_id)
        ).one()
        hashes = conn.execute(
            select(case_events.c.state_hash)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.seq)
        ).scalars()
        return state, last_hash, list(hashes)


def _run(svc: Services, users: dict[str, Any], clock: FakeClock, path: str) -> list[Any]:
    steps, _ = PATHS[path]
    view = cases.start_case(svc, users["front_desk"], "restaurant", APPLICATION)
    view.pop("access_code")  # random by design
    seen = [(view, _stored(svc, view["id"]))]
    for element, form in steps:
        clock.advance(hours=3)
        view = cases.complete(
            svc, users[clerk_for(users, element)], task_of(view, element)["id"], form
        )
        seen.append((view, _stored(svc, view["id"])))
    return seen


@pytest.mark.parametrize("path", sorted(PATHS))
def test_continuing_in_memory_gives_the_same_steps_as_rebuilding(tmp_path: Path, path: str) -> None:
    runs = []
    for live in (False, True):
        clock = FakeClock()
        svc, users = _services(tmp_path / f"{live}.db", clock, live)
        try:
            runs.append((_run(svc, users, clock, path), svc.live.hits, len(svc.live._items)))
        finally:
            svc.engine.dispose()
    (rebuilt, rebuilt_hits, _), (continued, continued_hits, kept) = runs
    assert rebuilt_hits == 0
    assert continued_hits == len(PATHS[path][0])  # every step after the start continued
    assert kept == 0  # the case concluded: its workflow was not kept
    assert len(rebuilt) == len(continued)
    for step, (a, b) in enumerate(zip(rebuilt, continued, strict=True)):
        assert a == b, f"step {step} of {path}"


def test_a_step_taken_by_another_process_means_rebuilding_from_the_state(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    desk, food, market = (users[n].user for n in ("front_desk", "food_reviewer", "market_reviewer"))
    # another process: its own caches, the same database
    other = Services(services.engine, FORMS)
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case = cases.complete(other, desk, task_of(case, "intake")["id"], ACCEPT)
    before = services.live.hits
    # this process kept the workflow of the start: the stored state moved on, so it is not used
    case = cases.complete(services, food, task_of(case, "review_food")["id"], FOOD_OK)
    assert services.live.hits == before
    # a refused form leaves the kept workflow where it was: the next step continues it
    with pytest.raises(Invalid):
        cases.complete(
            services, market, task_of(case, "review_licence")["id"], {"licence_approved": 3}
        )
    case = cases.complete(services, market, task_of(case, "review_licence")["id"], LICENCE_OK)
    assert services.live.hits == before + 1
    assert [t["element"] for t in case["tasks"]] == ["joint_issuance"]
    assert audit.replay(services, None, case["id"])["verified"]


FAILS_ON_SECOND_STEP = bpmn.document("""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a" />
  <bpmn:userTask id="a" name="一" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="g" />
  <bpmn:exclusiveGateway id="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="b">
    <bpmn:conditionExpression>n &gt; 1</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="b">
    <bpmn:conditionExpression>n &lt; 1</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:userTask id="b" name="二" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="e" /><bpmn:endEvent id="e" />
""")


def test_a_step_the_engine_refuses_does_not_leave_a_moved_workflow_behind(
    services: Services, users: dict[str, Any]
) -> None:
    publishing.deploy(services, from_upload("fails.bpmn", FAILS_ON_SECOND_STEP), "test")
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "p", {})
    task = case["tasks"][0]["id"]
    # n = 1 matches no flow: the engine refuses the step after completing the task in memory
    # (422, the case as it was: engine/bpmn/step_errors.py); the clerk submits another value
    with pytest.raises(Invalid):
        cases.complete(services, desk, task, {"n": 1})
    hits = services.live.hits
    case = cases.complete(services, desk, task, {"n": 2})
    assert services.live.hits == hits  # rebuilt from the stored state, not the moved workflow
    assert [t["element"] for t in case["tasks"]] == ["b"]
    assert audit.replay(services, None, case["id"])["verified"]
