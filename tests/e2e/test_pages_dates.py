"""Dates and names on what is printed, and deadlines as the law counts them, through the pages
(SQLite and PostgreSQL): a 补正告知书 decided at 01:04 on 12-05 Beijing time is dated 12-05 and
signed "张敏 (综合窗口)"; the 暂定 mark sits on exactly the deadline that reached an unpublished
year; a 整改 task shows its own limit, not its concluded case's stopped one; the admin page edits
the display name and department and records the change."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.services import Services, accounts, follow_ups
from tests.e2e.test_pages_auditor import PASSWORD, Centre, _granted, _token
from tests.fixtures import restaurant as r

# 01:04 on Saturday 2026-12-05 in Beijing: still Friday 12-04 in UTC
EARLY_SATURDAY = datetime(2026, 12, 4, 17, 4, tzinfo=UTC)


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    found = Centre(services, users)
    accounts.edit_user(services, "front_desk", display_name="张敏", department="综合窗口")
    return found


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _dd(page: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    assert found, f"no {label} on the page"
    return found.group(1)


def test_the_correction_notice_is_dated_locally_and_signed_with_the_display_name(
    centre: Centre,
) -> None:
    centre.clock.now = EARLY_SATURDAY
    case = centre.start()
    case = centre.do(case, "intake", r.CORRECT)
    centre.sign_in("front_desk")
    page = _text(centre.client.get(f"/cases/{case['id']}/correction-notice"))
    sign = re.search(r'<div class="sign">(.*?)</div>\s*</body>', page, re.S)
    assert sign, page
    assert "经办人: 张敏 (综合窗口)" in re.sub(r"<[^>]+>", "", sign.group(1))
    assert 'data-date="2026-12-05"' in sign.group(1)
    assert "2026 年 12 月 5 日" in sign.group(1)
    assert "12-04" not in sign.group(1) and "front_desk" not in sign.group(1)
    # the receipt names the clerk who received the application the same way
    receipt = _text(centre.client.get(f"/work/cases/{case['id']}/receipt"))
    assert "张敏 (综合窗口)" in _dd(receipt, "收件人")


def test_the_api_notice_carries_the_signature_and_local_date(
    centre: Centre, users: dict[str, Any]
) -> None:
    centre.clock.now = EARLY_SATURDAY
    case = centre.start()
    centre.do(case, "intake", r.CORRECT)
    got = centre.client.get(
        f"/api/v1/cases/{case['id']}/correction-notice", headers=users["front_desk"].headers
    ).json
    assert got["signed_by"] == "张敏 (综合窗口)" and got["decided_by"] == "front_desk"
    assert got["signed_on"] == "2026-12-05" and got["decided_at"].startswith("2026-12-04T17:04")
    assert got["signed_at"] == "2026-12-05 01:04:00"


def test_the_provisional_mark_sits_on_exactly_the_date_that_reached_2027(centre: Centre) -> None:
    centre.clock.now = EARLY_SATURDAY
    case = centre.start()
    case = centre.do(case, "intake", r.ACCEPT)  # 受理 on 12-05: 7 and 20 working days
    assert case["deadline"] == "2026-12-15" and not case["deadline_provisional"]
    # the 20th working day would have been 2027-01-01: 元旦 counts though 2027 is unpublished
    assert case["statutory_deadline"] == "2027-01-04" and case["statutory_deadline_provisional"]
    centre.sign_in("front_desk")
    for path in (f"/cases/{case['id']}", f"/work/tasks/{case['tasks'][0]['id']}"):
        page = _text(centre.client.get(path))
        promised, statutory = _dd(page, "承诺期限"), _dd(page, "法定期限")
        assert "2026-12-15" in promised and "暂定" not in promised, path
        assert "2027-01-04" in statutory and "暂定" in statutory, path
    # the case page (printable too) names the receiving clerk as documents sign
    page = _text(centre.client.get(f"/cases/{case['id']}"))
    assert "2026-12-05 01:04 · 张敏 (综合窗口)" in _dd(page, "收件")
    timeline = re.search(r'<table class="list timeline">.*?</table>', page, re.S) or re.search(
        r'<table[^>]*class="[^"]*timeline[^"]*".*?</table>', page, re.S
    )
    assert timeline and "张敏 (综合窗口)" in timeline.group(0) and "系统" in timeline.group(0)


def test_the_worklist_marks_a_deadline_in_an_unpublished_year(centre: Centre) -> None:
    centre.clock.now = EARLY_SATURDAY
    early = centre.do(centre.start(), "intake", r.ACCEPT)  # 2026-12-15
    centre.clock.now = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)
    late = centre.do(centre.start(), "intake", r.ACCEPT)  # 7 working days reach 2027
    assert late["deadline"] == "2027-01-07" and late["deadline_provisional"]
    centre.sign_in("market_reviewer")
    worklist = _text(centre.client.get("/work/"))
    rows = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r'<tr data-task="[^"]+" data-case="(\d+)".*?</tr>', worklist, re.S)
    }
    assert "2027-01-07" in rows[late["id"]] and "暂定" in rows[late["id"]]
    assert "2026-12-15" in rows[early["id"]] and "暂定" not in rows[early["id"]]


def test_a_rectification_task_shows_its_own_limit(
    centre: Centre, services: Services, users: dict[str, Any]
) -> None:
    accounts.create_user(services, "supervisor", "clerk", ["supervisors"])
    accounts.set_password(services, "supervisor", PASSWORD)
    started = centre.start()
    case = _granted(centre, started)
    assert case["status"] == "completed"
    follow_ups.rate(centre.svc, case["id"], 1, "等了很久", code=started["access_code"])
    centre.sign_in("supervisor")
    worklist = _text(centre.client.get("/work/"))
    row = re.search(rf'<tr data-task="[^"]+" data-case="{case["id"]}".*?</tr>', worklist, re.S)
    assert row, worklist
    shown = row.group(0)
    assert "task-deadline" in shown and "本环节剩" in shown
    assert "已停止计时" not in shown  # the concluded case's clock is not this task's
    task_id = re.search(r'data-task="([^"]+)"', shown)
    assert task_id
    page = _text(centre.client.get(f"/work/tasks/{task_id.group(1)}"))
    own = _dd(page, "本环节期限")
    assert "本环节剩" in own and "个工作日" in own


def test_the_admin_edits_the_display_name_and_department(
    centre: Centre, users: dict[str, Any]
) -> None:
    centre.sign_in("admin")
    inspector = users["inspector"].user
    page = f"/admin/users/{inspector.id}"
    form = _text(centre.client.get(page))
    saved = centre.client.post(
        page,
        data={
            "csrf_token": _token(form),
            "role": "clerk",
            "groups": ["inspection"],
            "display_name": " 王强 ",
            "department": "食品安全科",
        },
    )
    assert saved.status_code == 302
    shown = _text(centre.client.get(page))
    assert "王强 (食品安全科)" in shown
    assert "姓名: 王强; 部门: 食品安全科" in shown  # the change log records them
    listing = _text(centre.client.get("/admin/users"))
    assert "王强 (食品安全科)" in listing and "张敏 (综合窗口)" in listing
    too_long = centre.client.post(
        page,
        data={"csrf_token": _token(shown), "role": "clerk", "groups": ["inspection"]}
        | {"display_name": "王" * 101, "department": ""},
    )
    assert too_long.status_code == 422 and "姓名不超过 100 个字符" in _text(too_long)
    assert "王强 (食品安全科)" in _text(centre.client.get(page))  # nothing changed
    # a form without the fields (an older page) leaves them as they are
    centre.client.post(
        page, data={"csrf_token": _token(shown), "role": "clerk", "groups": ["inspection"]}
    )
    assert "王强 (食品安全科)" in _text(centre.client.get(page))
    created = centre.client.post(
        "/admin/users",
        data={
            "csrf_token": _token(listing),
            "name": "new_clerk",
            "role": "clerk",
            "display_name": "李娜",
            "department": "",
        },
    )
    assert created.status_code == 200
    assert "李娜" in _text(centre.client.get("/admin/users"))


def test_the_public_progress_page_marks_a_provisional_promised_deadline(centre: Centre) -> None:
    centre.clock.now = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)
    late = centre.start()
    code = late["access_code"]
    late = centre.do(late, "intake", r.ACCEPT)  # 7 working days reach 2027
    assert late["deadline_provisional"]
    centre.clock.now = EARLY_SATURDAY
    early = centre.start()
    early_code = early["access_code"]
    early = centre.do(early, "intake", r.ACCEPT)  # 2026-12-15, published
    public = centre.client
    token = _token(_text(public.get("/progress")))

    def look(number: int, access: str) -> str:
        found = public.post(
            "/progress", data={"number": str(number), "code": access, "csrf_token": token}
        )
        assert found.status_code == 200
        return _dd(_text(found), "承诺期限")

    assert "2027-01-07" in look(late["id"], code) and "暂定" in look(late["id"], code)
    assert "2026-12-15" in look(early["id"], early_code)
    assert "暂定" not in look(early["id"], early_code)
