"""残疾人两项补贴申领 (`processes/disability_allowance`), a 三级联办 bundle, through the API on SQLite
and PostgreSQL: every path end to end (收件, 补正, 不予受理, each level's refusal, the county's
decision for one or both allowances, the 公示 with and without objection), each level's tasks in
its own village's or town's worklist only, the town's 下级初审 limit and its 转报, the town sending
the case back to the village, the certificates issued and verified, every case verified by the
audit's replay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.services import accounts
from engine.services import desk as desk_service
from tests.conftest import FORMS, PROCESSES
from tests.fixtures import disability_allowance as d
from tests.interop.harness import Interop

KEY = "disability_allowance"
BUNDLE = PROCESSES / KEY


def bundle_files() -> dict[str, bytes]:
    return {f"{KEY}/{p.name}": p.read_bytes() for p in sorted(BUNDLE.iterdir()) if p.is_file()}


@pytest.fixture
def desk(interop: Interop) -> Interop:
    """The bundle uploaded once every group it names has a member (so it uploads clean)."""
    for group in d.GROUPS:
        interop.clerk(group=group)
    interop.accepted(f"{KEY}.zip", bundle_files())
    return interop


def auditor(desk: Interop) -> dict[str, str]:
    if "da_auditor" not in desk.clerks:
        _, token = accounts.create_user(desk.services, "da_auditor", "auditor", [])
        desk.clerks["da_auditor"] = {"Authorization": f"Bearer {token}"}
    return desk.clerks["da_auditor"]


def open_elements(view: dict[str, Any]) -> list[str]:
    return sorted(t["element"] for t in view["tasks"])


def worklist(desk: Interop, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = desk.client.get("/api/v1/tasks", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json()["tasks"])


def do(desk: Interop, view: dict[str, Any], step: d.Step) -> dict[str, Any]:
    """Complete the open task of a step, as a member of its (evaluated) group; or move the clock
    and let the worker fire the timers."""
    element, data = step
    if element == d.WAIT:
        desk.fire_timers(**data)
        return desk.case(view["id"])
    found = [t for t in view["tasks"] if t["element"] == element]
    assert len(found) == 1, f"{element} not open once; open: {open_elements(view)}"
    answer = desk.complete(found[0], data)
    assert answer.status_code == 200, (element, answer.get_json())
    return desk.case(view["id"])


def replay_verifies(desk: Interop, case_id: int) -> None:
    answer = desk.client.get(f"/api/v1/cases/{case_id}/replay", headers=auditor(desk))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


def expected_groups(application: dict[str, Any], element: str) -> list[str]:
    village = application["village_group"]
    return {
        "intake": [village],
        "correction": [village],
        "village_verify": [village],
        "publicity": [village],
        "denial_notice": [village],
        "town_review": [d.TOWN[village]],
        "federation_review": ["county_disability_federation"],
    }.get(element, ["county_civil_affairs"])


@pytest.mark.parametrize("path", sorted(d.PATHS))
def test_path(desk: Interop, path: str) -> None:
    application, steps, end, kinds = d.PATHS[path]
    view = desk.start(KEY, application)
    for step in steps:
        for task in view["tasks"]:  # each level's task in its own group's list
            assert task["groups"] == expected_groups(application, task["element"]), task
        view = do(desk, view, step)
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == end
    certificates = {c["kind"]: c for c in view["certificates"]}
    assert set(certificates) == kinds
    for cert in certificates.values():
        assert cert["holder"].startswith(application["applicant_name"])
        assert cert["expires_on"] is not None  # 资格 reviewed every year
        public = desk.client.get(f"/api/v1/public/certificates/{cert['number']}")
        assert public.status_code == 200
        assert public.get_json()["status"] == "valid"
        # 审定 by the county's 民政局 (the 残联 only 审核s): it confirms the eligibility
        assert cert["issuer"] == public.get_json()["issuer"] == "示范县民政局"
    replay_verifies(desk, view["id"])


def test_every_intake_decision_and_end_has_a_path() -> None:
    intake = json.loads((FORMS / KEY / "intake.json").read_text())
    options = {o["const"] for o in intake["properties"]["intake_decision"]["oneOf"]}
    used = {
        s[1]["intake_decision"]
        for _, steps, _, _ in d.PATHS.values()
        for s in steps
        if s[0] == "intake"
    }
    assert used == options
    assert {end for _, _, end, _ in d.PATHS.values()} == set(d.ENDS)


def test_the_bundle_uploads_clean_with_its_guide(desk: Interop) -> None:
    answer = desk.upload(f"{KEY}.zip", bundle_files())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["warnings"] == []
    detail = desk.client.get(f"/api/v1/bundles/{KEY}/versions/2", headers=desk.admin).get_json()
    assert detail["metadata"]["guide"]["fee"] == "不收费"
    assert [i["code"] for i in detail["metadata"]["items"]] == [
        "living_allowance",
        "nursing_allowance",
    ]


def test_the_upload_names_each_village_without_an_agent(interop: Interop) -> None:
    """The village groups come from the application's choice: the upload warns of each one that
    has no member yet, as of the fixed groups; the town groups come from the table (not told)."""
    interop.clerk(group="village_qiaotou")
    warnings = interop.accepted(f"{KEY}.zip", bundle_files())["warnings"]
    named = {w["message"].split("'")[1] for w in warnings if w["message"].startswith("办理组")}
    assert named == set(d.GROUPS) - {"village_qiaotou", "town_chengguan", "town_shimen"}


def test_each_village_and_town_sees_only_its_own_cases(desk: Interop) -> None:
    qiaotou = desk.start(KEY, d.APPLICATION)
    xiaoxi = desk.start(KEY, d.SHIMEN_APPLICATION)
    lists = {g: worklist(desk, desk.clerk(group=g)) for g in d.GROUPS}
    assert [t["case_id"] for t in lists["village_qiaotou"]] == [qiaotou["id"]]
    assert [t["case_id"] for t in lists["village_xiaoxi"]] == [xiaoxi["id"]]
    assert lists["village_hexi"] == [] and lists["village_shimen"] == []
    # another village's agent may not claim it
    other = desk.clerk(group="village_hexi")
    refused = desk.client.post(f"/api/v1/tasks/{qiaotou['tasks'][0]['id']}/claim", headers=other)
    assert refused.status_code == 403
    for view in (qiaotou, xiaoxi):
        for step in d.TO_COUNTY[:2]:
            view = do(desk, view, step)
    chengguan = worklist(desk, desk.clerk(group="town_chengguan"))
    shimen = worklist(desk, desk.clerk(group="town_shimen"))
    assert [(t["case_id"], t["element"]) for t in chengguan] == [(qiaotou["id"], "town_review")]
    assert [(t["case_id"], t["element"]) for t in shimen] == [(xiaoxi["id"], "town_review")]
    assert worklist(desk, desk.clerk(group="village_qiaotou")) == []


def test_village_agents_receive_the_bundle_and_the_levels_above_do_not(desk: Interop) -> None:
    with desk.services.uow() as uow:
        found = {g: uow.users.by_name(f"member_of_{g}") for g in d.GROUPS}
    for group, user in found.items():
        assert user is not None
        keys = {b["key"] for b in desk_service.receivable_bundles(desk.services, user)}
        assert (KEY in keys) == group.startswith("village_"), group


def test_the_town_has_its_own_limit_and_forwards_to_the_county(desk: Interop) -> None:
    view = desk.start(KEY, d.APPLICATION)
    view = do(desk, view, ("intake", d.ACCEPT))
    verify = view["tasks"][0]
    assert verify["element"] == "village_verify" and verify["deadline"] is not None
    assert view["preliminary"] is None
    view = do(desk, view, ("village_verify", d.VERIFIED))
    assert view["preliminary"]["limit"] == 5 and view["preliminary"]["forwarded_on"] is None
    assert view["tasks"][0]["deadline"] is not None  # the town's own 5 working days
    view = do(desk, view, ("town_review", d.TOWN_PASS))
    assert view["preliminary"]["forwarded_on"] is not None and view["preliminary"]["on_time"]
    assert open_elements(view) == ["federation_review"]
    events = desk.client.get(f"/api/v1/cases/{view['id']}/events", headers=desk.admin).get_json()
    types = [e["type"] for e in events["events"]]
    assert (
        types.index("preliminary_started")
        < types.index("case_forwarded")
        < types.index("clock_started")
    )


def test_the_publicity_pauses_the_clock_and_ends_by_its_timer(desk: Interop) -> None:
    view = desk.start(KEY, d.APPLICATION)
    for step in [*d.TO_COUNTY, ("civil_affairs_decision", d.APPROVE_BOTH)]:
        view = do(desk, view, step)
    assert open_elements(view) == ["publicity"] and view["clock"] == "paused"
    assert view["tasks"][0]["groups"] == ["village_qiaotou"]
    desk.fire_timers(days=3)  # not yet: 5 working days
    assert open_elements(desk.case(view["id"])) == ["publicity"]
    view = do(desk, view, d.PUBLICITY_ENDS)
    assert open_elements(view) == ["joint_issuance"] and view["clock"] != "paused"
    # the 计时暂停记录 says what the time went on: the 公示 task, not 补正
    pauses = desk.client.get(f"/api/v1/cases/{view['id']}", headers=desk.admin).get_json()
    assert [(p["label"], p["by"]) for p in pauses["pauses"]] == [
        ("村(社区)公示(5个工作日)", "task")
    ]


def test_the_town_sends_the_case_back_to_the_village(desk: Interop) -> None:
    view = desk.start(KEY, d.APPLICATION)
    for step in d.TO_COUNTY[:2]:
        view = do(desk, view, step)
    review = view["tasks"][0]
    town = desk.clerk(group="town_chengguan")
    targets = desk.client.get(f"/api/v1/tasks/{review['id']}/send-back", headers=town).get_json()
    assert [t["element"] for t in targets["targets"]] == ["village_verify"]
    assert desk.client.post(f"/api/v1/tasks/{review['id']}/claim", headers=town).status_code == 200
    answer = desk.client.post(
        f"/api/v1/tasks/{review['id']}/send-back",
        headers=town,
        json={"target": "village_verify", "reason": "照护状况核实不清，请补充入户照片和邻居证言"},
    )
    assert answer.status_code == 200, answer.get_json()
    view = desk.case(view["id"])
    assert open_elements(view) == ["village_verify"]
    assert view["tasks"][0]["groups"] == ["village_qiaotou"]
    assert worklist(desk, town) == []
    steps = [
        (
            "village_verify",
            {**d.VERIFIED, "living_situation": "补充入户照片和邻居证言：长期卧床，需专人照护"},
        ),
        ("town_review", d.TOWN_PASS),
        ("federation_review", d.FEDERATION_PASS),
        ("civil_affairs_decision", d.APPROVE_BOTH),
        d.PUBLICITY_ENDS,
        ("joint_issuance", d.ISSUED),
    ]
    for step in steps:
        view = do(desk, view, step)
    assert view["outcome"]["element"] == "concluded" and len(view["certificates"]) == 2
    replay_verifies(desk, view["id"])


def test_the_window_that_received_the_case_is_the_village(desk: Interop) -> None:
    view = desk.start(KEY, d.APPLICATION)
    for step in d.TO_COUNTY[:2]:  # now at the town: the village holds no task of it
        view = do(desk, view, step)
    assert [t["groups"] for t in view["tasks"]] == [["town_chengguan"]]
    other = desk.client.post(
        f"/api/v1/cases/{view['id']}/cancel",
        headers=desk.clerk(group="village_hexi"),
        json={"reason": "申请人撤回"},
    )
    assert other.status_code == 403, other.get_json()
    own = desk.client.post(
        f"/api/v1/cases/{view['id']}/cancel",
        headers=desk.clerk(group="village_qiaotou"),
        json={"reason": "申请人撤回申请"},
    )
    assert own.status_code == 200, own.get_json()
