"""The case page and its printable documents through the test client (both databases)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from engine.services import Services, cases, queries
from tests.conftest import PROCESSES
from tests.e2e.test_pages_auditor import Centre, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    return Centre(services, users)


def _diagram_state(html: str) -> dict[str, Any]:
    found = re.search(r"id=\"case-diagram\"[^>]*data-diagram-state='([^']*)'", html, re.S)
    assert found, "no diagram on the page"
    return dict(json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"')))


def test_a_clerk_sees_the_diagram_state_timeline_tasks_and_clock(centre: Centre) -> None:
    case = centre.start(**r.APPLICATION_BY_AGENT)
    case = centre.do(case, "intake", r.CORRECT)
    case = centre.do(case, "correction", r.CORRECTED)
    case = centre.do(case, "intake", r.ACCEPT)
    review = next(t for t in case["tasks"] if t["element"] == "review_licence")
    cases.claim(centre.svc, centre.users["market_reviewer"], review["id"])
    centre.sign_in("front_desk")
    response = centre.client.get(f"/cases/{case['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    state = _diagram_state(html)
    assert {"intake", "correction"} <= set(state["completed"])
    assert set(state["active"]) >= {"review_licence", "review_food"}
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    assert len(re.findall(r'<tr class="ev-', html)) == len(events)
    assert "收件" in html and "李代办" in html and "(代办人 李代办)" in html
    assert "受理, 开始计时" in html and "一窗受理 → 转入" in html
    assert events[-1]["hash"] not in html  # the clerk's timeline has no hashes
    # the open tasks, one claimed
    tasks = re.search(r'<table class="list tasks">.*?</table>', html, re.S)
    assert tasks
    assert "营业执照审查" in tasks.group(0) and "market_reviewer" in tasks.group(0)
    assert "未认领" in tasks.group(0)
    # the clock: accepted on Monday 2026-03-02, 7 working days
    assert "2026-03-11" in html and "计时中" in html
    assert f'href="/cases/{case["id"]}/correction-notice"' in html
    notice = centre.client.get(f"/cases/{case['id']}/correction-notice")
    assert notice.status_code == 200 and "补正材料告知书" in notice.get_data(as_text=True)


def test_the_certificates_print_and_download_behind_the_session(centre: Centre) -> None:
    case = centre.start()
    for element, data in r.PATHS["granted_without_inspection"][0]:
        case = centre.do(case, element, data)
    centre.sign_in("auditor")  # auditors open case pages too
    html = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "concluded" in _diagram_state(html)["completed"]
    assert "已办结" in html and "已停止计时" in html
    number = r.ISSUANCE["permit_number"]
    assert f'href="/cases/certificates/{number}"' in html
    assert f'href="/cases/certificates/{number}.pdf"' in html
    assert "补正材料告知书" not in html  # there was no correction
    printable = centre.client.get(f"/cases/certificates/{number}")
    assert printable.status_code == 200 and printable.mimetype == "text/html"
    assert number in printable.get_data(as_text=True)
    pdf = centre.client.get(f"/cases/certificates/{number}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert centre.client.get("/cases/certificates/NO-SUCH.pdf").status_code == 404
    assert centre.client.get(f"/cases/{case['id']}/correction-notice").status_code == 404


def test_who_may_open_a_case_page(centre: Centre) -> None:
    case = centre.start()
    number = f"/cases/{case['id']}"
    stranger = centre.client.get(number)
    assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]
    centre.sign_in("designer")
    assert centre.client.get(number).status_code == 403
    centre.sign_in("front_desk")
    assert centre.client.get(number).status_code == 200
    missing = centre.client.get("/cases/999999")
    assert missing.status_code == 404 and "办件 999999 不存在" in missing.get_data(as_text=True)


def test_the_public_progress_lookup_never_tells_whether_a_case_exists(centre: Centre) -> None:
    case = centre.start()
    code = case["access_code"]
    form = centre.client.get("/progress")
    assert form.status_code == 200
    token = _token(form.get_data(as_text=True))
    right = centre.client.post(
        "/progress", data={"number": str(case["id"]), "code": code, "csrf_token": token}
    )
    assert right.status_code == 200
    assert right.headers["Cache-Control"] == "no-store"
    html = right.get_data(as_text=True)
    assert "办理中" in html and "正在办理: 一窗受理" in html and "我要开餐馆" in html
    assert "front_desk" not in html  # no staff names
    answers = []
    for number, given in ((str(case["id"]), "00000000"), ("987654", code), ("abc", code)):
        wrong = centre.client.post(
            "/progress", data={"number": number, "code": given, "csrf_token": token}
        )
        answers.append(
            (wrong.status_code, "办件编号或查询码不正确" in wrong.get_data(as_text=True))
        )
    assert answers == [(403, True)] * 3
    no_token = centre.client.post("/progress", data={"number": str(case["id"]), "code": code})
    assert no_token.status_code == 400
    empty = centre.client.post("/progress", data={"number": "", "code": "", "csrf_token": token})
    assert empty.status_code == 422 and "请填写办件编号和查询码" in empty.get_data(as_text=True)


def test_the_clock_lists_its_pauses(centre: Centre) -> None:
    case = centre.do(centre.start(), "intake", r.ACCEPT_WITH_GAPS)  # Monday: paused at once
    centre.sign_in("front_desk")
    waiting = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'data-clock="paused"' in waiting and "2026-03-02 至 今" in waiting
    centre.clock.advance(days=3)  # Thursday: three working days owed
    case = centre.do(case, "supply_materials", r.SUPPLIED)
    html = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    pauses = re.search(r'<ul class="pauses">(.*?)</ul>', html, re.S)
    assert pauses, "no pauses listed"
    assert re.sub(r"\s+", " ", pauses.group(1)).strip() == (
        f"<li>2026-03-02 至 2026-03-05 (3 个工作日): 等待 {_element_name('supply_materials')}</li>"
    )
    assert "共 3 个工作日" in html and 'data-clock="running"' in html


def _element_name(element: str) -> str:
    """The element's name in the shipped diagram."""
    bpmn = (PROCESSES / "restaurant" / "restaurant.bpmn").read_text()
    found = re.search(rf'id="{element}"[^>]*name="([^"]+)"', bpmn)
    assert found
    return found.group(1)
