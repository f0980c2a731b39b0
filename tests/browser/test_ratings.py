"""好差评 and 整改 in Chromium (issue 17 · F): the applicant follows a case on the public progress
page (timeline, what to do now, where to collect the licences), at 1366 px and on a 390 px phone,
and rates it after 办结; the supervisor then does the 整改 with an attachment, and the 回访."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.services import Services, queries
from tests.fixtures import restaurant as r

from .conftest import Pages
from .test_cases import ISSUED, drive


def _look_up(pages: Pages, page: Any, case: dict[str, Any]) -> None:
    pages.goto(page, "/progress")
    page.fill("input[name=number]", str(case["id"]))
    page.fill("input[name=code]", case["access_code"])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    seen = page.evaluate("document.documentElement.clientWidth")
    assert wide <= seen, f"the page scrolls sideways: {wide} > {seen}"


def test_the_applicant_sees_what_to_do_then_rates_the_concluded_case(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    waiting = drive(live_services, staff, [("intake", r.CORRECT)])
    page = pages.new()  # the applicant: no sign-in
    _look_up(pages, page, waiting)
    todo = page.locator(".to-do")
    assert "您现在需要: 补正" in todo.inner_text()
    assert "经营场所使用证明(租赁合同或产权证明)" in todo.inner_text()
    steps = page.locator(".public-timeline .step").all_inner_texts()
    assert steps[:2] == ["收件", "一窗受理: 补正"], steps
    pages.shot(page, "f-progress-correction")

    case = drive(live_services, staff, ISSUED)
    page = pages.new()
    _look_up(pages, page, case)
    assert "上城区市民之家一楼" in page.locator(".collection").inner_text()
    steps = page.locator(".public-timeline .step").all_inner_texts()
    assert steps[0] == "收件" and steps[-1] == "办结" and "统一发证" in steps, steps
    assert "joint_issuance" not in page.content() and "issuer" not in page.content()
    pages.shot(page, "f-progress-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_sideways_scroll(page)
    pages.shot(page, "f-progress-390")
    page.set_viewport_size({"width": 1366, "height": 768})

    form = page.locator("form.rating-form")
    form.get_by_label("不满意", exact=True).check()
    form.locator("textarea[name=comment]").fill("补正材料来回跑了两趟")
    pages.shot(page, "f-rating-form")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/progress/{case['id']}")
    assert "感谢您的评价" in page.content()
    assert "不满意" in page.locator(".rated").inner_text()
    assert page.locator("form.rating-form").count() == 0
    pages.shot(page, "f-progress-rated")
    page.reload()  # the redirect: refreshing sends nothing again
    assert page.locator("[role=alert]").count() == 0
    kinds = [
        t["kind"]
        for t in queries.get_case(live_services, staff["supervisor"][0], case["id"])["tasks"]
    ]
    assert kinds == ["rectification"]


def test_the_supervisor_rectifies_with_an_attachment_then_follows_up(
    pages: Pages, staff: dict[str, Any], live_services: Services, tmp_path: Path
) -> None:
    case = drive(live_services, staff, ISSUED)
    applicant = pages.new()
    _look_up(pages, applicant, case)
    applicant.locator("form.rating-form").get_by_label("非常不满意").check()
    applicant.locator("form.rating-form textarea[name=comment]").fill("等了很久没人理")
    applicant.locator("form.rating-form button[type=submit]").click()
    applicant.wait_for_load_state()
    [task] = queries.get_case(live_services, staff["supervisor"][0], case["id"])["tasks"]

    page = pages.new("supervisor")
    pages.goto(page, f"/work/tasks/{task['id']}")
    complaint = page.locator(".complaint")
    assert "非常不满意" in complaint.inner_text() and "等了很久没人理" in complaint.inner_text()
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(b"%PDF-1.4\n% rectification report\n")
    page.fill("textarea[name=measures], input[name=measures]", "窗口增设叫号提醒, 专人跟踪补正件")
    page.fill("textarea[name=result], input[name=result]", "已约谈窗口负责人, 整改完成")
    page.set_input_files("input[name=attachment]", str(report))
    pages.shot(page, "f-rectification-task")
    page.click("#task-form button[type=submit]")
    page.wait_for_load_state()
    assert "/work/tasks/" not in page.url, page.locator("[role=alert]").all_inner_texts()

    [follow_up] = queries.get_case(live_services, staff["supervisor"][0], case["id"])["tasks"]
    assert follow_up["kind"] == "follow_up"
    pages.goto(page, f"/work/tasks/{follow_up['id']}")
    assert "窗口增设叫号提醒" in page.locator(".complaint").inner_text()
    page.get_by_label("满意", exact=True).check()
    page.fill("textarea[name=applicant_answer]", "后来很快就办好了")
    pages.shot(page, "f-follow-up-task")
    page.click("#task-form button[type=submit]")
    page.wait_for_load_state()
    events = queries.events(live_services, staff["auditor"][0], case["id"])
    done = [e for e in events if e["type"] == "task_completed"][-2:]
    assert done[0]["data"]["form"]["attachment"].startswith("data:")
    assert done[1]["data"]["form"]["applicant_answer"] == "后来很快就办好了"


def test_the_window_records_the_rating_given_at_the_counter(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, ISSUED)
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case['id']}")
    form = page.locator("form.window-rating-form")
    form.get_by_label("满意", exact=True).check()
    form.locator("textarea[name=comment]").fill("窗口一次讲清楚了")
    form.scroll_into_view_if_needed()
    pages.shot(page, "f-case-window-rating-form")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已登记窗口评价: 满意" in page.content()
    assert "(窗口评价)" in page.locator(".window-rating").inner_text()
    pages.shot(page, "f-case-window-rating")
    # the applicant may still rate online afterwards
    applicant = pages.new()
    _look_up(pages, applicant, case)
    assert applicant.locator("form.rating-form").count() == 1
