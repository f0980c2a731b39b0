"""What the catalogue's case pages show, through the API and the pages on both databases: the
tobacco reviewer reads the 合理布局判定 decision's outputs among the earlier results (labelled as
the DMN table labels them, values in words), the applicant reads that the newborn's certificates
are posted (and where to) instead of the window's address, and a 会签's signatures on the
progress timeline each name the department that signed."""

from __future__ import annotations

import json
import re
from typing import Any

from engine.services import accounts, case_record
from engine.services.accounts import set_password
from tests.e2e.test_openapi import component, problems
from tests.fixtures import convenience_store as cs
from tests.fixtures import hotel as h
from tests.fixtures import newborn as nb
from tests.interop.harness import Interop
from tests.processes import test_convenience_store as store_tests
from tests.processes import test_hotel as hotel_tests
from tests.processes import test_newborn as newborn_tests
from tests.processes.test_newborn import desk  # noqa: F401 (the newborn bundle, uploaded)

PASSWORD = "correct horse"
SIGN = "部门许可决定(会签)"


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _signed_in(api: Interop, name: str) -> Any:
    """A browser session (a test client of the same app) signed in as `name`."""
    set_password(api.services, name, PASSWORD)
    client = api.client.application.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def _section(html: str, css_class: str) -> str:
    found = re.search(rf'<section class="card {css_class}".*?</section>', html, re.S)
    assert found, f"no {css_class} card"
    return found.group(0)


def _progress(api: Interop, case_id: int, code: str) -> dict[str, Any]:
    answer = api.client.post(f"/api/v1/public/cases/{case_id}", json={"code": code})
    assert answer.status_code == 200, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    assert problems(found, component("CaseProgress")) == []  # docs/openapi.yaml
    return found


def _progress_page(api: Interop, case_id: int, code: str) -> str:
    client = api.client.application.test_client()
    token = _token(client.get("/progress").get_data(as_text=True))
    answer = client.post(
        "/progress", data={"number": str(case_id), "code": code, "csrf_token": token}
    )
    assert answer.status_code == 200
    return str(answer.get_data(as_text=True))


# -- 1. the decision table's result on the reviewer's task page -------------------------------


def _to_tobacco_review(api: Interop, survey: dict[str, Any]) -> dict[str, Any]:
    store_tests.upload(api)
    view = api.start("convenience_store", cs.PREPACKAGED_TOBACCO)
    for element, data in [
        ("intake", cs.ACCEPT),
        ("review_licence", cs.LICENCE_OK),
        ("food_filing", cs.FILING),
        ("tobacco_survey", survey),
    ]:
        view = store_tests.do(api, view, element, data)
    assert store_tests.open_elements(view) == {"tobacco_review"}
    return view


def test_the_tobacco_reviewer_reads_the_layout_decision_among_the_earlier_results(
    interop: Interop,
) -> None:
    view = _to_tobacco_review(interop, cs.SURVEY_OK)
    task = view["tasks"][0]
    client = _signed_in(interop, "member_of_tobacco")
    html = client.get(f"/work/tasks/{task['id']}").get_data(as_text=True)
    steps = _section(html, "record-steps")
    assert "前序办理结果" in steps
    decision = re.search(r'<li class="record-step decision-step"[^>]*>.*?</li>', steps, re.S)
    assert decision, "no decision among the earlier results"
    shown = decision.group(0)
    assert 'data-element="tobacco_layout"' in shown and "合理布局判定" in shown
    assert "决策表 · 烟草制品零售点合理布局" in shown and "系统" in shown
    # the table's output labels, the values in words (a code the survey's form titles, too)
    for label, text in [
        ("布局符合", "是"),
        ("适用规则", "城区街道"),
        ("最小间距(米)", "100"),
        ("判定说明", "城区街道: 与最近零售点不少于 100 米, 符合"),
    ]:
        assert re.search(rf"<dt>{re.escape(label)}</dt><dd[^>]*>{re.escape(text)}</dd>", shown)
    assert "True" not in shown and "urban_street" not in shown and "<dt>layout_ok</dt>" not in shown
    # right after the survey whose step ran it
    order = re.findall(r'data-element="([a-z_]+)"', steps)
    assert order.index("tobacco_layout") == order.index("tobacco_survey") + 1
    # the case page's record shows it too
    case_page = client.get(f"/cases/{view['id']}").get_data(as_text=True)
    assert "决策表 · 烟草制品零售点合理布局" in _section(case_page, "record-steps")


