"""A decision after an optional branch, through the API on SQLite and PostgreSQL: the gateway
after the exclusive join reads `get("tobacco_decision", "")`, so the case runs on the path that
skipped 烟草审批 as on the paths through it, and the audit's replay verifies each."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import accounts
from tests.fixtures import optional_branch as store
from tests.interop.harness import Interop


@pytest.fixture
def desk(interop: Interop) -> Interop:
    for group in ("tobacco", "issuance"):
        interop.clerk(group=group)
    upload = interop.accepted("store.zip", store.files())
    assert upload["warnings"] == [], upload
    return interop


def replay_verifies(desk: Interop, case_id: int) -> None:
    _, token = accounts.create_user(desk.services, f"auditor_{case_id}", "auditor", [])
    answer = desk.client.get(
        f"/api/v1/cases/{case_id}/replay", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


PATHS: dict[str, tuple[bool, str | None, list[str], str]] = {
    "no tobacco: the review skipped, the decision absent": (False, None, ["issue"], "end_issued"),
    "tobacco granted": (True, "grant", ["tobacco_review", "issue"], "end_issued"),
    "tobacco denied": (True, "deny", ["tobacco_review"], "end_denied"),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_decision_after_an_optional_branch_runs_on_every_path(desk: Interop, path: str) -> None:
    sells, decision, expected, end = PATHS[path]
    case = desk.start("store", {"shop_name": "街角便利店", "sells_tobacco": sells})
    answers: dict[str, Any] = {
        "tobacco_review": {"tobacco_decision": decision},
        "issue": {"licence_number": "JY-0001"},
    }
    assert desk.run_to_end(case, answers) == expected
    view = desk.case(case["id"])
    assert view["status"] == "completed" and view["outcome"]["element"] == end
    assert ("tobacco_decision" in view["data"]) == sells
    replay_verifies(desk, case["id"])
