"""The 效能监察 dashboard in Chromium (issue 21): the known November mix of restaurant cases
(tests/integration/stats_mix.py) built on a fake clock, rolled up by `stats_refresh.refresh`, then
/stats as the supervisor: the charts drawn (a canvas of a real size each, nothing thrown, nothing
logged as an error), a KPI card and a chart's bar open their drill-downs, the page at a desk's
width and a phone's; the monthly report printed to A4, one page per bundle."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pypdf import PdfReader

from engine.bundles.source import from_path
from engine.services import Services, publishing, stats_refresh
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.clock import FakeClock
from tests.integration.stats_mix import build_mix, local

from .conftest import SCREENSHOTS, LiveServer, Pages

NOVEMBER = "/stats?period=month&start=2026-11-01"
CHARTS = ("trend", "funnel", "ratings", "stacked", "heat")


@pytest.fixture
def november(live_services: Services, staff: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The mix, rolled up, on services whose clock stands at Mon 2026-11-30 12:00."""
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant"), "test")
    # a second bundle without cases: the report still gives it its page
    publishing.deploy(live_services, from_path(PROCESSES / "restaurant_joint"), "test")
    clock = FakeClock(local(2, 9))
    users = {name: SimpleNamespace(user=made[0]) for name, made in staff.items()}
    mix = build_mix(live_services, users, clock)
    clock.now = local(30, 12)
    svc = Services(live_services.engine, FORMS, clock=clock)
    assert stats_refresh.refresh(svc)["cases"] == 11
    yield {"svc": svc, "ids": mix["ids"]}


@pytest.fixture
def live(november: dict[str, Any]) -> Iterator[LiveServer]:
    """The app on the fake-clocked services (the conftest's runs on the wall clock)."""
    from web import create_app

    app = create_app({"SERVICES": november["svc"], "SECRET_KEY": "browser-tests"})
    server = LiveServer(app)
    yield server
    server.stop()


def _console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _charts_drawn(page: Any) -> dict[str, dict[str, float]]:
    """Wait for every chart, then each one's canvas size."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.chartStatus)"
    )
    sizes: dict[str, dict[str, float]] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(e => {
            const c = e.querySelector('canvas');
            const box = c ? c.getBoundingClientRect() : {width: 0, height: 0};
            return [e.dataset.chart, {status: e.dataset.chartStatus, width: box.width,
                                      height: box.height}];
        }))"""
    )
    return sizes


def _click_bar(page: Any, chart: str, value: list[Any]) -> None:
    """Click the chart's item at `value` (data coordinates) on its canvas."""
    point = page.evaluate(
        """([name, value]) => {
            const el = document.querySelector(`[data-chart="${name}"]`);
            el.scrollIntoView({block: "center"});
            const [x, y] = el.lianbanChart.convertToPixel({seriesIndex: 0}, value);
            const box = el.getBoundingClientRect();
            return [box.left + x, box.top + y];
        }""",
        [chart, value],
    )
    page.mouse.click(point[0], point[1])


def test_the_dashboard_draws_its_charts_and_drills_down(
    pages: Pages, november: dict[str, Any]
) -> None:
    page = pages.new("supervisor")
    console = _console_errors(page)
    response = pages.goto(page, NOVEMBER)
    assert response.status == 200
    sizes = _charts_drawn(page)
    assert set(sizes) == set(CHARTS)
    for name, size in sizes.items():
        assert size["status"] == "ok", (name, size)
        assert size["width"] > 300 and size["height"] >= 200, (name, size)
    header = page.locator(".stats-head").inner_text()
    assert "2026年11月" in header and "数据更新于 12:00" in header
    # the nav link, for the supervisor
    assert page.locator("nav.mainnav a", has_text="效能监察").count() == 1
    kpis = {
        page.locator(".kpi-label").nth(i).inner_text(): page.locator(".kpi-value")
        .nth(i)
        .inner_text()
        for i in range(page.locator(".kpi").count())
    }
    assert kpis["收件"] == "11件" and kpis["办结"] == "8件" and kpis["超期"] == "1件"
    assert kpis["提前办结率"] == "75%" and kpis["满意率"] == "50%"
    pages.shot(page, "21-dashboard-desktop")

    # the 超期 card: its drill-down lists the one overdue case
    page.locator(".kpi", has_text="超期").click()
    page.wait_for_load_state()
    assert "/stats/cases?" in page.url and "measure=overdue" in page.url
    assert page.locator("h1").inner_text().startswith("超期办结")
    rows = page.locator("table.drill-cases tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-case") == str(november["ids"]["overdue"])
    assert "期间 2026年11月" in page.locator(".filters-in-words").inner_text()
    # the supervisor may 催办 nothing here: the case is finished
    assert page.locator(".urge-link").count() == 0
    pages.shot(page, "21-dashboard-drill-overdue")
    page.go_back()
    _charts_drawn(page)

    # a bar of the rating chart: 非常不满意 (the first bar), one case
    _click_bar(page, "ratings", [0, 0.5])
    page.wait_for_url(re.compile(r"measure=rating_1"))
    assert page.locator("table.drill-cases tbody tr").count() == 1
    assert page.locator("table.drill-cases tbody tr").first.get_attribute("data-case") == str(
        november["ids"]["corrected_once"]
    )
    page.go_back()
    _charts_drawn(page)

    # a phone's width: the charts redraw to it, the KPI cards two a row, nothing wider than it
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    sizes = _charts_drawn(page)
    for name, size in sizes.items():
        assert 250 < size["width"] <= 390, (name, size)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow}px wide on a 390px phone"
    pages.shot(page, "21-dashboard-phone")
    assert not console, console


def test_the_open_case_offers_the_supervisor_its_urge(
    pages: Pages, november: dict[str, Any]
) -> None:
    page = pages.new("supervisor")
    pages.goto(page, NOVEMBER)
    page.locator("section[aria-labelledby=h-open] a.drill").first.click()  # 在办 1
    page.wait_for_load_state()
    assert "measure=open" in page.url
    link = page.locator(".urge-link")
    assert link.count() == 1
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/cases/{november['ids']['gaps_owed']}#urge")
    assert page.locator("form#urge").is_visible()
    # an auditor reads the same list, without 催办
    auditor = pages.new("auditor")
    pages.goto(auditor, "/stats/cases?measure=open&period=month&start=2026-11-01")
    assert auditor.locator("table.drill-cases tbody tr").count() == 1
    assert auditor.locator(".urge-link").count() == 0


def test_the_monthly_report_prints_one_a4_page_per_bundle(
    pages: Pages, november: dict[str, Any]
) -> None:
    page = pages.new("supervisor")
    response = pages.goto(page, "/stats/report?month=2026-11")
    assert response.status == 200
    assert page.locator("article.report-page").count() == 3  # two bundles, then the total
    assert page.locator("[data-print]").is_visible()
    pages.shot(page, "21-report-screen")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, for the screenshot
    assert not page.locator("[data-print]").is_visible()
    assert not page.locator(".topbar").is_visible()
    pages.shot(page, "21-report-print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / "21-report.pdf"), prefer_css_page_size=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3, [p.extract_text()[:80] for p in reader.pages]
    for p in reader.pages:  # A4: 595 x 842 points
        assert round(float(p.mediabox.width)) == 595 and round(float(p.mediabox.height)) == 842
    texts = [p.extract_text() for p in reader.pages]
    assert "我要开餐馆" in texts[0] and "收件" in texts[0] and "第 1 / 3 页" in texts[0]
    assert "全部事项合计" in texts[2]
    assert "打印报告" not in "".join(texts)
