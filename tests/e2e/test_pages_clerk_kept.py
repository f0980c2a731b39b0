"""Nothing lost or doubled at the window (issue 17 · B), on SQLite and PostgreSQL through the
app's test client: 收件 redirects to its receipt and a refresh or a second send creates nothing;
`Idempotency-Key` on the API; the same applicant's open case is shown before a second; a refused
submit (an oversize photo) keeps every other field and the accepted files; 撤回 in the pages."""

from __future__ import annotations

import gc
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.persistence.tables import case_events, idempotency_keys
from engine.persistence.tables import cases as cases_table
from engine.services import Services, queries
from tests.e2e.test_pages_clerk import Desk, _token
from tests.fixtures import restaurant as r

BIG = 2_600_000  # a 2.6 MB photo: over the 2 MB limit
SMALL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def _count(desk: Desk, table: Any = cases_table) -> int:
    with desk.svc.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _start_fields(page: str) -> dict[str, str]:
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token, "the start form carries its one-time token"
    return {
        **{k: str(v) for k, v in r.APPLICATION.items()},
        "csrf_token": _token(page),
        "form_token": token.group(1),
    }


# ------------------------------------------------------------------ 收件: Post/Redirect/Get


def test_the_receipt_is_a_redirect_and_neither_refresh_nor_resend_creates_a_case(
    desk: Desk,
) -> None:
    front = desk.client("front_desk")
    fields = _start_fields(front.get("/work/start/restaurant").get_data(as_text=True))
    response = front.post("/work/start/restaurant", data=fields)
    assert response.status_code == 302
    where = response.headers["Location"]
    number = int(re.search(r"/work/cases/(\d+)/receipt$", where).group(1))  # type: ignore[union-attr]
    assert _count(desk) == 1

    first = front.get(where)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    html = first.get_data(as_text=True)
    code = re.search(r'id="access-code">([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){2})<', html)
    assert code and "已收件, 办件编号" in html
    assert f'class="case-no">{number}<' in html

    # a refresh (or reopening) shows the receipt without the code, and creates nothing
    again = front.get(where).get_data(as_text=True)
    assert code.group(1) not in again and 'id="access-code-gone"' in again
    assert "不再显示查询码" in again and "已收件, 办件编号" not in again
    assert _count(desk) == 1

    # the same form sent again (back, then 提交 once more): the same case, said so
    response = front.post("/work/start/restaurant", data=fields)
    assert response.status_code == 302 and response.headers["Location"] == where
    assert "没有重复创建办件" in front.get(where).get_data(as_text=True)
    assert _count(desk) == 1
    # another clerk cannot read the code: it waits for its own clerk only, and was read
    assert desk.client("other_clerk").get(where).status_code == 200
    assert code.group(1) not in desk.client("other_clerk").get(where).get_data(as_text=True)


