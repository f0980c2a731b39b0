"""The 效能监察 pages through the test client, on both databases (issue 21): the November mix of
restaurant cases (tests/integration/stats_mix.py) rolled up, then /stats, its drill-down, the
exports and the monthly report: who may open them (200/403), bad query values (400, the field
named), the tables' numbers, and that every drill-down lists as many rows as its number says."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.bundles.source import from_path
from engine.services import Services, accounts, publishing, stats_refresh
from engine.services.accounts import set_password
from tests.conftest import FORMS, PROCESSES
from tests.e2e.test_pages_auditor import PASSWORD, _token
from tests.fixtures.clock import FakeClock
from tests.integration.stats_mix import build_mix, local

NOVEMBER = "period=month&start=2026-11-01"


class Stats:
    """The mix rolled up, the app on the clock at Mon 2026-11-30 12:00, signing in by name."""

    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        from web import create_app

        publishing.deploy(services, from_path(PROCESSES / "restaurant"), "test")
        publishing.deploy(services, from_path(PROCESSES / "restaurant_joint"), "test")
        self.clock = FakeClock(local(2, 9))
        self.mix = build_mix(services, users, self.clock)
        self.clock.now = local(30, 12)
        self.svc = Services(services.engine, FORMS, clock=self.clock)
        stats_refresh.refresh(self.svc)
        for name in (*users, "chief"):
            set_password(self.svc, name, PASSWORD)
        # a clerk of no 督办 group, and one of a bundle's own 督办 group
        accounts.create_user(self.svc, "plain", "clerk", ["front_desk"])
        set_password(self.svc, "plain", PASSWORD)
        self.app = create_app({"SERVICES": self.svc, "TESTING": True})
        self.client = self.app.test_client()

    def sign_in(self, name: str) -> None:
        self.client = self.app.test_client()
        token = _token(self.client.get("/login").get_data(as_text=True))
        response = self.client.post(
            "/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302

    def get(self, path: str) -> tuple[int, str]:
        response = self.client.get(path)
        return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def stats(services: Services, users: dict[str, Any]) -> Stats:
    return Stats(services, users)


def _section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found, f"no section {heading_id}"
    return found.group(0)


def _cells(fragment: str, label: str) -> list[str]:
    """The cells (as text) of the row whose header is `label`."""
    row = re.search(
        rf'<tr><th scope="row">{re.escape(label)}(?:\s*<span[^>]*>[^<]*</span>)?</th>(.*?)</tr>',
        fragment,
        re.S,
    )
    assert row, f"no row {label}"
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


def _links(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'href="(/stats/cases\?[^"]+)"', page)]


def test_who_may_open_the_pages(stats: Stats) -> None:
    for name in ("chief", "auditor", "admin"):
        stats.sign_in(name)
        status, page = stats.get(f"/stats?{NOVEMBER}")
        assert status == 200, name
        assert ">效能监察</a>" in page  # the nav link
    for name in ("plain", "designer"):
        stats.sign_in(name)
        for path in (
            f"/stats?{NOVEMBER}",
            f"/stats/cases?measure=received&{NOVEMBER}",
            f"/stats/export?table=totals&format=csv&{NOVEMBER}",
            "/stats/report?month=2026-11",
        ):
            status, page = stats.get(path)
            assert status == 403 and "无权访问" in page, (name, path)
        _, home = stats.get("/work/" if name == "plain" else "/designer/")
        assert ">效能监察</a>" not in home
    stats.client = stats.app.test_client()  # not signed in: to the sign-in page
    assert stats.client.get("/stats").status_code == 302


def test_bad_query_values_name_their_field(stats: Stats) -> None:
    stats.sign_in("chief")
    for query, field in (
        ("period=fortnight", "period"),
        ("period=month&start=2026-13-01", "start"),
        ("period=custom&start=2026-11-01", "end"),
        ("period=custom&start=2026-11-10&end=2026-11-01", "end"),
        ("bundle=nothing", "bundle"),
    ):
        status, page = stats.get(f"/stats?{query}")
        assert status == 400, query
        assert 'class="field-error"' in page, query
        label = re.search(r'<label class="invalid"[^>]*>(.*?)</label>', page, re.S)
        assert label and f'name="{field}"' in label.group(1), (query, label)
    status, page = stats.get(f"/stats/cases?measure=nothing&{NOVEMBER}")
    assert status == 400 and "measure" in page and "统计口径无效" in page
    status, page = stats.get(f"/stats/cases?measure=received&{NOVEMBER}&page=0")
    assert status == 400 and "page" in page
    status, page = stats.get(f"/stats/export?table=nothing&format=pdf&{NOVEMBER}")
    assert status == 400 and ">table</code>" in page and ">format</code>" in page
    status, page = stats.get("/stats/report?month=2026-13")
    assert status == 400 and ">month</code>" in page


def test_the_dashboard_shows_the_mix_and_every_number_drills_down_to_as_many_rows(
    stats: Stats,
) -> None:
    stats.sign_in("chief")
    status, page = stats.get(f"/stats?{NOVEMBER}")
    assert status == 200
    assert "2026年11月" in page and "数据更新于 <time" in page and ">12:00</time>" in page
    # the KPI cards
    cards = dict(
        re.findall(
            r'<span class="kpi-label">([^<]+)</span>\s*<span class="kpi-value">([^<]+)', page
        )
    )
    assert cards == {
        "收件": "11",
        "受理": "10",
        "办结": "8",
        "提前办结率": "75%",
        "超期": "1",
        "平均办理": "3",
        "承诺压缩比": "65%",
        "满意率": "50%",
        "最多跑一次率": "12.5%",
        "全程网办率": "12.5%",
    }
    # the figures table: a column per bundle, then the total
    figures = _section(page, "h-figures")
    assert _cells(figures, "收件") == ["11", "0", "11"]
    assert _cells(figures, "超期办结") == ["1", "0", "1"]
    assert _cells(figures, "平均办理") == ["3", "—", "3"]
    assert _cells(figures, "承诺压缩比") == ["65%", "—", "65%"]
    assert _cells(figures, "补正轮次") == ["3", "0", "3"]
    assert _cells(figures, "仍欠材料") == ["2", "0", "2"]
    assert _cells(figures, "满意率") == ["50%", "—", "50%"]
    assert _cells(figures, "发证") == ["16", "0", "16"]
    # the charts' numbers as tables
    assert _cells(_section(page, "h-funnel"), "受理") == ["10", "90.9%"]
    assert _cells(_section(page, "h-ratings"), "非常不满意") == ["1"]
    assert _cells(_section(page, "h-trend"), "11-03") == ["4", "0", "0", "1"]
    assert _cells(_section(page, "h-open"), "在办") == ["1"]
    assert _cells(_section(page, "h-by_group"), "supervisors") == ["3", "2", "1", "4.3", "1"]
    assert 'data-chart="heat"' in page and 'data-chart="trend"' in page
    # the chart bundle and nothing from another host
    assert "/static/build/dashboard.js" in page and "http" not in re.sub(
        r'href="http[^"]*"', "", "".join(re.findall(r'<script[^>]*src="[^"]*"', page))
    )

    # every drill-down lists as many rows as the number that links to it
    checked = 0
    for link in sorted(set(_links(page))):
        number = re.search(
            rf'<a href="{re.escape(html.escape(link))}" class="drill"[^>]*>([^<]+)</a>', page
        )
        status, listed = stats.get(link)
        assert status == 200, link
        total = int(re.search(r'<span class="count">共 (\d+)', listed).group(1))  # type: ignore[union-attr]
        if number and number.group(1).isdigit():
            assert total == int(number.group(1)), link
            checked += 1
        pages = -(-total // 50) or 1
        if pages == 1:
            assert listed.count("<tr data-case=") == total, link
    assert checked >= 40


def test_the_drill_down_lists_pages_and_exports(stats: Stats) -> None:
    stats.sign_in("chief")
    status, page = stats.get(f"/stats/cases?measure=early&{NOVEMBER}")
    assert status == 200
    assert "<h1>提前办结" in page and "共 6 件" in page and "期间 2026年11月" in page
    ids = re.findall(r'<tr data-case="(\d+)"', page)
    assert len(ids) == 6
    assert f'href="/cases/{ids[0]}"' in page
    assert "返回效能监察" in page and "table=cases" in page
    # a task measure, filtered by group: in words, one row per task
    status, page = stats.get(f"/stats/cases?measure=task_overdue&{NOVEMBER}&group=supervisors")
    assert status == 200 and "共 1 个环节" in page and "办理组 supervisors" in page
    # 催办 for the supervisor on the open case, not for the auditor
    status, page = stats.get(f"/stats/cases?measure=open&{NOVEMBER}")
    open_id = stats.mix["ids"]["gaps_owed"]
    assert f'href="/cases/{open_id}#urge" class="urge-link"' in page
    assert "此刻在办" in page
    stats.sign_in("auditor")
    _, page = stats.get(f"/stats/cases?measure=open&{NOVEMBER}")
    assert f'data-case="{open_id}"' in page and "urge-link" not in page

    # the exports: CSV with a BOM, an Excel workbook; the numbers of the page
    response = stats.client.get(f"/stats/export?table=cases&format=csv&measure=early&{NOVEMBER}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "办件编号" and sorted(r[0] for r in rows[1:]) == sorted(ids)
    response = stats.client.get(f"/stats/export?table=by_bundle&format=xlsx&{NOVEMBER}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[1]
    received = header.index("收件")
    restaurant = next(r for r in values[2:] if r[0] == "restaurant")
    assert restaurant[received] == 11
    for table in (
        "totals",
        "trend",
        "by_task",
        "by_group",
        "by_department",
        "by_clerk",
        "open_now",
        "certificates",
    ):
        for fmt in ("csv", "xlsx"):
            response = stats.client.get(f"/stats/export?table={table}&format={fmt}&{NOVEMBER}")
            assert response.status_code == 200 and response.data, (table, fmt)


def test_the_monthly_report_has_a_page_per_bundle(stats: Stats) -> None:
    stats.sign_in("chief")
    status, page = stats.get("/stats/report?month=2026-11")
    assert status == 200
    bundles = re.findall(r'<article class="report-page" data-bundle="([^"]*)"', page)
    assert bundles == ["restaurant", "restaurant_joint", ""]  # then the total
    first = page.split('<article class="report-page"')[1]
    assert "本月收件 11 件, 受理 10 件, 办结 8 件, 不予受理 1 件, 撤回 1 件。" in first
    assert "提前办结 6 件 (75%)" in first and "满意率 50%" in first
    assert "@page" not in page  # in the stylesheet
    assert "data-print" in page and "no-print" in page
    status, page = stats.get("/stats/report?month=2026-11&bundle=restaurant")
    assert re.findall(r'<article class="report-page" data-bundle="([^"]*)"', page) == ["restaurant"]
