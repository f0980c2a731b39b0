"""Who may act on a case as a whole (issue 14, section 5): withdrawing it belongs to the groups
that hold it, the window that received it and the supervisors; a window rating to the window,
and it never takes away the applicant's own rating. Through the API, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from engine.services import Services, accounts, cases, queries
from tests.fixtures import restaurant as r
from tests.integration.test_cases import task_of


def state(services: Services, users: dict[str, Any], case_id: int) -> Any:
    auditor = users["auditor"].user
    return queries.get_case(services, auditor, case_id), queries.events(services, auditor, case_id)


def cancel(client: Any, headers: dict[str, str], case_id: int) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/cancel", headers=headers, json={"reason": "撤回"})


def test_only_holders_the_window_and_supervisors_may_withdraw(
    services: Services, users: dict[str, Any], client: Any, restaurant: Any
) -> None:
    _, loner = accounts.create_user(services, "loner", "clerk", [])
    _, stranger = accounts.create_user(services, "stranger", "clerk", ["transport"])
    _, chief = accounts.create_user(services, "chief", "clerk", ["supervisors"])
    bearer = {
        name: {"Authorization": f"Bearer {t}"}
        for name, t in [("loner", loner), ("stranger", stranger), ("chief", chief)]
    }
    front = users["front_desk"].user
    case = cases.start_case(services, front, "restaurant", r.APPLICATION)
    before = state(services, users, case["id"])
    # at intake: the market and food reviewers hold nothing of it yet
    for headers in (bearer["loner"], bearer["stranger"], users["food_reviewer"].headers):
        refused = cancel(client, headers, case["id"])
        assert refused.status_code == 403
        assert refused.json["error"] == "只有正在办理该办件的部门、受理窗口或督办人员可以撤销办件"
    assert (
        users["designer"].headers
        and cancel(client, users["designer"].headers, case["id"]).status_code == 403
    )
    assert state(services, users, case["id"]) == before
    # in review: the food department holds it now, and may withdraw it
    reviewing = cases.complete(services, front, task_of(case, "intake")["id"], r.ACCEPT)
    done = cancel(client, users["food_reviewer"].headers, reviewing["id"])
    assert done.status_code == 200 and done.json["status"] == "cancelled"
    # the window that received a case, the supervisors and administrators may too
    for headers in (users["front_desk"].headers, bearer["chief"], users["admin"].headers):
        other = cases.start_case(services, front, "restaurant", r.APPLICATION)
        other = cases.complete(services, front, task_of(other, "intake")["id"], r.ACCEPT)
        assert cancel(client, headers, other["id"]).status_code == 200


def concluded(services: Services, users: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A restaurant case refused at intake (so concluded), with its receipt code."""
    front = users["front_desk"].user
    case = cases.start_case(services, front, "restaurant", r.APPLICATION)
    code = case["access_code"]
    case = cases.complete(services, front, task_of(case, "intake")["id"], r.REFUSE)
    assert case["status"] == "completed"
    return case, code


def test_a_window_rating_is_the_windows_and_leaves_the_applicant_their_own(
    services: Services, users: dict[str, Any], client: Any, restaurant: Any
) -> None:
    case, code = concluded(services, users)
    window = f"/api/v1/cases/{case['id']}/rating"
    online = f"/api/v1/public/cases/{case['id']}/rating"
    before = state(services, users, case["id"])
    for other in ("food_reviewer", "market_reviewer", "issuer"):
        refused = client.post(window, headers=users[other].headers, json={"level": 5})
        assert refused.status_code == 403
        assert refused.json["error"] == "只有受理该办件的窗口人员可以登记窗口评价"
    assert state(services, users, case["id"]) == before
    recorded = client.post(window, headers=users["front_desk"].headers, json={"level": 2})
    assert recorded.status_code == 201 and recorded.json["rectification"] is True
    again = client.post(window, headers=users["other_clerk"].headers, json={"level": 5})
    assert again.status_code == 409
    # the applicant still rates, and their rating is the case's
    own = client.post(online, json={"code": code, "level": 1, "comment": "太慢"})
    assert own.status_code == 201
    rating = queries.get_case(services, users["auditor"].user, case["id"])["rating"]
    assert (rating["level"], rating["channel"]) == (1, "online")
    assert client.post(online, json={"code": code, "level": 5}).status_code == 409
    # both bad: one rectification is under way for the case, not two
    tasks = queries.get_case(services, users["auditor"].user, case["id"])["tasks"]
    assert [t["kind"] for t in tasks] == ["rectification"]
    rated = [
        e
        for e in queries.events(services, users["auditor"].user, case["id"])
        if e["type"] == "rated"
    ]
    assert [(e["actor"], e["data"]["channel"]) for e in rated] == [
        ("front_desk", "window"),
        ("applicant", "online"),
    ]


def test_after_the_applicants_own_rating_the_window_records_none(
    services: Services, users: dict[str, Any], client: Any, restaurant: Any
) -> None:
    case, code = concluded(services, users)
    assert (
        client.post(
            f"/api/v1/public/cases/{case['id']}/rating", json={"code": code, "level": 4}
        ).status_code
        == 201
    )
    late = client.post(
        f"/api/v1/cases/{case['id']}/rating", headers=users["front_desk"].headers, json={"level": 5}
    )
    assert late.status_code == 409 and late.json["error"] == "申请人已自行评价, 窗口不再登记评价"
