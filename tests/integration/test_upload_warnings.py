"""An upload with warnings is stored and answers them (the rules' warnings and each group
nobody belongs to); the shipped restaurant bundle has none once its groups have members. Both
databases."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bundles.source import from_path, from_upload
from engine.errors import Forbidden
from engine.services import Services, accounts, catalogue, publishing
from tests.conftest import PROCESSES
from tests.fixtures import bpmn


def test_an_upload_with_warnings_is_stored_and_returns_them(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    upload = bpmn.decision("approved == True").replace(
        b'camunda:candidateGroups="front_desk"', b'camunda:candidateGroups="nobody_here"'
    )
    done = publishing.deploy(services, from_upload("d.bpmn", upload), designer)
    assert done["version"] == 1
    assert catalogue.bundle_detail(services, designer, "p")["version"] == 1  # stored
    by_element = {w["element"]: w for w in done["warnings"]}
    assert set(by_element) == {"yes", "task"}
    assert "`approved`" in by_element["yes"]["message"]
    assert by_element["yes"]["file"] == "d.bpmn" and by_element["yes"]["line"]
    group = by_element["task"]["message"]
    assert "办理组 'nobody_here' 还没有任何成员" in group
    assert "lianban user groups" in group and "用户与分组" in group
    assert all(set(w) == {"message", "element", "line", "file"} for w in done["warnings"])


def test_a_group_warning_goes_once_the_group_has_a_member(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    upload = bpmn.linear('camunda:candidateGroups="drug_review"')
    first = publishing.deploy(services, from_upload("l.bpmn", upload), designer)
    assert [w["element"] for w in first["warnings"]] == ["task"]
    accounts.create_user(services, "pharmacist", "clerk", ["drug_review"])
    again = publishing.deploy(
        services, from_upload("l.bpmn", upload), designer, skip_unchanged=True
    )
    assert again["unchanged"] and again["warnings"] == []


def test_the_restaurant_bundle_deploys_without_warnings(
    services: Services, users: dict[str, Any]
) -> None:
    accounts.create_user(services, "supervisor", "clerk", ["supervisors"])  # its escalation group
    done = publishing.deploy(services, from_path(PROCESSES / "restaurant"), users["designer"].user)
    assert done["warnings"] == []


def test_a_stored_versions_checks_follow_the_groups_of_today(
    services: Services, users: dict[str, Any]
) -> None:
    designer = users["designer"].user
    upload = bpmn.decision("approved == True").replace(
        b'camunda:candidateGroups="front_desk"', b'camunda:candidateGroups="drug_review"'
    )
    publishing.deploy(services, from_upload("d.bpmn", upload), designer, publish=False)
    before = publishing.version_checks(services, designer, "p", 1)
    assert before["errors"] == []
    assert {w["element"] for w in before["warnings"]} == {"yes", "task"}
    accounts.create_user(services, "pharmacist", "clerk", ["drug_review"])
    after = publishing.version_checks(services, designer, "p", 1)
    assert [w["element"] for w in after["warnings"]] == ["yes"]  # the condition's warning stays


def test_a_clerk_may_not_check_a_version(services: Services, users: dict[str, Any]) -> None:
    publishing.deploy(services, from_path(PROCESSES / "restaurant"), users["designer"].user)
    with pytest.raises(Forbidden):
        publishing.version_checks(services, users["front_desk"].user, "restaurant", 1)
