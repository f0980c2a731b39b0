"""Compaction through the services: a 补正 loop far past SpiffWorkflow's depth limit keeps
working, stays small, ends correctly and still verifies by re-execution; cases recorded before
compaction existed still verify after they continue under it."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bpmn.case_workflow import CaseWorkflow
from engine.bpmn.serializer import LEGACY_STATE_FORMAT, STATE_FORMAT
from engine.services import Services, audit, cases
from tests.fixtures.restaurant import (
    ACCEPT,
    APPLICATION,
    CORRECT,
    CORRECTED,
    FOOD_OK,
    ISSUANCE,
    LICENCE_OK,
)


def correction_rounds(services: Services, clerk: Any, case: dict[str, Any], rounds: int) -> Any:
    sizes = []
    for _ in range(rounds):
        for expected, form in (("intake", CORRECT), ("correction", CORRECTED)):
            [task] = case["tasks"]
            assert task["element"] == expected
            assert case["status"] == "running"
            case = cases.complete(services, clerk, task["id"], form)
            sizes.append(len(stored_state(services, case["id"])))
    return case, sizes


def finish(services: Services, users: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    desk = users["front_desk"].user
    case = cases.complete(services, desk, case["tasks"][0]["id"], ACCEPT)
    by_element = {t["element"]: t["id"] for t in case["tasks"]}
    cases.complete(
        services, users["market_reviewer"].user, by_element["review_licence"], LICENCE_OK
    )
    case = cases.complete(services, users["food_reviewer"].user, by_element["review_food"], FOOD_OK)
    assert case["status"] == "running"
    return cases.complete(services, users["issuer"].user, case["tasks"][0]["id"], ISSUANCE)


def stored_state(services: Services, case_id: int) -> str:
    with services.uow() as uow:
        case = uow.cases.get(case_id)
        assert case is not None
        return case.state


def test_a_long_correction_loop_keeps_working_and_verifies(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """260 rounds = 520 steps: uncompacted, the engine refused the 500th step."""
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case, sizes = correction_rounds(services, desk, case, 260)
    assert max(sizes[50:]) <= max(sizes[:50])  # the stored state does not grow
    assert f'"format":"{STATE_FORMAT}"' in stored_state(services, case["id"])
    case = finish(services, users, case)
    assert case["status"] == "completed"
    assert case["outcome"] == {"element": "concluded", "name": "办结"}
    result = audit.replay(services, None, case["id"])
    assert result["verified"] is True, result
    steps = result["steps"]
    assert steps > 520
    # the audit's view of an early step still knows what had run and what was open then
    auditor = users["auditor"].user
    early = audit.state_at(services, auditor, case["id"], 2)
    assert early["matches_record"] is True
    assert [t["element"] for t in early["tasks"]] == ["correction"]
    assert "submitted" in early["completed"] and "intake" in early["completed"]
    late = audit.state_at(services, auditor, case["id"], steps)
    assert late["matches_record"] is True and late["status"] == "completed"
    assert {"submitted", "intake", "correction", "acceptance_gateway", "concluded"} <= set(
        late["completed"]
    )


def test_replay_finds_a_changed_state_in_a_compacted_case(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case, _ = correction_rounds(services, desk, case, 5)
    assert audit.replay(services, None, case["id"])["verified"] is True
    with services.engine.begin() as conn:
        from sqlalchemy import text

        state = stored_state(services, case["id"])
        forged = state.replace('"completed_elements":[', '"completed_elements":["refused",', 1)
        assert forged != state
        conn.execute(
            text("UPDATE cases SET state = :s WHERE id = :c"), {"s": forged, "c": case["id"]}
        )
    assert audit.replay(services, None, case["id"])["verified"] is False


def test_a_case_recorded_before_compaction_still_verifies_after_continuing(
    services: Services, users: dict[str, Any], restaurant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps stored by the engine before compaction (the whole tree, the older format) and
    steps after it, in one case: re-execution checks each against the form it was stored in."""
    desk = users["front_desk"].user
    with monkeypatch.context() as old_engine:
        old_engine.setattr(CaseWorkflow, "dump", CaseWorkflow.legacy_dump)
        case = cases.start_case(services, desk, "restaurant", APPLICATION)
        case, _ = correction_rounds(services, desk, case, 3)
        assert f'"format":"{LEGACY_STATE_FORMAT}"' in stored_state(services, case["id"])
        assert audit.replay(services, None, case["id"])["verified"] is True
    case, _ = correction_rounds(services, desk, case, 3)
    assert f'"format":"{STATE_FORMAT}"' in stored_state(services, case["id"])
    case = finish(services, users, case)
    result = audit.replay(services, None, case["id"])
    assert result["verified"] is True, result
    middle = audit.state_at(services, users["auditor"].user, case["id"], 4)
    assert middle["matches_record"] is True
