"""效能监察 through the API (web/api/stats.py): GET /api/v1/stats, /stats/cases, /stats/export,
each answer checked against docs/openapi.yaml, on both databases. The world is the hand-written
one of tests/integration/test_dashboard_queries.py; the last test builds the known mix of
tests/integration/stats_mix.py through the real services and refreshes the rollups."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import openpyxl

from engine.services import Services, stats_refresh
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.clock import FakeClock
from tests.integration.stats_mix import build_mix, local
from tests.integration.test_dashboard_queries import OPEN_NOW, TOTALS, world  # noqa: F401

MONTH = "period=month&start=2026-11-01"


def _headers(client: Any, services: Services, name: str) -> dict[str, str]:
    from engine.services import accounts

    return {"Authorization": f"Bearer {accounts.reissue_token(services, name)}"}


def test_the_figures_drill_down_and_exports(
    client: Any,
    services: Services,
    users: dict[str, Any],
    world: dict[str, Any],  # noqa: F811
) -> None:
    admin = users["admin"].headers
    shown = assert_matches(client.get(f"/api/v1/stats?{MONTH}", headers=admin), "/stats", "get")
    assert shown["totals"] == TOTALS and shown["open_now"] == OPEN_NOW
    assert shown["period"]["label"] == "2026年11月"
    # the default period: the current month (today is 2026-11-30 on the world's clock)
    default = client.get("/api/v1/stats", headers=admin).get_json()
    assert default["period"]["first"] == "2026-11-01"
    one = client.get(f"/api/v1/stats?{MONTH}&bundle=cafe", headers=admin).get_json()
    assert one["bundle"] == "cafe" and one["totals"]["received"] == 2

    page = client.get(f"/api/v1/stats/cases?measure=overdue&{MONTH}", headers=admin)
    found = assert_matches(page, "/stats/cases", "get")
    assert found["total"] == 1 and found["cases"][0]["id"] == world["ids"]["r2"]
    tasks = client.get(
        f"/api/v1/stats/cases?measure=task_completed&{MONTH}&department={quote('市场监管局')}",
        headers=admin,
    )
    assert assert_matches(tasks, "/stats/cases", "get")["total"] == 2

    xlsx = client.get(f"/api/v1/stats/export?table=by_bundle&format=xlsx&{MONTH}", headers=admin)
    assert xlsx.status_code == 200
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = xlsx.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''" + quote("效能监察_按事项_2026年11月.xlsx") in disposition
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None and sheet["C4"].value == 3  # restaurant received, a number
    csv = client.get(
        f"/api/v1/stats/export?table=cases&format=csv&measure=received&{MONTH}", headers=admin
    )
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.data.decode("utf-8-sig").splitlines()
    assert csv.data.startswith(b"\xef\xbb\xbf") and len(lines) == 1 + 5
    assert lines[0].startswith("办件编号,事项编码,事项名称")


def test_refusals_name_their_field(
    client: Any,
    services: Services,
    users: dict[str, Any],
    world: dict[str, Any],  # noqa: F811
) -> None:
    admin = users["admin"].headers
    watcher = _headers(client, services, "watcher")
    cases = f"/api/v1/stats/cases?{MONTH}"
    export = f"/api/v1/stats/export?{MONTH}"
    for url, path, field in [
        ("/api/v1/stats?period=decade", "/stats", "period"),
        ("/api/v1/stats?period=month&start=2026-11-31", "/stats", "start"),
        ("/api/v1/stats?period=custom&start=2026-11-01", "/stats", "end"),
        ("/api/v1/stats?period=month&start=99999-01-01", "/stats", "start"),
        (cases, "/stats/cases", "measure"),
        (cases + "&measure=nope", "/stats/cases", "measure"),
        (cases + "&measure=received&page=0", "/stats/cases", "page"),
        (cases + "&measure=received&page=" + "9" * 40, "/stats/cases", "page"),
        (cases + "&measure=task_completed&clerk=" + "c" * 301, "/stats/cases", "clerk"),
        (export + "&table=nope&format=csv", "/stats/export", "table"),
        (export + "&table=totals&format=pdf", "/stats/export", "format"),
        (export + "&table=cases&format=csv&measure=nope", "/stats/export", "measure"),
    ]:
        response = client.get(url, headers=admin)
        assert response.status_code == 400, url
        body = assert_matches(response, path, "get")
        assert body["errors"][0]["field"] == field, url
    # a NUL anywhere in the query is refused before the route (web/inputs.py), naming its field
    nul = client.get(cases + "&measure=task_completed&clerk=a%00b", headers=admin)
    assert nul.status_code == 422
    assert assert_matches(nul, "/stats/cases", "get")["errors"][0]["field"] == "clerk"
    for url, path, who, status in [
        ("/api/v1/stats", "/stats", users["front_desk"].headers, 403),
        ("/api/v1/stats", "/stats", users["designer"].headers, 403),
        ("/api/v1/stats?bundle=restaurant", "/stats", watcher, 403),
        ("/api/v1/stats?bundle=nope", "/stats", admin, 404),
        (cases + "&measure=received&bundle=nope", "/stats/cases", admin, 404),
        (export + "&table=totals&format=csv", "/stats/export", users["front_desk"].headers, 403),
        ("/api/v1/stats", "/stats", {}, 401),
    ]:
        response = client.get(url, headers=who)
        assert response.status_code == status, url
        assert_matches(response, path, "get")
    mine = assert_matches(client.get(f"/api/v1/stats?{MONTH}", headers=watcher), "/stats", "get")
    assert [b["key"] for b in mine["bundles"]] == ["cafe"]
    auditor = client.get(f"/api/v1/stats?{MONTH}", headers=users["auditor"].headers)
    assert auditor.status_code == 200


def test_the_known_mix_through_the_api(
    client: Any, services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """tests/integration/stats_mix.py built, refreshed, and November's totals as that mix
    states them (its `expected_daily`, summed by hand here)."""
    clock = FakeClock(local(2))
    build_mix(services, users, clock)
    stats_refresh.refresh(services)
    shown = client.get(f"/api/v1/stats?{MONTH}", headers=users["admin"].headers)
    totals = assert_matches(shown, "/stats", "get")["totals"]
    assert totals == {
        "received": 11,
        "accepted": 10,
        "refused": 1,
        "withdrawn": 1,
        "finished": 8,
        "early": 6,
        "on_time": 1,
        "overdue": 1,
        "early_rate": 75.0,
        "on_time_rate": 12.5,
        "overdue_rate": 12.5,
        "handling": {
            "count": 8,
            "avg_workdays": 3.0,
            "p90_workdays": 9,
            "promised_avg": 7.0,
            "statutory_avg": 20.0,
            "compression": 65.0,
        },
        "corrections": {"concluded": 10, "cases": 2, "rounds": 3, "rate": 20.0},
        "gaps": {"count": 2, "owed_cases": 1, "owed_materials": 2},
        "commitment": {"count": 1, "post_check_failed": 1, "failure_rate": 100.0},
        "ratings": {
            "count": 4,
            "levels": {"5": 1, "4": 1, "3": 0, "2": 1, "1": 1},
            "satisfaction": 50.0,
            "bad": 2,
            "rectification_open": 0,
            "rectified_on_time": 1,
            "rectified_late": 1,
            "follow_up_satisfied": 1,
            "follow_up_unsatisfied": 0,
        },
        "visits": {
            "finished": 8,
            "one_visit": 1,
            "one_visit_rate": 12.5,
            "online": 1,
            "online_full": 1,
            "online_full_rate": 12.5,
        },
        "certified": 8,  # every finished case of the mix got its licences
        "certificates": 16,
    }
    figures = shown.get_json()
    assert figures["certificates"]["issued"] == [
        {"kind": "business_licence", "title": "营业执照", "count": 8},
        {"kind": "food_permit", "title": "食品经营许可证", "count": 8},
    ]
    assert figures["refreshed_at"] is not None
    # every number's drill-down gives the same total, here from the real cases' facts
    for measure, number in [
        ("received", 11),
        ("finished", 8),
        ("early", 6),
        ("corrected", 2),
        ("gaps_owed", 1),
        ("bad", 2),
        ("online_full", 1),
        ("certificates", 16),
    ]:
        page = client.get(
            f"/api/v1/stats/cases?measure={measure}&{MONTH}", headers=users["admin"].headers
        )
        assert assert_matches(page, "/stats/cases", "get")["total"] == number, measure