def test_the_same_applicant_with_an_open_case_is_warned_before_a_second(desk: Desk) -> None:
    first = desk.start()
    front = desk.client("front_desk")
    fields = _start_fields(front.get("/work/start/restaurant").get_data(as_text=True))
    fields["shop_name"] = "老张面馆二店"
    response = front.post("/work/start/restaurant", data=fields)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该申请人已有同一事项的在办件" in html and f'href="/cases/{first["id"]}"' in html
    assert 'value="老张面馆二店"' in html and 'name="anyway"' in html  # nothing typed is lost
    assert _count(desk) == 1

    fields["form_token"] = re.search(r'name="form_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    response = front.post("/work/start/restaurant", data={**fields, "anyway": "1"})
    assert response.status_code == 302
    assert _count(desk) == 2

    # another applicant, or the first case withdrawn: no warning
    other = _start_fields(front.get("/work/start/restaurant").get_data(as_text=True))
    other["applicant_id_number"] = "330102199001011234"
    assert front.post("/work/start/restaurant", data=other).status_code == 302


# ------------------------------------------------------------------ Idempotency-Key (API)


def test_idempotency_key_on_post_cases_and_task_completion(desk: Desk) -> None:
    api = desk.app.test_client()
    headers = {**desk.users["front_desk"].headers, "Idempotency-Key": "desk-7f3a-0001"}
    body = {"bundle": "restaurant", "data": r.APPLICATION}
    first = api.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == 201
    again = api.post("/api/v1/cases", json=body, headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert _count(desk) == 1

    # the same key with another request: refused, nothing done
    other = {"bundle": "restaurant", "data": {**r.APPLICATION, "shop_name": "别家"}}
    refused = api.post("/api/v1/cases", json=other, headers=headers)
    assert refused.status_code == 422
    assert "Idempotency-Key 已用于另一个请求" in refused.get_json()["error"]
    assert _count(desk) == 1
    # keys are per user: another clerk's same key is another key
    theirs = {**desk.users["other_clerk"].headers, "Idempotency-Key": "desk-7f3a-0001"}
    assert api.post("/api/v1/cases", json=body, headers=theirs).status_code == 201
    assert _count(desk) == 2

    # task completion
    task = first.get_json()["tasks"][0]["id"]
    done = {"data": r.ACCEPT}
    key = {**desk.users["front_desk"].headers, "Idempotency-Key": "complete-1"}
    events = _count(desk, case_events)
    one = api.post(f"/api/v1/tasks/{task}/complete", json=done, headers=key)
    assert one.status_code == 200
    after = _count(desk, case_events)
    assert after > events
    two = api.post(f"/api/v1/tasks/{task}/complete", json=done, headers=key)
    assert two.status_code == 200 and two.get_json() == one.get_json()
    assert _count(desk, case_events) == after
    # without the key the repeat is refused as before (the task is done)
    assert (
        api.post(
            f"/api/v1/tasks/{task}/complete", json=done, headers=desk.users["front_desk"].headers
        ).status_code
        == 409
    )

    # a failed step gives its key back; a bad key is a 422 naming the header
    bad = {**desk.users["front_desk"].headers, "Idempotency-Key": "retry-1"}
    assert api.post("/api/v1/cases", json={"bundle": "nope"}, headers=bad).status_code == 404
    assert api.post("/api/v1/cases", json=body, headers=bad).status_code == 201
    spaced = {**desk.users["front_desk"].headers, "Idempotency-Key": "a key"}
    answer = api.post("/api/v1/cases", json=body, headers=spaced)
    assert answer.status_code == 422 and "Idempotency-Key" in answer.get_json()["error"]

    # keys expire after 24 hours (dropped when the next key is claimed)
    desk.clock.advance(hours=25)
    assert api.post("/api/v1/cases", json=other, headers=headers).status_code == 201
    with desk.svc.engine.connect() as conn:
        keys = conn.execute(select(idempotency_keys.c.key)).scalars().all()
    assert "complete-1" not in keys and "desk-7f3a-0001" in keys


# ------------------------------------------------------------------ a refused submit keeps all


def _inspection_task(desk: Desk) -> tuple[dict[str, Any], str]:
    case = desk.start()
    for element, data in r.PATHS["granted_with_inspection"][0][:3]:
        case = desk.do(case, element, _who(element), data)
    task = next(t for t in case["tasks"] if t["element"] == "site_inspection")
    return case, task["id"]


def _who(element: str) -> str:
    return {
        "intake": "front_desk",
        "review_licence": "market_reviewer",
        "review_food": "food_reviewer",
        "site_inspection": "inspector",
    }[element]


# Werkzeug's test client spools a body over 500 KB to a temporary file it never closes
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_oversize_photo_keeps_every_other_field_and_accepted_files_are_held(
    desk: Desk,
) -> None:
    case, task = _inspection_task(desk)
    inspector = desk.client("inspector")
    page = inspector.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert 'data-max-bytes="2097152"' in page and 'data-too-large="文件不能超过 2 MB"' in page
    typed = {
        "csrf_token": _token(page),
        "inspection_passed": "false",
        "inspection_method": "onsite",
        "inspection_report": "后厨排水沟未加盖",
        "inspection_date": "2026-03-02",
    }
    big = (io.BytesIO(b"\xff" * BIG), "site.jpg", "image/jpeg")
    response = inspector.post(
        f"/work/tasks/{task}",
        data={**typed, "site_photo": big},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "文件不能超过 2 MB, 请重新选择较小的文件" in html
    assert "后厨排水沟未加盖</textarea>" in html and 'value="2026-03-02"' in html
    assert re.search(r'value="onsite"[^>]*checked', html)
    assert re.search(r'name="inspection_passed" value="false"[^>]*checked', html)

    # a small photo with a problem elsewhere: the photo is held, not chosen again
    small = (io.BytesIO(SMALL_PNG), "现场.png", "image/png")
    no_report = {**typed, "inspection_report": ""}
    response = inspector.post(
        f"/work/tasks/{task}",
        data={**no_report, "site_photo": small},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    held = re.search(r'name="site_photo" value="(held:[^"]+)"', html)
    assert held and '已上传: <strong class="held-name">现场.png</strong>' in html
    assert "data:image/png" not in html  # the file is not sent back and forth in the page
    # someone else cannot use the token
    assert _count(desk) == 1

    response = inspector.post(
        f"/work/tasks/{task}",
        data={**typed, "site_photo": held.group(1)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    data = queries.get_case(desk.svc, desk.users["inspector"].user, case["id"])["data"]
    assert data["site_photo"].startswith("data:image/png;name=%E7%8E%B0%E5%9C%BA.png;base64,")
    assert data["inspection_report"] == "后厨排水沟未加盖"
    gc.collect()  # the test client's spooled body goes here, not in the next test


def test_a_held_file_is_only_its_uploaders(desk: Desk) -> None:
    from web.pages import kept_form

    token = kept_form.hold("inspector", "data:image/png;base64,AAAA")
    assert kept_form.take("front_desk", token) is None
    assert kept_form.take("inspector", token) == "data:image/png;base64,AAAA"
    assert kept_form.take("inspector", "../../etc/passwd") is None


# ------------------------------------------------------------------ 撤回


def test_withdrawing_a_case_in_the_pages(desk: Desk) -> None:
    case = desk.start()
    front = desk.client("front_desk")
    page = front.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="withdraw"' in page and f'action="/cases/{case["id"]}/withdraw"' in page
    token = _token(page)
    task = front.get(f"/work/tasks/{case['tasks'][0]['id']}").get_data(as_text=True)
    assert f'action="/cases/{case["id"]}/withdraw"' in task

    # no reason, no confirmation: refused, the case as it was
    response = front.post(f"/cases/{case['id']}/withdraw", data={"csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写撤回原因" in html and "请勾选确认" in html
    response = front.post(
        f"/cases/{case['id']}/withdraw",
        data={"csrf_token": token, "reason": "  ", "confirm": "yes"},
    )
    assert response.status_code == 422
    assert queries.get_case(desk.svc, desk.users["front_desk"].user, case["id"])["status"] == (
        "running"
    )

    # a reviewer who neither holds, received nor supervises the case: no form, and 403
    reviewer = desk.client("food_reviewer")
    assert 'id="withdraw"' not in reviewer.get(f"/cases/{case['id']}").get_data(as_text=True)
    refused = reviewer.post(
        f"/cases/{case['id']}/withdraw",
        data={"csrf_token": token, "reason": "误收", "confirm": "yes"},
    )
    assert refused.status_code in (400, 403)  # another session's CSRF token, or the rule
    reviewer_token = _token(reviewer.get("/work/").get_data(as_text=True))
    refused = reviewer.post(
        f"/cases/{case['id']}/withdraw",
        data={"csrf_token": reviewer_token, "reason": "误收", "confirm": "yes"},
    )
    assert refused.status_code == 403

    response = front.post(
        f"/cases/{case['id']}/withdraw",
        data={"csrf_token": token, "reason": "申请人撤回申请", "confirm": "yes"},
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case['id']}"
    html = front.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "已撤回" in html and "原因: 申请人撤回申请" in html
    assert 'id="withdraw"' not in html  # nothing left to withdraw
    assert queries.get_case(desk.svc, desk.users["front_desk"].user, case["id"])["status"] == (
        "cancelled"
    )
