"""Signing in and out in the browser, each role landing on its own pages."""

from __future__ import annotations

from typing import Any

from .conftest import PASSWORD, Pages


def test_each_role_lands_on_its_own_pages(pages: Pages, staff: dict[str, Any]) -> None:
    landing = {"designer": "/designer/bundles", "front_desk": "/work/", "auditor": "/audit/"}
    for name, path in landing.items():
        page = pages.new(name)
        assert page.url == pages.live.url(path), name
        assert name in page.locator(".who").inner_text()
    pages.shot(page, "auth-auditor-home")


def test_a_wrong_password_is_refused_in_chinese(pages: Pages, staff: dict[str, Any]) -> None:
    page = pages.new()
    pages.goto(page, "/login")
    pages.shot(page, "auth-login")
    page.fill("input[name=name]", "front_desk")
    page.fill("input[name=password]", PASSWORD + "x")
    page.click("button[type=submit]")
    assert "/login" in page.url
    assert page.locator("[role=alert]").inner_text() == "用户名或密码不正确"
    assert page.locator("input[name=name]").input_value() == "front_desk"


def test_a_stranger_signs_in_first_and_comes_back(pages: Pages, staff: dict[str, Any]) -> None:
    page = pages.new()
    pages.goto(page, "/audit/")
    assert page.url.startswith(pages.live.url("/login"))
    page.fill("input[name=name]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/audit/")


def test_a_clerk_cannot_open_designer_pages(pages: Pages, staff: dict[str, Any]) -> None:
    page = pages.new("front_desk")
    response = pages.goto(page, "/designer/bundles")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert page.locator(".mainnav").inner_text().split() == [
        "我的待办",
        "我的已办",
        "办件查询",
        "抄送我的",
    ]


def test_signing_out_ends_the_session(pages: Pages, staff: dict[str, Any]) -> None:
    page = pages.new("front_desk")
    page.click(".who button")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/login")
    assert "已退出登录" in page.content()
    pages.goto(page, "/work/")
    assert page.url.startswith(pages.live.url("/login"))


def test_repeated_wrong_passwords_say_when_to_try_again(
    pages: Pages, staff: dict[str, Any]
) -> None:
    page = pages.new()
    for attempt in range(5):
        pages.goto(page, "/login")
        page.fill("input[name=name]", "auditor")
        page.fill("input[name=password]", f"wrong password {attempt}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    message = page.locator("[role=alert]").inner_text()
    assert message.startswith("用户名或密码不正确。登录失败次数过多, 请 5 分钟后再试 (")
    pages.shot(page, "auth-login-throttled")
    pages.goto(page, "/login")
    page.fill("input[name=name]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" in page.url
    assert "登录失败次数过多" in page.locator("[role=alert]").inner_text()