def test_a_layout_near_a_school_reads_no_and_the_record_keeps_its_place(
    interop: Interop,
) -> None:
    view = _to_tobacco_review(interop, cs.SURVEY_NEAR_SCHOOL)
    with interop.services.uow() as uow:
        admin = uow.users.by_name("interop_admin")
        events = uow.cases.events(view["id"])
    assert admin is not None
    record = case_record.labelled_data(interop.services, admin, view["id"])
    survey_seq = next(
        e.seq for e in events if e.element == "tobacco_survey" and e.type == "task_completed"
    )
    decisions = [s for s in record["steps"] if s.get("kind") == "decision"]
    assert len(decisions) == 1
    step = decisions[0]
    assert (step["seq"], step["after"], step["task"]) == (None, survey_seq, "合理布局判定")
    assert {f["label"]: f["text"] for f in step["fields"]} == {
        "布局符合": "否",
        "适用规则": "school",
        "最小间距(米)": "—",
        "判定说明": "距中小学校、幼儿园出入口不足 100 米, 不得设置烟草制品零售点",
    }
    # the human steps keep their seqs for the timeline and the archive
    assert [s["seq"] for s in record["steps"] if s.get("kind") != "decision"] == sorted(
        e.seq for e in events if e.type == "task_completed"
    )
    # the reviewer denies, and the case still replays as recorded
    view = store_tests.do(interop, view, "tobacco_review", cs.TOBACCO_NO)
    view = store_tests.do(interop, view, "tobacco_denial", cs.DENIAL)
    store_tests.replay_verifies(interop, view["id"])


def test_the_hotels_routing_decision_follows_the_intake(interop: Interop) -> None:
    for group in hotel_tests.GROUPS:
        interop.clerk(group=group)
    interop.accepted("hotel.zip", hotel_tests.bundle_files())
    view = hotel_tests.do(
        interop, interop.start("hotel", h.LARGE_APPLICATION), ("intake", h.ACCEPT)
    )
    with interop.services.uow() as uow:
        admin = uow.users.by_name("interop_admin")
    assert admin is not None
    record = case_record.labelled_data(interop.services, admin, view["id"])
    assert [s["task"] for s in record["steps"]] == ["一窗受理", "确定会办部门"]
    fields = {f["label"]: f["text"] for f in record["steps"][1]["fields"]}
    assert fields["踏勘和决定部门"] == "public_security、health、fire_safety"
    assert "是" in fields.values()


# -- 2. postal delivery on the progress page -------------------------------------------------


def _newborn_case(newborn: newborn_tests.Desk, issuance: dict[str, Any]) -> dict[str, Any]:
    steps = [(e, issuance if e == "joint_issuance" else d) for e, d in nb.PATHS["granted"][0]]
    view = newborn.start("newborn", nb.APPLICATION)
    code = view["access_code"]
    for element, data in steps:
        view = newborn_tests.work(newborn, view, element, data)
    assert view["outcome"]["element"] == "concluded"
    return {**view, "access_code": code}


