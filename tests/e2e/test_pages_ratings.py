"""好差评 and 整改 in the pages (issue 17 · F), through the test client on both databases: the
applicant follows the case (timeline, what to do now, where to collect) and rates it on the
progress page after 办结, once; the window records an in-person rating that never takes away the
applicant's own; a bad rating opens the 整改, whose form and complaint show on its task page, then
the 回访 records the applicant's answer."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from engine.services import Services, accounts, queries
from engine.services.accounts import set_password
from tests.e2e.test_pages_auditor import PASSWORD, Centre, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    found = Centre(services, users)
    chief, _ = accounts.create_user(services, "chief", "clerk", ["supervisors"])
    set_password(services, "chief", PASSWORD)
    found.users["chief"] = chief
    return found


def _conclude(centre: Centre, case: dict[str, Any]) -> dict[str, Any]:
    for element, data in r.PATHS["granted_without_inspection"][0]:
        case = centre.do(case, element, data)
    assert case["status"] == "completed"
    return case


def _look_up(centre: Centre, case: dict[str, Any]) -> Any:
    """A fresh browser: the applicant types the case number and the receipt code."""
    centre.client = centre.app.test_client()
    token = _token(centre.client.get("/progress").get_data(as_text=True))
    return centre.client.post(
        "/progress",
        data={"number": str(case["id"]), "code": case["access_code"], "csrf_token": token},
    )


def _rate(centre: Centre, case_id: int, level: str, comment: str = "") -> Any:
    token = _token(centre.client.get("/progress").get_data(as_text=True))  # the session's token
    return centre.client.post(
        f"/progress/{case_id}/rating",
        data={"level": level, "comment": comment, "csrf_token": token},
    )


def _open_kinds(centre: Centre, case_id: int) -> list[str]:
    return [
        t["kind"] for t in queries.get_case(centre.svc, centre.users["chief"], case_id)["tasks"]
    ]


def test_the_applicant_follows_the_case_then_rates_it_once_after_conclusion(
    centre: Centre,
) -> None:
    started = centre.start()
    case = centre.do(started, "intake", r.CORRECT)
    found = _look_up(centre, started)
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and found.headers["Cache-Control"] == "no-store"
    # what to do now: the materials the window listed, by their names
    todo = re.search(r'<section class="to-do".*?</section>', html, re.S)
    assert todo and "您现在需要: 补正" in todo.group(0)
    assert "经营场所使用证明(租赁合同或产权证明)" in todo.group(0)
    assert "从业人员健康证明" in todo.group(0) and "食品安全管理制度" not in todo.group(0)
    timeline = re.search(r'<ol class="public-timeline">.*?</ol>', html, re.S)
    assert timeline
    steps = re.findall(r'<span class="step">([^<]+)</span>', timeline.group(0))
    assert steps[:3] == ["收件", "一窗受理: 补正", "正在办理: 申请人补正"], steps
    assert "2026-03-02 09:00" in timeline.group(0)  # local time, as the centre reads it
    assert "intake" not in timeline.group(0) and "front_desk" not in html
    assert "rating-form" not in html
    # rating before 办结 is refused, and says why
    early = _rate(centre, started["id"], "5")
    assert early.status_code == 409 and "办件办结后才能评价" in early.get_data(as_text=True)

    case = centre.do(case, "correction", r.CORRECTED)
    _conclude(centre, case)
    html = _look_up(centre, started).get_data(as_text=True)
    assert "您现在需要" not in html
    collect = re.search(r'<section class="collection".*?</section>', html, re.S)
    assert collect and "上城区市民之家一楼 统一出件窗口" in collect.group(0)
    assert "0571-87000000" in collect.group(0)
    steps = re.findall(r'<span class="step">([^<]+)</span>', html)
    assert {
        "受理, 开始计算办理时限",
        "营业执照审查",
        "食品经营许可审查",
        "统一发证",
        "发证",
    } <= set(steps)
    assert steps[-1] == "办结"
    assert 'class="stack rating-form"' in html and html.count('name="level"') == 5

    rated = _rate(centre, started["id"], "2", "补正后等了很久")
    assert rated.status_code == 302 and rated.headers["Location"].endswith(
        f"/progress/{started['id']}"
    )
    after = centre.client.get(f"/progress/{started['id']}").get_data(as_text=True)
    assert "感谢您的评价" in after and "您的评价" in after and "「补正后等了很久」" in after
    assert "rating-form" not in after
    again = centre.client.post(
        f"/progress/{started['id']}/rating",
        data={
            "level": "5",
            "csrf_token": _token(centre.client.get("/progress").get_data(as_text=True)),
        },
    )
    assert again.status_code == 409 and "该办件已评价" in again.get_data(as_text=True)
    # 不满意 opened the 整改, once
    assert _open_kinds(centre, started["id"]) == ["rectification"]
    # another browser, without the code, gets neither the page nor the rating
    centre.client = centre.app.test_client()
    assert centre.client.get(f"/progress/{started['id']}").status_code == 302
    token = _token(centre.client.get("/progress").get_data(as_text=True))
    forged = centre.client.post(
        f"/progress/{started['id']}/rating", data={"level": "1", "csrf_token": token}
    )
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/progress")


def test_a_bad_level_keeps_what_was_typed(centre: Centre) -> None:
    case = centre.start()
    _conclude(centre, case)
    _look_up(centre, case)
    refused = _rate(centre, case["id"], "7", "还行")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "评价等级无效" in html
    assert ">还行</textarea>" in html


def test_the_window_rating_never_takes_away_the_applicants_own(centre: Centre) -> None:
    case = centre.start()
    _conclude(centre, case)
    # a reviewer is not the window
    centre.sign_in("market_reviewer")
    page = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    refused = centre.client.post(
        f"/cases/{case['id']}/rating", data={"level": "5", "csrf_token": _token(page)}
    )
    assert refused.status_code == 302
    assert "只有受理该办件的窗口人员可以登记窗口评价" in centre.client.get(
        f"/cases/{case['id']}"
    ).get_data(as_text=True)
    # the window records the applicant's word at the counter
    centre.sign_in("front_desk")
    page = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "window-rating-form" in page
    recorded = centre.client.post(
        f"/cases/{case['id']}/rating",
        data={"level": "5", "comment": "窗口服务热情", "csrf_token": _token(page)},
    )
    assert recorded.status_code == 302
    page = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "已登记窗口评价: 非常满意" in page and "(窗口评价)" in page
    assert "window-rating-form" not in page
    # the applicant still rates online, and theirs is the case's rating from then on
    _look_up(centre, case)
    assert _rate(centre, case["id"], "1", "其实很慢").status_code == 302
    centre.sign_in("front_desk")
    page = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "非常不满意" in page and "(网上评价)" in page and "「其实很慢」" in page
    assert _open_kinds(centre, case["id"]) == ["rectification"]


def test_the_rectification_form_then_the_follow_up_records_the_answer(centre: Centre) -> None:
    case = centre.start()
    _conclude(centre, case)
    _look_up(centre, case)
    _rate(centre, case["id"], "非常不满意", "窗口让我跑了三次")
    [task] = queries.get_case(centre.svc, centre.users["chief"], case["id"])["tasks"]
    centre.sign_in("chief")
    page = centre.client.get(f"/work/tasks/{task['id']}").get_data(as_text=True)
    complaint = re.search(r'<section class="card complaint".*?</section>', page, re.S)
    assert complaint and "非常不满意" in complaint.group(0)
    assert "「窗口让我跑了三次」" in complaint.group(0) and "申请人网上评价" in complaint.group(0)
    for label in ("整改措施", "整改结果", "整改材料"):
        assert label in page
    empty = centre.client.post(
        f"/work/tasks/{task['id']}", data={"measures": "", "result": "", "csrf_token": _token(page)}
    )
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and html.count('class="field-error"') >= 2, html
    assert _open_kinds(centre, case["id"]) == ["rectification"]  # nothing changed
    done = centre.client.post(
        f"/work/tasks/{task['id']}",
        data=MultiDict(
            [
                ("measures", "增设帮办代办窗口, 材料一次性告知"),
                ("result", "已约谈窗口负责人, 流程已调整"),
                ("attachment", FileStorage(io.BytesIO(b"%PDF-1 report"), "整改报告.pdf")),
                ("csrf_token", _token(page)),
            ]
        ),
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    [follow_up] = queries.get_case(centre.svc, centre.users["chief"], case["id"])["tasks"]
    assert follow_up["kind"] == "follow_up"
    page = centre.client.get(f"/work/tasks/{follow_up['id']}").get_data(as_text=True)
    assert "增设帮办代办窗口, 材料一次性告知" in page and "回访结果" in page
    unhappy = centre.client.post(
        f"/work/tasks/{follow_up['id']}",
        data={"applicant_satisfied": "false", "csrf_token": _token(page)},
    )
    assert unhappy.status_code == 422  # 不满意 says what the applicant said
    answered = centre.client.post(
        f"/work/tasks/{follow_up['id']}",
        data={
            "applicant_satisfied": "true",
            "applicant_answer": "后来办事顺利多了",
            "csrf_token": _token(page),
        },
    )
    assert answered.status_code == 302
    assert _open_kinds(centre, case["id"]) == []
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    rectified, followed = [e for e in events if e["type"] == "task_completed"][-2:]
    assert rectified["data"]["form"]["measures"] == "增设帮办代办窗口, 材料一次性告知"
    assert rectified["data"]["form"]["attachment"].startswith("data:")
    assert followed["data"]["form"] == {
        "applicant_satisfied": True,
        "applicant_answer": "后来办事顺利多了",
    }
