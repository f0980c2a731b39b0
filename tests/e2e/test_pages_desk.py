"""The window's daily tools (issue 17 · C) through the app's test client, on SQLite and
PostgreSQL: the 已办 list, the staff case search (each criterion), the next step after an action,
the 受理通知书 and 不予受理通知书, 取消认领, and the 收件 button only for the window."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from engine.services import Services
from tests.e2e.test_pages_clerk import Desk, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _done_cases(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<tr data-case="(\d+)" data-task=', html)]


def _found_cases(html: str) -> list[int]:
    return [int(c) for c in re.findall(r'<tr data-case="(\d+)">', html)]


def _complete(desk: Desk, clerk: str, task_id: str, data: dict[str, Any]) -> Any:
    client = desk.client(clerk)
    page = client.get(f"/work/tasks/{task_id}").get_data(as_text=True)
    form: dict[str, Any] = {"csrf_token": _token(page)}
    for key, value in data.items():
        if isinstance(value, bool):
            form[key] = "true" if value else "false"
        else:
            form[key] = value
    return client.post(f"/work/tasks/{task_id}", data=form)


def _task(case: dict[str, Any], element: str) -> str:
    return str(next(t["id"] for t in case["tasks"] if t["element"] == element))


# ------------------------------------------------------------------ 已办


def test_the_done_list_shows_my_completed_tasks_newest_first_with_my_decision(desk: Desk) -> None:
    first = desk.start(applicant_name="王五")
    second = desk.start(applicant_name="赵六")
    desk.do(first, "intake", "front_desk", r.ACCEPT)
    desk.clock.advance(minutes=5)
    desk.do(second, "intake", "front_desk", r.REFUSE)
    client = desk.client("front_desk")
    html = client.get("/work/done").get_data(as_text=True)
    assert _done_cases(html) == [second["id"], first["id"]]
    text = _text(html)
    assert "受理决定: 不予受理" in text and "不属于本中心受理范围" in text
    assert "受理决定: 受理" in text and "材料齐全" in text
    assert "王五" in text and "赵六" in text and "我要开餐馆" in text and "一窗受理" in text
    assert "2026-03-02 09:05" in text  # local time
    assert f'href="/cases/{first["id"]}"' in html
    # the top bar leads there
    assert 'href="/work/done"' in client.get("/work/").get_data(as_text=True)
    # someone else's list does not have them
    other = desk.client("other_clerk").get("/work/done").get_data(as_text=True)
    assert _done_cases(other) == [] and "还没有办理过任务" in _text(other)


def test_the_done_list_pages_by_keyset(desk: Desk) -> None:
    started = [desk.start(applicant_name=f"申请人{i:02d}") for i in range(30)]
    for case in started:
        desk.do(case, "intake", "front_desk", r.ACCEPT)
    client = desk.client("front_desk")
    html = client.get("/work/done").get_data(as_text=True)
    page1 = _done_cases(html)
    assert page1 == [c["id"] for c in reversed(started)][:25]
    after = re.search(r'<a href="([^"]+)" class="next"', html)
    assert after
    html2 = client.get(unescape(after.group(1))).get_data(as_text=True)
    assert _done_cases(html2) == [c["id"] for c in reversed(started)][25:]
    assert 'class="next"' not in html2 and 'class="first"' in html2
    assert len(_done_cases(client.get("/work/done?size=50").get_data(as_text=True))) == 30
    bad = client.get("/work/done?after=abc")
    assert bad.status_code == 422 and "分页位置无效" in bad.get_data(as_text=True)


def test_only_staff_have_a_done_list(desk: Desk) -> None:
    assert desk.client("auditor").get("/work/done").status_code == 403
    assert desk.app.test_client().get("/work/done").status_code == 302  # to sign in


# ------------------------------------------------------------------ the staff case search


def test_the_staff_search_finds_cases_by_each_criterion(desk: Desk) -> None:
    zhang = desk.start()  # 张三, id 91330102MA2H0ABC1X
    desk.clock.advance(days=1)
    li = desk.start(applicant_name="李四", applicant_id_number="330102198001010011")
    desk.do(li, "intake", "front_desk", r.REFUSE)  # 不予受理: the case ends
    desk.clock.advance(days=1)
    wang = desk.start(applicant_name="王小二", applicant_id_number="330102198001010022")
    client = desk.client("market_reviewer")  # a reviewer searches too

    def found(query: str) -> list[int]:
        response = client.get(f"/work/search?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return _found_cases(response.get_data(as_text=True))

    everything = [wang["id"], li["id"], zhang["id"]]
    assert found("") == everything
    assert found(f"number={li['id']}") == [li["id"]]
    assert found("applicant=李") == [li["id"]]
    assert found("applicant=王") == [wang["id"]]
    assert found("id_number=330102198001010022") == [wang["id"]]
    assert found("id_number=3301021980") == []  # the id number is matched whole
    assert found("applicant=张三&id_number=91330102MA2H0ABC1X") == [zhang["id"]]
    assert found("applicant=张三&id_number=330102198001010022") == []
    assert found("bundle=restaurant") == everything
    assert found("bundle=nothing") == []
    assert found("status=completed") == [li["id"]]
    assert found("status=running") == [wang["id"], zhang["id"]]
    assert found("received_from=2026-03-03") == [wang["id"], li["id"]]
    assert found("received_to=2026-03-03") == [li["id"], zhang["id"]]
    assert found("received_from=2026-03-03&received_to=2026-03-03") == [li["id"]]
    page = client.get(f"/work/search?number={wang['id']}").get_data(as_text=True)
    assert f'href="/cases/{wang["id"]}" class="case-link"' in page
    assert "王小二" in page and "330102198001010022" in page

    bad = client.get("/work/search?received_from=2026-13-01&number=x&status=nope")
    assert bad.status_code == 422
    text = _text(bad.get_data(as_text=True))
    assert "日期格式应为 年-月-日" in text and "办件编号应为正整数" in text and "状态无效" in text


def test_the_staff_search_pages(desk: Desk) -> None:
    made = [desk.start(applicant_name=f"申请人{i:02d}") for i in range(27)]
    client = desk.client("front_desk")
    html = client.get("/work/search?applicant=申请人").get_data(as_text=True)
    assert _found_cases(html) == [c["id"] for c in reversed(made)][:25]
    link = re.search(r'<a href="([^"]+)" rel="next"', html)
    assert link
    rest = client.get(unescape(link.group(1))).get_data(as_text=True)
    assert _found_cases(rest) == [c["id"] for c in reversed(made)][25:]


def test_designers_cannot_search_at_the_window(desk: Desk) -> None:
    assert desk.client("designer").get("/work/search").status_code == 403


# ------------------------------------------------------------------ the next step, the notices


def test_after_accepting_the_flash_gives_the_deadline_and_the_acceptance_notice(
    desk: Desk,
) -> None:
    case = desk.start()
    response = _complete(desk, "front_desk", _task(case, "intake"), r.ACCEPT)
    assert response.status_code == 302
    page = desk.client("front_desk").get(response.headers["Location"]).get_data(as_text=True)
    flash = re.search(r'<div class="flash flash-success"[^>]*>(.*?)</div>', page, re.S)
    assert flash, page
    # 7 working days (the longest promised limit of the two items) from Monday 2026-03-02
    assert "已受理, 承诺期限 2026-03-11" in _text(flash.group(1))
    notice_url = f"/cases/{case['id']}/notices/acceptance"
    assert f'href="{notice_url}" class="next-acceptance"' in flash.group(1)

    notice = desk.client("front_desk").get(notice_url)
    assert notice.status_code == 200
    text = _text(notice.get_data(as_text=True))
    assert "受理通知书" in text and f"办件编号 {case['id']}" in text
    assert "张三" in text and "杭州市上城区市场监督管理局" in text
    assert "第三十二条" in text and "决定予以受理" in text
    assert "7 个工作日, 至 2026-03-11" in text
    assert "2026-03-02" in text and "经办人: front_desk" in text
    # and the case page links it
    case_page = desk.client("front_desk").get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f'href="{notice_url}"' in case_page
    assert "/notices/refusal" not in case_page
    assert desk.client("front_desk").get(f"/cases/{case['id']}/notices/refusal").status_code == 404


def test_a_refusal_has_its_notice_with_the_reason(desk: Desk) -> None:
    from engine.services import accounts

    accounts.edit_user(desk.svc, "front_desk", display_name="张敏", department="综合窗口")
    case = desk.start()
    desk.clock.advance(hours=16)  # 2026-03-03 01:00 local: the local date, not UTC's
    response = _complete(desk, "front_desk", _task(case, "intake"), r.REFUSE)
    page = desk.client("front_desk").get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="next-refusal"' in page and "打印不予受理通知书" in page
    notice = desk.client("auditor").get(f"/cases/{case['id']}/notices/refusal")
    assert notice.status_code == 200
    text = _text(notice.get_data(as_text=True))
    assert "不予受理通知书" in text and "决定不予受理" in text and "第三十二条" in text
    assert "不属于本中心受理范围" in text and "行政复议" in text
    assert "2026-03-03" in text and "经办人: 张敏 (综合窗口)" in text
    assert (
        desk.client("front_desk").get(f"/cases/{case['id']}/notices/acceptance").status_code == 404
    )
    case_page = desk.client("auditor").get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f'href="/cases/{case["id"]}/notices/refusal"' in case_page
    assert desk.client("front_desk").get(f"/cases/{case['id']}/notices/other").status_code == 404


def test_after_correction_the_flash_links_the_correction_notice(desk: Desk) -> None:
    case = desk.start()
    response = _complete(desk, "front_desk", _task(case, "intake"), r.CORRECT)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = desk.client("front_desk").get(response.headers["Location"]).get_data(as_text=True)
    link = f'href="/cases/{case["id"]}/correction-notice" class="next-correction"'
    assert link in page and "打印补正材料告知书" in page
    assert "承诺期限" not in _text(
        re.findall(r'class="flash flash-success".*?</div>', page, re.S)[0]
    )


def test_after_issuing_the_flash_lists_the_certificates_to_print(desk: Desk) -> None:
    case = desk.start()
    case = desk.do(case, "intake", "front_desk", r.ACCEPT)
    case = desk.do(case, "review_licence", "market_reviewer", r.LICENCE_OK)
    case = desk.do(case, "review_food", "food_reviewer", r.FOOD_OK)
    response = _complete(desk, "issuer", _task(case, "joint_issuance"), r.ISSUANCE)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = desk.client("issuer").get(response.headers["Location"]).get_data(as_text=True)
    certificates = re.findall(r'href="(/cases/certificates/[^"]+)" class="next-certificate"', page)
    assert len(certificates) == 2
    assert "已发证, 打印证照" in page and "营业执照" in page and "食品经营许可证" in page
    assert desk.client("issuer").get(certificates[0]).status_code == 200


# ------------------------------------------------------------------ the worklist's words and buttons


def test_only_the_window_sees_the_intake_button(desk: Desk) -> None:
    desk.start()
    assert "一窗受理 · 收件" in desk.client("front_desk").get("/work/").get_data(as_text=True)
    for reviewer in ("market_reviewer", "food_reviewer", "inspector", "issuer"):
        worklist = desk.client(reviewer).get("/work/").get_data(as_text=True)
        assert "一窗受理 · 收件" not in worklist, reviewer
        assert "/work/start/restaurant" not in desk.client(reviewer).get("/work/start").get_data(
            as_text=True
        )
    assert "/work/start/restaurant" in desk.client("admin").get("/work/start").get_data(
        as_text=True
    )


def test_releasing_a_claim_is_called_cancel_claim(desk: Desk) -> None:
    case = desk.start()
    task = _task(case, "intake")
    client = desk.client("front_desk")
    token = _token(client.get("/work/").get_data(as_text=True))
    client.post(f"/work/tasks/{task}/claim", data={"csrf_token": token, "next": "/work/"})
    worklist = client.get("/work/").get_data(as_text=True)
    assert re.search(r'class="unclaim"[^>]*>取消认领</button>', worklist)
    assert ">退回<" not in worklist
    done = client.post(f"/work/tasks/{task}/unclaim", data={"csrf_token": token, "next": "/work/"})
    assert "已取消认领" in client.get(done.headers["Location"]).get_data(as_text=True)
    timeline = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "取消认领" in timeline and "退回任务" not in timeline


def test_the_required_star_is_inside_its_label(desk: Desk) -> None:
    case = desk.start()
    page = (
        desk.client("front_desk").get(f"/work/tasks/{_task(case, 'intake')}").get_data(as_text=True)
    )
    assert re.search(r'<legend class="required">受理决定</legend>', page)
    response = desk.app.test_client().get("/static/css/responsive.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "label.required:not(.check) { display: block; }" in css
