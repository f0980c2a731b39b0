"""Dates and names as printed, in Chromium (issue 17 · E): the administrator gives a clerk a
display name and department; the 补正告知书 that clerk decided at 01:04 on 12-05 Beijing time is
dated 12-05 and signed with them; the case page marks 暂定 on exactly the deadline reaching the
unpublished 2027; a 整改 task in the worklist shows its own limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, follow_ups, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import CLERK_OF

from .conftest import Pages

EARLY_SATURDAY = datetime(2026, 12, 4, 17, 4, tzinfo=UTC)  # 01:04 on 12-05 in Beijing


def _at(live_services: Services, now: datetime) -> Services:
    """The same database, on a clock standing at `now`."""
    return Services(live_services.engine, live_services.forms.root, clock=FakeClock(now))


def _drive(
    svc: Services, staff: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test", skip_unchanged=True)
    case = cases.start_case(svc, staff["front_desk"][0], "restaurant", dict(r.APPLICATION))
    code = case["access_code"]
    for element, form in steps:
        user = staff[CLERK_OF[element]][0]
        task = next(t for t in case["tasks"] if t["element"] == element)
        cases.claim(svc, user, task["id"])
        case = cases.complete(svc, user, task["id"], form)
    case["access_code"] = code
    return case


def test_a_clerks_display_name_signs_the_locally_dated_correction_notice(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    admin = pages.new("admin")
    pages.goto(admin, f"/admin/users/{staff['front_desk'][0].id}")
    admin.fill("#edit input[name=display_name]", "张敏")
    admin.fill("#edit input[name=department]", "综合窗口")
    admin.click("#edit button[type=submit]")
    admin.wait_for_load_state()
    assert "已保存 front_desk 的角色和分组及署名" in admin.locator(".flash").inner_text()
    assert "张敏 (综合窗口)" in admin.locator("h1").inner_text()
    assert "姓名: 张敏; 部门: 综合窗口" in admin.locator("#changes").inner_text()
    pages.shot(admin, "e17-admin-user-profile")
    pages.goto(admin, "/admin/users")
    assert admin.locator("tr[data-user=front_desk] td.signature").inner_text() == "张敏 (综合窗口)"
    pages.shot(admin, "e17-admin-users-signatures")

    case = _drive(_at(live_services, EARLY_SATURDAY), staff, [("intake", r.CORRECT)])
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{case['id']}/correction-notice")
    sign = page.locator(".sign")
    assert sign.locator(".signer").inner_text() == "张敏 (综合窗口)"
    assert sign.locator(".date").get_attribute("data-date") == "2026-12-05"
    assert sign.locator(".date").inner_text() == "2026 年 12 月 5 日"
    pages.shot(page, "e17-correction-notice-local-date")


def test_the_provisional_mark_and_a_tasks_own_limit(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    accepted = _drive(_at(live_services, EARLY_SATURDAY), staff, [("intake", r.ACCEPT)])
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{accepted['id']}")
    clock = page.locator(".clock")
    promised = clock.locator("dt:text-is('承诺期限') + dd")
    statutory = clock.locator("dt:text-is('法定期限') + dd")
    assert "2026-12-15" in promised.inner_text() and promised.locator(".provisional").count() == 0
    assert "2027-01-04" in statutory.inner_text()  # 2027-01-01 is 元旦 though 2027 is unpublished
    assert statutory.locator(".provisional").count() == 1
    title = statutory.locator(".provisional").get_attribute("title") or ""
    assert "放假办法" in title
    pages.shot(page, "e17-case-provisional-statutory-deadline")

    steps = [(e, d) for e, d in r.PATHS["granted_without_inspection"][0]]
    done = _drive(live_services, staff, steps)
    follow_ups.rate(live_services, done["id"], 1, "等了很久", code=done["access_code"])
    worklist = pages.new("supervisor")
    pages.goto(worklist, "/work/")
    row = worklist.locator(f"tr[data-case='{done['id']}']")
    assert row.locator(".task-deadline").count() == 1
    assert "本环节剩" in row.inner_text() and "已停止计时" not in row.inner_text()
    pages.shot(worklist, "e17-worklist-rectification-own-limit")
    row.locator("a.task-link").click()
    worklist.wait_for_load_state()
    own = worklist.locator("dd.task-limit")
    assert "本环节剩" in own.inner_text()
    pages.shot(worklist, "e17-task-rectification-own-limit")
