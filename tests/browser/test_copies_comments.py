"""抄送 and 评论 in Chromium (issue 18 · 6 and 9): the window clerk copies a case to a colleague of
another department from the case page; the colleague sees it in 抄送我的 with the badge, opens
it (the reading shows in the timeline), and comments with an attachment, which the timeline
links, signed with their name and department. The case still verifies."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, audit, cases, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages

PDF = b"%PDF-1.4\n% site photo\n"


def test_copy_to_a_colleague_who_reads_and_comments(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    with live_services.uow(write=True) as uow:
        uow.users.set_profile("front_desk", "张敏", "综合窗口")
        uow.users.set_profile("food_reviewer", "李娜", "食品安全科")
        uow.commit()
    front = staff["front_desk"][0]
    case = cases.start_case(live_services, front, "restaurant", r.APPLICATION)
    case = cases.complete(live_services, front, case["tasks"][0]["id"], r.ACCEPT)
    case_id = case["id"]

    # the window clerk copies the case to the food safety reviewer
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case_id}")
    form = page.locator("form.copy-form")
    assert "李娜 (食品安全科)" in form.locator("select[name=to]").inner_text()
    form.locator("select[name=to]").select_option(["user:food_reviewer"])
    form.locator("textarea[name=note]").fill("食品经营许可需关注排烟设施, 请阅知")
    pages.shot(page, "copies-form")
    with page.expect_navigation():
        form.locator("button.copy-button").click()
    assert "已抄送 1 人: food_reviewer" in page.locator(".flash").inner_text()
    assert page.locator("tr.ev-case_copied").count() == 1
    assert "未读" in page.locator("#copies li[data-reader=food_reviewer]").inner_text()

    # the colleague: the badge, 抄送我的, the case opened and the reading recorded
    reader = pages.new("food_reviewer")
    link = reader.locator(".topbar a.copies-link")
    assert link.locator(".unread-badge").inner_text() == "1"
    with reader.expect_navigation():
        link.click()
    assert reader.url == pages.live.url("/work/copies")
    row = reader.locator("tr.copy").first
    assert "unread" in (row.get_attribute("class") or "")
    assert "张敏 (综合窗口)" in row.inner_text() and "排烟设施" in row.inner_text()
    pages.shot(reader, "copies-mine-unread")
    with reader.expect_navigation():
        row.locator("a.copy-open").click()
    assert reader.url == pages.live.url(f"/cases/{case_id}")
    read_row = reader.locator("tr.ev-copy_read")
    assert read_row.count() == 1 and "已阅读抄送的办件" in read_row.inner_text()
    assert reader.locator(".topbar a.copies-link .unread-badge").count() == 0

    # ... and comments with an attachment
    box = reader.locator("form.comment-form")
    box.locator("textarea[name=text]").fill("已阅。建议现场踏勘时核对排烟管道, 照片见附件")
    box.locator("input[name=attachments]").set_input_files(
        [{"name": "排烟设施.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with reader.expect_navigation():
        box.locator("button.comment-button").click()
    assert "评论已发表" in reader.locator(".flash").inner_text()
    comment = reader.locator("tr.ev-case_commented")
    assert comment.count() == 1
    assert "李娜 (食品安全科)" in comment.inner_text()
    assert "建议现场踏勘时核对排烟管道" in comment.inner_text()
    attachment = comment.locator("a.attachment-link")
    assert attachment.inner_text() == "排烟设施.pdf"
    pages.shot(reader, "copies-comment-timeline")
    href = attachment.get_attribute("href")
    assert href is not None
    got = reader.request.get(pages.live.url(href))
    assert got.status == 200 and got.body() == PDF

    pages.goto(reader, "/work/copies")
    assert "read" in (reader.locator("tr.copy").first.get_attribute("class") or "")
    pages.shot(reader, "copies-mine-read")

    # the reviewer's task page lists the comment too
    review = next(t["id"] for t in case["tasks"] if t["element"] == "review_food")
    pages.goto(reader, f"/work/tasks/{review}")
    listed = reader.locator("section.comments li.comment")
    assert listed.count() == 1 and "排烟设施.pdf" in listed.inner_text()
    pages.shot(reader, "copies-task-comments")

    verdict = audit.replay(live_services, staff["auditor"][0], case_id)
    assert verdict["verified"], verdict
