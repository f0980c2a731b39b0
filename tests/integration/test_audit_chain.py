"""The event log is append-only (the database refuses changes) and tamper-evident: a byte
changed by hand in an event, in the chain or in the stored case state is found, at its step."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine.domain.audit import Verdict, state_hash, verify_chain
from engine.services import Services, cases, publishing, queries
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, ISSUANCE, LICENCE_OK


def run_case(services: Services, users: dict[str, Any]) -> int:
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case = cases.complete(services, desk, case["tasks"][0]["id"], ACCEPT)
    by_element = {t["element"]: t["id"] for t in case["tasks"]}
    cases.complete(
        services, users["market_reviewer"].user, by_element["review_licence"], LICENCE_OK
    )
    case = cases.complete(services, users["food_reviewer"].user, by_element["review_food"], FOOD_OK)
    cases.complete(services, users["issuer"].user, case["tasks"][0]["id"], ISSUANCE)
    return int(case["id"])


def verdict(services: Services, case_id: int) -> Verdict:
    with services.uow() as uow:
        case = uow.cases.get(case_id)
        assert case is not None
        events = uow.cases.events(case_id)
    return verify_chain(
        case_id,
        events,
        state_hash(str(case.status), case.data, case.state),
        case.last_hash,
        case.last_seq,
    )


def tamper(services: Services, statement: str, **params: Any) -> None:
    """Change the database by hand, as an intruder with database access would."""
    with services.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
            conn.execute(text(statement), params)
            conn.exec_driver_sql("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER case_events_no_update")
            conn.execute(text(statement), params)


def test_the_database_refuses_to_change_or_delete_an_event(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = run_case(services, users)
    for statement in (
        "UPDATE case_events SET actor = 'x' WHERE case_id = :c",
        "DELETE FROM case_events WHERE case_id = :c",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with services.engine.begin() as conn:
                conn.execute(text(statement), {"c": case_id})
    assert verdict(services, case_id).verified


def test_an_intact_record_verifies(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = run_case(services, users)
    result = verdict(services, case_id)
    assert result.verified and result.steps == len(
        queries.events(services, users["auditor"].user, case_id)
    )


@pytest.mark.parametrize("where", ["data", "actor", "hash"])
def test_a_changed_event_is_found_at_its_step(
    services: Services, users: dict[str, Any], restaurant: Any, where: str
) -> None:
    case_id = run_case(services, users)
    if where == "data":  # one character of the submitted form at 受理
        tamper(
            services,
            "UPDATE case_events SET data = "
            + (
                "jsonb_set(data, '{form,intake_opinion}', '\"材料齐企\"')"
                if services.engine.dialect.name == "postgresql"
                else "json_set(data, '$.form.intake_opinion', '材料齐企')"
            )
            + " WHERE case_id = :c AND seq = 2",
            c=case_id,
        )
    elif where == "actor":
        tamper(
            services,
            "UPDATE case_events SET actor = 'someone' WHERE case_id = :c AND seq = 5",
            c=case_id,
        )
    else:  # rewrite a hash to cover a change: the next link breaks
        tamper(
            services,
            "UPDATE case_events SET hash = :h WHERE case_id = :c AND seq = 4",
            c=case_id,
            h="f" * 64,
        )
    result = verdict(services, case_id)
    assert not result.verified
    assert result.first_divergence == {"data": 2, "actor": 5, "hash": 4}[where]


def test_a_changed_case_state_is_found(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    case_id = run_case(services, users)
    with services.engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET state = REPLACE(state, :done, :ready) WHERE id = :c"),
            {"c": case_id, "done": '"state":64', "ready": '"state":16'},
        )
    result = verdict(services, case_id)
    assert not result.verified and "状态" in (result.reason or "")


def test_replay_re_executes_every_step_and_matches(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from engine.services.audit import replay

    case_id = run_case(services, users)
    result = replay(services, users["auditor"].user, case_id)
    assert result == {
        "case_id": case_id,
        "verified": True,
        "steps": len(queries.events(services, users["auditor"].user, case_id)),
    }


def test_the_state_after_any_step(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from engine.services.audit import state_at

    case_id = run_case(services, users)
    auditor = users["auditor"].user
    events = queries.events(services, auditor, case_id)
    first = state_at(services, auditor, case_id, 1)
    assert first["tasks"][0]["element"] == "intake" and "submitted" in first["completed"]
    assert first["active"] == ["intake"] and first["matches_record"]
    accepted = state_at(services, auditor, case_id, 2)
    assert {t["element"] for t in accepted["tasks"]} == {"review_licence", "review_food"}
    assert "intake" in accepted["completed"] and accepted["data"]["intake_decision"] == "accept"
    last = state_at(services, auditor, case_id, len(events))
    assert last["status"] == "completed" and last["tasks"] == [] and last["matches_record"]
    assert "joint_issuance" in last["completed"] and "concluded" in last["completed"]
    for seq in range(1, len(events) + 1):
        assert state_at(services, auditor, case_id, seq)["matches_record"], seq


def test_the_case_archive_exports(
    services: Services, users: dict[str, Any], restaurant: Any, client: Any
) -> None:
    from tests.e2e.test_openapi import assert_matches

    case_id = run_case(services, users)
    headers = users["auditor"].headers
    archive = assert_matches(
        client.get(f"/api/v1/cases/{case_id}/export", headers=headers),
        "/cases/{case_id}/export",
        "get",
    )
    assert archive["verification"] == {"verified": True, "steps": len(archive["events"])}
    step = client.get(f"/api/v1/cases/{case_id}/steps/2", headers=headers)
    assert assert_matches(step, "/cases/{case_id}/steps/{seq}", "get")["matches_record"]
    assert client.get(f"/api/v1/cases/{case_id}/steps/99", headers=headers).status_code == 404
    csv_text = client.get(f"/api/v1/cases/{case_id}/export?format=csv", headers=headers).get_data(
        as_text=True
    )
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert (
        lines[0]
        == "序号,时间,事件,办理人,环节,内容,事件类型代码,任务编号,环节编号,数据(JSON),哈希,状态哈希"
    )
    assert len(lines) == 1 + len(archive["events"]) and "材料齐全" in csv_text
    page = client.get(f"/api/v1/cases/{case_id}/export?format=html", headers=headers).get_data(
        as_text=True
    )
    assert "办件档案" in page and "与记录一致" in page
    assert (
        client.get(
            f"/api/v1/cases/{case_id}/export", headers=users["front_desk"].headers
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/cases/{case_id}/export?format=xml", headers=headers).status_code == 422
    )


def test_an_emptied_or_shortened_log_is_found(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    from engine.services.audit import replay

    case_id = run_case(services, users)
    with services.engine.begin() as conn:  # TRUNCATE passes the row triggers; a DBA could do it
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER case_events_no_delete")
        conn.execute(text("DELETE FROM case_events WHERE case_id = :c AND seq > 6"), {"c": case_id})
    result = replay(services, users["auditor"].user, case_id)
    assert not result["verified"] and result["first_divergence"] == 7 and "删除" in result["reason"]
    with services.engine.begin() as conn:
        conn.execute(text("DELETE FROM case_events WHERE case_id = :c"), {"c": case_id})
    assert not replay(services, users["auditor"].user, case_id)["verified"]


def test_very_large_numbers_in_form_data_hash_the_same_after_storage(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.bundles.source import from_upload
    from engine.services.audit import replay
    from tests.fixtures import bpmn

    publishing.deploy(services, from_upload("p.bpmn", bpmn.linear()), "test")
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "p", {"amount": 1e16, "tiny": 1.5e-7, "whole": 2.0})
    cases.complete(services, desk, case["tasks"][0]["id"], {"big": 3e20, "list": [1e17, 0.1]})
    assert replay(services, users["auditor"].user, case["id"])["verified"]
