"""The bundle lifecycle in the browser (issue 16 §2): a designer uploads a bundle as a draft, which
the public 办事指南 and the clerk's 收件 list do not show, then publishes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import Pages
from .test_designer import RESTAURANT, _zip_directory


def test_upload_as_a_draft_then_publish(
    pages: Pages, staff: dict[str, Any], tmp_path: Path
) -> None:
    page = pages.new("designer")
    pages.goto(page, "/designer/upload")
    draft_choice = page.locator("input[name=mode][value=draft]")
    assert draft_choice.is_checked()  # the page's default, said on the page
    assert "保存为草稿 (默认)" in page.locator(".upload-mode").inner_text()
    page.set_input_files("input[name=file]", str(_zip_directory(RESTAURANT, tmp_path / "r.zip")))
    pages.shot(page, "lifecycle-upload-draft")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/designer/bundles/restaurant/1")
    assert "保存为草稿" in page.locator(".flash").inner_text()
    assert page.locator("h1 [data-status=draft]").inner_text() == "草稿"
    pages.wait_for_diagram(page, "#version-diagram")
    pages.shot(page, "lifecycle-draft-version")

    # neither the public nor a clerk sees the draft
    public = pages.new()
    pages.goto(public, "/guide")
    assert "我要开餐馆" not in public.locator("main").inner_text()
    clerk = pages.new("front_desk")
    pages.goto(clerk, "/work/start")
    assert "我要开餐馆" not in clerk.locator("main").inner_text()

    # 发布 needs its confirmation box: the browser refuses the form until it is ticked
    page.click("button[data-action=publish]")
    assert page.url == pages.live.url("/designer/bundles/restaurant/1")
    assert page.locator("h1 [data-status=draft]").count() == 1
    page.check("form:has(button[data-action=publish]) input[name=confirm]")
    pages.shot(page, "lifecycle-publish-confirm", full_page=False)
    page.click("button[data-action=publish]")
    page.wait_for_load_state()
    assert "已发布第 1 版: 新办件将按此版本办理" in page.locator(".flash").inner_text()
    assert page.locator("h1 [data-status=published]").inner_text() == "已发布"
    history = page.locator("table.transitions tbody tr")
    assert history.count() == 2 and "草稿 → 已发布" in history.first.inner_text()
    page.locator("#history").scroll_into_view_if_needed()
    pages.shot(page, "lifecycle-published")

    pages.goto(public, "/guide")
    assert "我要开餐馆" in public.locator("main").inner_text()
    pages.goto(clerk, "/work/start")
    assert "我要开餐馆" in clerk.locator("main").inner_text()
    pages.goto(page, "/designer/bundles")
    assert page.locator("[data-bundle=restaurant] [data-state=published]").inner_text() == "已发布"
    pages.shot(page, "lifecycle-bundles")
