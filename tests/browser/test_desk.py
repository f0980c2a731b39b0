"""The window's daily tools in Chromium (issue 17 · C): every clerk page at a phone's 390 px and a
tablet's 768 px without horizontal overflow, the diagram's zoom buttons, the next step after 受理
with its 受理通知书, the 已办 list and the staff search, 取消认领, and no 收件 button for a
reviewer. Screenshots of each page at 1366, 768 and 390 px."""

from __future__ import annotations

from typing import Any

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1366, "height": 768}


def _prepare(svc: Services, staff: dict[str, Any]) -> dict[str, Any]:
    """A few cases: two waiting at the window (one with a long address), one accepted (its
    reviews open), one refused."""
    publishing.deploy(svc, from_path(PROCESSES / "restaurant"), "test")
    desk = staff["front_desk"][0]

    def start(**data: Any) -> dict[str, Any]:
        return cases.start_case(svc, desk, "restaurant", {**r.APPLICATION, **data})

    def do(case: dict[str, Any], element: str, user: str, data: dict[str, Any]) -> dict[str, Any]:
        task = next(t for t in case["tasks"] if t["element"] == element)
        return cases.complete(svc, staff[user][0], task["id"], data)

    waiting = start(
        applicant_name="欧阳明月",
        shop_address="杭州市上城区解放路第一百二十八号新华大厦东楼二层二零一室至二零五室",
    )
    start(applicant_name="李四")
    accepted = do(start(applicant_name="王五"), "intake", "front_desk", r.ACCEPT)
    refused = do(start(applicant_name="赵六"), "intake", "front_desk", r.REFUSE)
    return {"waiting": waiting, "accepted": accepted, "refused": refused}


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_every_clerk_page_fits_a_phone_and_a_tablet(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    made = _prepare(live_services, staff)
    intake = next(t for t in made["waiting"]["tasks"] if t["element"] == "intake")
    review = next(t for t in made["accepted"]["tasks"] if t["element"] == "review_licence")
    visits = [
        ("front_desk", "/work/", "worklist"),
        ("front_desk", "/work/start/restaurant", "start"),
        ("front_desk", f"/work/tasks/{intake['id']}", "task"),
        ("market_reviewer", f"/work/tasks/{review['id']}", "review-task"),
        ("front_desk", f"/cases/{made['accepted']['id']}", "case"),
        ("front_desk", "/work/done", "done"),
        ("front_desk", "/work/search?applicant=王", "search"),
    ]
    users = {u: pages.new(u) for u in ("front_desk", "market_reviewer")}
    for size, tag in ((DESKTOP, "1366"), (TABLET, "768"), (PHONE, "390")):
        for page in users.values():
            page.set_viewport_size(size)
        for user, path, name in visits:
            page = users[user]
            pages.goto(page, path)
            if name == "case":
                pages.wait_for_diagram(page, "#case-diagram")
            width = _overflow(page)
            assert width <= size["width"], f"{name} at {tag} px is {width} px wide"
            pages.shot(page, f"desk-{name}-{tag}")
    # at 390 px the top bar keeps whole words and the worklist is cards
    page = users["front_desk"]
    pages.goto(page, "/work/")
    links = page.locator(".mainnav a")
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["height"] < 40, links.nth(i).inner_text()
    row = page.locator(f"tr[data-case='{made['waiting']['id']}']")
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert "欧阳明月" in row.inner_text()
    # the page itself does not scroll sideways, and the topbar is at most three lines
    assert page.locator(".topbar").bounding_box()["height"] < 120  # type: ignore[index]


def test_the_diagram_zooms_fits_and_leaves_the_end_events_clear(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    made = _prepare(live_services, staff)
    page = pages.new("front_desk")
    pages.goto(page, f"/cases/{made['accepted']['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")

    def zoom() -> float:
        return float(diagram.get_attribute("data-zoom") or 0)

    start = zoom()
    assert start >= 0.74, f"labels unreadable at zoom {start}"
    assert (
        page.locator(".diagram-zoom .diagram-zoom-level").inner_text() == f"{round(start * 100)}%"
    )
    diagram.scroll_into_view_if_needed()
    pages.shot(page, "desk-diagram-default", full_page=False)
    page.click("#case-diagram .diagram-zoom-in")
    assert zoom() > start
    page.click("#case-diagram .diagram-zoom-out")
    page.click("#case-diagram .diagram-zoom-out")
    assert zoom() < start
    page.click("#case-diagram .diagram-fit")
    whole = zoom()
    assert 0 < whole < start
    diagram.scroll_into_view_if_needed()
    pages.shot(page, "desk-diagram-fit", full_page=False)

    # at the whole view nothing covers an end event: not the bpmn.io mark, not the buttons
    covers = [
        page.locator("#case-diagram .bjs-powered-by").bounding_box(),
        page.locator("#case-diagram .diagram-zoom").bounding_box(),
    ]
    box = diagram.bounding_box()
    ends = page.locator(
        "#case-diagram g.djs-element.djs-shape[data-element-id]:has(circle)"
    ).element_handles()
    checked = 0
    for end in ends:
        element = end.get_attribute("data-element-id") or ""
        if not element.startswith(("concluded", "refused", "denied", "revoked")):
            continue
        shape = end.bounding_box()
        assert shape and box
        assert box["x"] <= shape["x"] and shape["x"] + shape["width"] <= box["x"] + box["width"]
        for cover in covers:
            assert cover
            apart = (
                shape["x"] + shape["width"] <= cover["x"]
                or cover["x"] + cover["width"] <= shape["x"]
                or shape["y"] + shape["height"] <= cover["y"]
                or cover["y"] + cover["height"] <= shape["y"]
            )
            assert apart, f"{element} is covered at {shape} by {cover}"
        checked += 1
    assert checked == 4

    # on a phone the buttons work too
    page.set_viewport_size(PHONE)
    pages.goto(page, f"/cases/{made['accepted']['id']}")
    diagram = pages.wait_for_diagram(page, "#case-diagram")
    before = zoom()
    page.click("#case-diagram .diagram-zoom-in")
    assert zoom() > before
    diagram.scroll_into_view_if_needed()
    pages.shot(page, "desk-diagram-390", full_page=False)


def test_the_window_accepts_and_prints_the_acceptance_notice(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    made = _prepare(live_services, staff)
    case_id = made["waiting"]["id"]
    intake = next(t for t in made["waiting"]["tasks"] if t["element"] == "intake")
    page = pages.new("front_desk")
    pages.goto(page, f"/work/tasks/{intake['id']}")
    # the required star sits on the label's own line
    legend = page.locator("[data-field=intake_decision] legend")
    assert legend.evaluate("el => getComputedStyle(el, '::after').content") == '" *"'
    pages.goto(page, "/work/start/restaurant")
    label = page.locator("label[for][class~=required]").first
    assert label.count() == 1
    height = label.evaluate("el => el.getBoundingClientRect().height")
    line = label.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert height < line * 1.6, "the star wrapped onto a line of its own"
    assert label.evaluate("el => getComputedStyle(el, '::after').content") == '" *"'
    pages.goto(page, f"/work/tasks/{intake['id']}")
    page.check("[name=intake_decision][value=accept]")
    page.fill("[name=intake_opinion]", "材料齐全")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    flash = page.locator(".flash-success")
    assert "已受理, 承诺期限" in flash.inner_text()
    pages.shot(page, "desk-next-step-accepted")
    with page.context.expect_page() as opened:
        flash.locator("a.next-acceptance").click()
    notice = opened.value
    notice.wait_for_load_state()
    assert "受理通知书" in notice.locator("h1").inner_text()
    assert (
        "欧阳明月" in notice.locator("body").inner_text()
        and "第三十二条" in notice.locator("body").inner_text()
    )
    pages.shot(notice, "desk-acceptance-notice")

    # the refused case's notice, from its case page
    pages.goto(page, f"/cases/{made['refused']['id']}")
    with page.context.expect_page() as opened:
        page.click("a.notice-refusal")
    refusal = opened.value
    refusal.wait_for_load_state()
    assert "不予受理通知书" in refusal.locator("h1").inner_text()
    assert "不属于本中心受理范围" in refusal.locator("body").inner_text()
    pages.shot(refusal, "desk-refusal-notice")

    # 已办 lists it first, with the decision; the search finds it by id number
    page.click(".mainnav >> text=我的已办")
    first = page.locator("table.done-list tbody tr").first
    assert first.get_attribute("data-case") == str(case_id)
    assert "受理" in first.locator(".decision").inner_text()
    page.click(".mainnav >> text=办件查询")
    page.fill("[name=id_number]", r.APPLICATION["applicant_id_number"])
    page.select_option("select[name=status]", "running")
    page.click("#staff-search button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(f"tr[data-case='{case_id}']").count() == 1
    assert page.locator(f"tr[data-case='{made['refused']['id']}']").count() == 0
    page.click(f"tr[data-case='{case_id}'] a.case-link")
    assert page.url == pages.live.url(f"/cases/{case_id}")


def test_a_reviewer_has_no_intake_button_and_cancels_a_claim(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    made = _prepare(live_services, staff)
    page = pages.new("market_reviewer")
    assert page.locator("text=一窗受理 · 收件").count() == 0
    row = page.locator(f"tr[data-case='{made['accepted']['id']}']")
    row.locator("button.claim").click()
    page.wait_for_load_state()
    row = page.locator(f"tr[data-case='{made['accepted']['id']}']")
    assert row.locator("button.unclaim").inner_text() == "取消认领"
    row.locator("button.unclaim").click()
    page.wait_for_load_state()
    assert "已取消认领" in page.locator(".flash").inner_text()
    front = pages.new("front_desk")
    assert front.locator("text=一窗受理 · 收件").count() == 1