def test_posted_certificates_say_so_and_where_to_instead_of_the_window(
    desk: newborn_tests.Desk,  # noqa: F811
) -> None:
    newborn = desk
    view = _newborn_case(newborn, nb.ISSUANCE_BY_POST)
    found = _progress(newborn, view["id"], view["access_code"])
    assert found["delivery"] == {
        "method": "免费邮寄",
        "remote": True,
        "postal": True,
        "address": "王丽 138****8000 示范区民生路 18 号 3 幢 201 室",
        "sent": True,
    }
    html = _progress_page(newborn, view["id"], view["access_code"])
    assert "证照已寄出" in html and "邮寄至" in html
    assert "王丽 138****8000 示范区民生路 18 号 3 幢 201 室" in html
    assert "13800138000" not in html
    assert "领取证照" not in html and "综合出件窗口" not in html and "领取地点" not in html


def test_certificates_collected_at_the_window_give_the_window(
    desk: newborn_tests.Desk,  # noqa: F811
) -> None:
    newborn = desk
    view = _newborn_case(newborn, nb.ISSUANCE)
    found = _progress(newborn, view["id"], view["access_code"])
    assert found["delivery"]["method"] == "窗口领取" and found["delivery"]["remote"] is False
    html = _progress_page(newborn, view["id"], view["access_code"])
    assert "领取证照" in html and "综合出件窗口" in html
    assert "证照已寄出" not in html and "邮寄至" not in html


# -- 3. a 会签's signatures on the progress timeline ------------------------------------------


def _sign_through(interop: Interop, files: dict[str, bytes]) -> tuple[list[str], list[str], str]:
    """The large hotel granted with its fire check: the progress's open steps while the three
    departments' signatures are awaited, the timeline once concluded, and the progress page."""
    for group in hotel_tests.GROUPS:
        interop.clerk(group=group)
    interop.accepted("hotel.zip", files)
    application, steps, _ = h.PATHS["large_granted_with_fire_check"]
    view = interop.start("hotel", application)
    code = view["access_code"]
    before = [s for s in steps if s[0] not in ("department_decisions", "joint_issuance")]
    for step in before:
        view = hotel_tests.do(interop, view, step)
    waiting = _progress(interop, view["id"], code)["steps"]
    for step in steps[len(before) :]:
        view = hotel_tests.do(interop, view, step)
    assert view["status"] == "completed"
    timeline = [s["step"] for s in _progress(interop, view["id"], code)["timeline"]]
    assert "member_of_" not in " ".join(timeline)  # never a member of staff's name
    return waiting, timeline, _progress_page(interop, view["id"], code)


def test_each_signature_of_the_sign_names_its_department(interop: Interop) -> None:
    waiting, timeline, html = _sign_through(interop, hotel_tests.bundle_files())
    # bundle.json `group_names`: the department of each group, awaited and signed alike
    departments = ("示范区消防救援大队", "示范区公安分局", "示范区卫生健康局")
    assert sorted(waiting) == sorted(f"{SIGN} · {d}" for d in departments)
    assert [s for s in timeline if s.startswith(SIGN)] == [f"{SIGN} · {d}" for d in departments]
    assert f"{SIGN} · 示范区公安分局" in html and "public_security" not in html


def test_without_group_names_the_signers_department_or_the_group_is_named(
    interop: Interop,
) -> None:
    files = hotel_tests.bundle_files()
    meta = json.loads(files["hotel/bundle.json"])
    del meta["group_names"]
    files["hotel/bundle.json"] = json.dumps(meta, ensure_ascii=False).encode()
    # the police clerk's profile names the department; the others' do not
    interop.clerk(group="public_security")
    accounts.edit_user(interop.services, "member_of_public_security", department="公安分局(治安)")
    waiting, timeline, html = _sign_through(interop, files)
    # nobody has signed yet: each signature by the group it waits on
    assert sorted(waiting) == sorted(
        f"{SIGN} · {g}" for g in ("public_security", "health", "fire_safety")
    )
    signed = [s for s in timeline if s.startswith(SIGN)]
    assert signed == [f"{SIGN} · fire_safety", f"{SIGN} · 公安分局(治安)", f"{SIGN} · health"]
    assert f"{SIGN} · 公安分局(治安)" in html
