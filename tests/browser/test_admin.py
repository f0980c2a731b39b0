"""用户与分组 in the browser: an administrator gives a designer's new group a member."""

from __future__ import annotations

from typing import Any

from engine.services import accounts

from .conftest import Pages


def test_an_admin_creates_a_member_of_a_new_group_and_edits_a_user(
    pages: Pages, staff: dict[str, Any], live_services: Any
) -> None:
    page = pages.new("admin")
    page.click(".mainnav >> text=用户与分组")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/admin/users")
    assert page.locator("h1").inner_text() == "用户与分组"
    assert page.locator("tr[data-user=inspector]").inner_text().count("inspection") == 1

    page.fill("#create input[name=name]", "杨药师")
    page.select_option("#create select[name=role]", "clerk")
    page.check("#create input[name=groups][value=front_desk]")
    page.fill("#create input[name=new_groups]", "drug_review")
    page.click("#create button[type=submit]")
    page.wait_for_load_state()
    token = page.locator("#new-token").inner_text()
    assert "令牌只显示这一次" in page.content()
    assert accounts.authenticate(live_services, token).groups == {"front_desk", "drug_review"}
    pages.shot(page, "admin-token-once")

    pages.goto(page, "/admin/users")
    group = page.locator("tr[data-group=drug_review]")
    assert group.locator("td.num").inner_text() == "1"
    assert "杨药师" in group.inner_text()
    pages.shot(page, "admin-users")

    page.click("tr[data-user=inspector] >> text=编辑")
    page.wait_for_load_state()
    page.select_option("#edit select[name=role]", "designer")
    page.check("#edit input[name=groups][value=drug_review]")
    page.click("#edit button[type=submit]")
    page.wait_for_load_state()
    assert "已保存 inspector 的角色和分组" in page.locator(".flash").inner_text()
    page.fill("#password input[name=password]", "12345678")
    page.fill("#password input[name=confirm]", "12345678")
    page.click("#password button[type=submit]")
    page.wait_for_load_state()
    assert "密码不能是连续的字母、数字" in page.locator("#password [role=alert]").inner_text()
    pages.shot(page, "admin-user-edit")
    changed = next(u for u in accounts.list_users(live_services) if u.name == "inspector")
    assert changed.role == "designer" and changed.groups == {"inspection", "drug_review"}
