"""The clerk pages (worklist, task, 一窗受理) and the JSON Schema form round trip, through the
app's test client on SQLite and PostgreSQL; parse_form on its own (no database)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.e2e.test_openapi import assert_matches
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock
from web.forms_render import AttachmentTooLarge, field_errors, form_fields, parse_form

PASSWORD = "correct horse"
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


# ------------------------------------------------------------------ helpers


class Desk:
    """The app on a clock the test moves, with the restaurant bundle and signed-in clients."""

    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        from web import create_app

        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        publishing.deploy(self.svc, from_path(PROCESSES / "restaurant"), "test")
        self.app = create_app({"SERVICES": self.svc, "TESTING": True})
        self.users = users
        self.clients: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self.clients:
            set_password(self.svc, name, PASSWORD)
            client = self.app.test_client()
            page = client.get("/login").get_data(as_text=True)
            response = client.post(
                "/login", data={"name": name, "password": PASSWORD, "csrf_token": _token(page)}
            )
            assert response.status_code == 302, response.get_data(as_text=True)
            self.clients[name] = client
        return self.clients[name]

    def start(self, **data: Any) -> dict[str, Any]:
        return cases.start_case(
            self.svc, self.users["front_desk"].user, "restaurant", {**r.APPLICATION, **data}
        )

    def do(
        self, case: dict[str, Any], element: str, clerk: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        task = next(t for t in case["tasks"] if t["element"] == element)
        return cases.complete(self.svc, self.users[clerk].user, task["id"], data)


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _rows(html: str) -> list[str]:
    """The task ids of the worklist's rows, in order."""
    return re.findall(r'<tr data-task="([^"]+)"', html)


def _link(html: str, cls: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" class="{cls}"', html)
    return unescape(found.group(1)) if found else None


def _open_intake_tasks(desk: Desk) -> list[str]:
    everything = queries.worklist(desk.svc, desk.users["front_desk"].user, 200, None)
    return [t["id"] for t in everything["tasks"]]


# ------------------------------------------------------------------ worklist: paging, filters


def test_keyset_pages_show_every_task_exactly_once_and_lead_back(desk: Desk) -> None:
    opened = [desk.start(applicant_name=f"申请人{i:02d}") for i in range(60)]
    assert len(opened) == 60
    expected = _open_intake_tasks(desk)
    assert len(expected) == 60
    client = desk.client("front_desk")

    pages: list[list[str]] = []
    url: str | None = "/work/"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(_rows(html))
        url = _link(html, "next")
        assert len(pages) < 10, "the next links never end"
    assert [len(p) for p in pages] == [25, 25, 10]
    seen = [task for page in pages for task in page]
    assert seen == expected  # each once, oldest first

    # back again with 上一页, and 首页
    first = client.get("/work/").get_data(as_text=True)
    assert _link(first, "prev") is None and _link(first, "first") is None
    second = client.get(_link(first, "next") or "").get_data(as_text=True)
    assert _rows(second) == pages[1]
    assert _rows(client.get(_link(second, "prev") or "").get_data(as_text=True)) == pages[0]
    third = client.get(_link(second, "next") or "").get_data(as_text=True)
    assert _rows(third) == pages[2] and _link(third, "next") is None
    assert _rows(client.get(_link(third, "prev") or "").get_data(as_text=True)) == pages[1]
    assert _rows(client.get(_link(third, "first") or "").get_data(as_text=True)) == pages[0]

    # a bigger page size holds them all
    assert _rows(client.get("/work/?size=100").get_data(as_text=True)) == expected


def test_filters_narrow_the_worklist(desk: Desk) -> None:
    # three cases accepted 20 working days ago (overdue now), one 6 days ago, and new ones
    old = [desk.start(applicant_name=f"老办件{i}") for i in range(3)]
    for case in old:
        desk.do(case, "intake", "front_desk", r.ACCEPT)
    desk.clock.advance(days=22)
    mid = desk.start(applicant_name="赵六")
    desk.do(mid, "intake", "front_desk", r.ACCEPT)
    desk.clock.advance(days=8)
    fresh = [desk.start(applicant_name=n) for n in ("王五", "王小二", "李四")]
    desk.do(fresh[2], "intake", "front_desk", r.ACCEPT)
    market = desk.client("market_reviewer")

    everything = queries.worklist(desk.svc, desk.users["market_reviewer"].user, 200, None)
    flags = {t["case"]["id"]: t["flag"] for t in everything["tasks"]}
    assert len(everything["tasks"]) == 5  # 营业执照审查 of the accepted cases
    assert {flags[c["id"]] for c in old} == {"overdue"}
    assert flags[fresh[2]["id"]] == "normal"
    for flag in ("normal", "warning", "overdue"):
        html = market.get(f"/work/?flag={flag}").get_data(as_text=True)
        shown = set(re.findall(r'data-case="(\d+)" data-flag="(\w+)"', html))
        assert shown == {(str(k), v) for k, v in flags.items() if v == flag}
    assert "超期" in market.get("/work/?flag=overdue").get_data(as_text=True)

    # the front desk sees its 一窗受理 tasks of the two unaccepted cases only
    front = desk.client("front_desk")
    html = front.get("/work/").get_data(as_text=True)
    assert len(_rows(html)) == 2
    assert "王五" in html and "王小二" in html and "李四" not in html

    # by applicant (part of the name), by case number, by bundle and task
    html = front.get("/work/?q=小二").get_data(as_text=True)
    assert _rows(html) == [fresh[1]["tasks"][0]["id"]]
    assert "王小二" in html
    html = front.get(f"/work/?q={fresh[0]['id']}").get_data(as_text=True)
    assert _rows(html) == [fresh[0]["tasks"][0]["id"]]
    assert len(_rows(market.get("/work/?q=老办件").get_data(as_text=True))) == 3
    assert len(_rows(market.get("/work/?q=91330102MA2H0ABC1X").get_data(as_text=True))) == 5
    assert (
        len(
            _rows(
                market.get("/work/?bundle=restaurant&element=review_licence").get_data(as_text=True)
            )
        )
        == 5
    )
    assert _rows(market.get("/work/?element=intake").get_data(as_text=True)) == []
    assert _rows(market.get("/work/?bundle=nothing-like-it").get_data(as_text=True)) == []
    assert "没有符合筛选条件的待办" in market.get("/work/?bundle=nothing-like-it").get_data(
        as_text=True
    )

    # claimed: mine / unclaimed
    first = everything["tasks"][0]["id"]
    html = market.get("/work/").get_data(as_text=True)
    claimed = market.post(
        f"/work/tasks/{first}/claim",
        data={"csrf_token": _token(html), "next": "/work/?claimed=mine"},
    )
    assert claimed.status_code == 302
    assert claimed.headers["Location"] == "/work/?claimed=mine"
    mine = market.get("/work/?claimed=mine").get_data(as_text=True)
    assert _rows(mine) == [first]
    assert "已认领" in mine
    unclaimed = _rows(market.get("/work/?claimed=unclaimed").get_data(as_text=True))
    assert len(unclaimed) == 4 and first not in unclaimed


def test_a_name_search_reads_in_bounded_steps_and_finds_each_match_once(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["吴某" if i % 7 == 3 else f"路人{i}" for i in range(30)]
    opened = [desk.start(applicant_name=n) for n in names]
    wanted = [c["tasks"][0]["id"] for c, n in zip(opened, names, strict=True) if n == "吴某"]
    monkeypatch.setattr(queries, "SCAN", 6)  # a page reads at most ~6 tasks
    monkeypatch.setattr(queries, "SCAN_BATCH", 4)
    client = desk.client("front_desk")
    found: list[str] = []
    url: str | None = "/work/?q=吴某"
    steps = 0
    unfinished = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        found += _rows(html)
        assert "已查看" in html
        unfinished += "未查完" in html
        url = _link(html, "next")
        steps += 1
        assert steps < 20
    assert len(found) == len(wanted) == 4 and set(found) == set(wanted)  # each once
    assert unfinished >= 1 and steps >= 2  # it stopped early, then went on


def test_the_api_takes_the_same_filters_and_keeps_its_keys(desk: Desk) -> None:
    opened = [desk.start(applicant_name=n) for n in ("周一", "吴二", "郑三")]
    headers = desk.users["front_desk"].headers
    client = desk.app.test_client()
    whole = client.get("/api/v1/tasks", headers=headers).json
    assert set(whole) >= {"tasks", "next"}
    assert {"id", "case_id", "name", "flag", "case"} <= set(whole["tasks"][0])
    assert {"deadline", "remaining_workdays", "clock", "timeliness"} <= set(
        whole["tasks"][0]["case"]
    )
    found = client.get("/api/v1/tasks?q=吴二", headers=headers).json
    assert [t["case_id"] for t in found["tasks"]] == [opened[1]["id"]]
    assert client.get("/api/v1/tasks?claimed=mine", headers=headers).json["tasks"] == []
    assert (
        len(
            client.get("/api/v1/tasks?flag=normal&bundle=restaurant", headers=headers).json["tasks"]
        )
        == 3
    )
    flagged = client.get(
        "/api/v1/tasks?flag=normal&claimed=unclaimed&element=intake", headers=headers
    )
    assert assert_matches(flagged, "/tasks", "get")["scanned"] == 3
    bad = client.get("/api/v1/tasks?flag=late", headers=headers)
    assert bad.status_code == 422
    assert bad.json["errors"][0]["field"] == "flag"


# ------------------------------------------------------------------ claim, task, start


def test_a_claim_taken_by_a_colleague_is_a_409_with_a_flash(desk: Desk) -> None:
    case = desk.start()
    task = case["tasks"][0]["id"]
    cases.claim(desk.svc, desk.users["other_clerk"].user, task)
    front = desk.client("front_desk")
    html = front.get("/work/").get_data(as_text=True)
    assert "other_clerk" in html
    response = front.post(
        f"/work/tasks/{task}/claim", data={"csrf_token": _token(html), "next": "/work/"}
    )
    assert response.status_code == 409
    assert "任务已被 other_clerk 认领" in response.get_data(as_text=True)
    page = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert "只有认领人可以办理" in page
    assert 'name="intake_decision"' in page and "disabled" in page
    # completing anyway is refused: 403 with the reason, nothing done
    response = front.post(
        f"/work/tasks/{task}", data={"csrf_token": _token(page), "intake_decision": "accept"}
    )
    assert response.status_code == 403
    assert queries.get_task(desk.svc, desk.users["front_desk"].user, task)["status"] == "open"
    # unclaim by the wrong clerk is a 409 too; by the owner it works
    other = desk.client("other_clerk")
    response = front.post(
        f"/work/tasks/{task}/unclaim",
        data={"csrf_token": _token(page), "next": f"/work/tasks/{task}"},
    )
    assert response.status_code == 409
    ok = other.post(
        f"/work/tasks/{task}/unclaim",
        data={
            "csrf_token": _token(other.get("/work/").get_data(as_text=True)),
            "next": f"/work/tasks/{task}",
        },
    )
    assert ok.status_code == 302
    assert "已取消认领" in other.get(ok.headers["Location"]).get_data(as_text=True)


def test_the_task_page_keeps_values_and_shows_errors_inline_then_completes(desk: Desk) -> None:
    case = desk.start(applicant_name="钱七")
    task = case["tasks"][0]["id"]
    front = desk.client("front_desk")
    page = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert "一窗受理" in page and "钱七" in page and f"/cases/{case['id']}" in page
    assert "材料清单" in page and "经营场所平面布局图" in page and "待核对" in page
    for label in ("受理", "补正", "容缺受理", "不予受理"):
        assert f"<span>{label}</span>" in page
    assert 'type="radio" name="intake_decision"' in page
    # the fields in the form file's order (PostgreSQL's JSONB keeps none)
    order = [
        page.index(f'data-field="{name}"')
        for name in (
            "intake_decision",
            "missing_materials",
            "deferred_materials",
            "supply_workdays",
            "intake_opinion",
        )
    ]
    assert order == sorted(order)

    # 补正 without the list of materials: 422, the error in Chinese under the field, choices kept
    response = front.post(
        f"/work/tasks/{task}",
        data=MultiDict(
            [
                ("csrf_token", _token(page)),
                ("intake_decision", "correct"),
                ("intake_opinion", "请补交材料"),
                ("supply_workdays", "5"),
            ]
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = re.search(r'data-field="missing_materials".*?</fieldset>', html, re.S)
    assert block and "invalid" in html[html.index('data-field="missing_materials"') - 80 :][:200]
    assert '<p class="field-error"' in block.group(0) and "必填" in block.group(0)
    assert re.search(r'value="correct"[^>]*checked', html)
    assert "请补交材料</textarea>" in html
    assert 'name="supply_workdays" id="f-supply_workdays" value="5"' in html
    assert queries.get_task(desk.svc, desk.users["front_desk"].user, task)["status"] == "open"

    # now complete: 补正 with materials; back to the worklist with 已办理
    response = front.post(
        f"/work/tasks/{task}",
        data=MultiDict(
            [
                ("csrf_token", _token(html)),
                ("intake_decision", "correct"),
                ("missing_materials", "premises_proof"),
                ("missing_materials", "health_certificates"),
                ("intake_opinion", "请补交材料"),
            ]
        ),
    )
    assert response.status_code == 302 and response.headers["Location"] == "/work/"
    assert "已办理" in front.get("/work/").get_data(as_text=True)
    after = queries.get_case(desk.svc, desk.users["front_desk"].user, case["id"])
    assert after["data"]["missing_materials"] == ["premises_proof", "health_certificates"]
    assert [t["element"] for t in after["tasks"]] == ["correction"]
    # the completed task shows what was decided, read-only
    done = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert "此任务已办理" in done and "提交办理" not in done
    assert re.search(r'value="correct"[^>]*checked disabled', done)
    # the checklist now says what is missing
    page = front.get(f"/work/tasks/{after['tasks'][0]['id']}").get_data(as_text=True)
    assert re.search(r'data-material="premises_proof" class="m-missing"', page)
    assert re.search(r'data-material="floor_plan" class="m-submitted"', page)


def test_starting_a_case_at_the_desk(desk: Desk) -> None:
    front = desk.client("front_desk")
    listing = front.get("/work/start").get_data(as_text=True)
    assert "我要开餐馆" in listing and "/work/start/restaurant" in listing
    form = front.get("/work/start/restaurant").get_data(as_text=True)
    assert 'name="premises_area_m2"' in form and 'step="any"' in form
    fields = {**r.APPLICATION, "premises_area_m2": "85.5", "csrf_token": _token(form)}
    missing = {k: v for k, v in fields.items() if k != "shop_name"}
    missing["contact_phone"] = "12345"
    response = front.post("/work/start/restaurant", data=missing)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'data-field="shop_name">.*?<p class="field-error"[^>]*>必填</p>', html, re.S)
    assert re.search(r'data-field="contact_phone">.*?field-error[^>]*>(长度|格式)', html, re.S)
    assert 'value="张三"' in html and 'value="85.5"' in html and 'value="12345"' in html

    response = front.post("/work/start/restaurant", data={**fields, "agent_name": ""})
    assert response.status_code == 302  # Post/Redirect/Get: to the receipt (issue 17 · B)
    html = front.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="access-code">([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){2})<', html)
    assert code, "the receipt shows the access code"
    number = int(re.search(r'class="case-no">(\d+)<', html).group(1))  # type: ignore[union-attr]
    case = queries.get_case(desk.svc, desk.users["front_desk"].user, number)
    assert case["data"]["premises_area_m2"] == 85.5 and "agent_name" not in case["data"]
    assert f"/work/tasks/{case['tasks'][0]['id']}" in html
    # the code works on the public lookup (shown once: the case page does not show it)
    assert code.group(1) not in front.get(f"/cases/{number}").get_data(as_text=True)


def test_pages_are_for_clerks(desk: Desk) -> None:
    assert desk.client("designer").get("/work/").status_code == 403
    assert desk.app.test_client().get("/work/start").status_code == 302


# ------------------------------------------------------------------ forms_render, no database

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "名称", "maxLength": 20},
        "note": {"type": "string", "maxLength": 1000},
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "area": {"type": "number"},
        "ok": {"type": "boolean", "title": "同意"},
        "verdict": {
            "type": "boolean",
            "oneOf": [{"const": True, "title": "是"}, {"const": False, "title": "否"}],
        },
        "kind": {"type": "string", "enum": ["a", "b"], "enumNames": ["甲", "乙"]},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["x", "y", "z"]}},
        "lines": {"type": "array", "items": {"type": "integer"}},
        "on": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "scan": {"type": "string", "format": "data-url", "contentMediaType": "application/pdf"},
        "addr": {
            "type": "object",
            "title": "地址",
            "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}},
            "required": ["city"],
        },
    },
    "required": ["name"],
}


def test_parse_form_types_the_posted_strings_by_the_schema() -> None:
    form = MultiDict(
        [
            ("name", "  张三 "),
            ("note", ""),
            ("count", "3"),
            ("area", "85.5"),
            ("verdict", "false"),
            ("kind", "b"),
            ("tags", "x"),
            ("tags", "z"),
            ("lines", "1\n\n2\n"),
            ("on", "2026-03-02"),
            ("at", "2026-03-02T09:30"),
            ("addr.city", "杭州"),
            ("addr.zip", ""),
        ]
    )
    files = MultiDict(
        [
            (
                "scan",
                FileStorage(io.BytesIO(b"%PDF-1"), "营业执照.pdf", content_type="application/pdf"),
            )
        ]
    )
    data = parse_form(SCHEMA, form, files)
    assert data == {
        "name": "张三",
        "count": 3,
        "area": 85.5,
        "ok": False,  # an unticked box is "no"
        "verdict": False,
        "kind": "b",
        "tags": ["x", "z"],
        "lines": [1, 2],
        "on": "2026-03-02",
        "at": "2026-03-02T09:30:00+08:00",
        "scan": "data:application/pdf;name=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf;base64,JVBERi0x",
        "addr": {"city": "杭州"},
    }
    assert parse_form(SCHEMA, MultiDict([("count", "three"), ("area", "")]))["count"] == "three"
    big = MultiDict([("scan", FileStorage(io.BytesIO(b"0" * (2 * 1024 * 1024 + 1)), "big.pdf"))])
    with pytest.raises(AttachmentTooLarge):
        parse_form(SCHEMA, MultiDict(), big)


def test_form_fields_pick_widgets_and_keep_values() -> None:
    values = {
        "name": "李四",
        "verdict": True,
        "kind": "a",
        "tags": ["y"],
        "at": "2026-03-02T01:30:00+00:00",
        "scan": "data:application/pdf;name=a.pdf;base64,JVBERi0x",
        "addr": {"city": "杭州"},
    }
    errors = field_errors(
        [
            {"field": "tags.1", "message": "取值不在允许的范围内"},
            {"field": "addr.zip", "message": "应为整数"},
        ]
    )
    fields = {f.name: f for f in form_fields(SCHEMA, values, errors)}
    widgets = {name: f.widget for name, f in fields.items()}
    assert widgets == {
        "name": "text",
        "note": "textarea",
        "count": "number",
        "area": "number",
        "ok": "checkbox",
        "verdict": "radio",
        "kind": "select",
        "tags": "checkboxes",
        "lines": "lines",
        "on": "date",
        "at": "datetime-local",
        "scan": "file",
        "addr": "fieldset",
    }
    assert (
        fields["name"].required
        and fields["name"].value == "李四"
        and fields["name"].attrs["maxlength"] == "20"
    )
    assert fields["count"].attrs == {"min": "1", "max": "9", "step": "1"}
    assert [(o.label, o.checked) for o in fields["verdict"].options] == [
        ("是", True),
        ("否", False),
    ]
    assert [(o.label, o.checked) for o in fields["kind"].options] == [("甲", True), ("乙", False)]
    assert [o.checked for o in fields["tags"].options] == [False, True, False]
    assert fields["tags"].error == "取值不在允许的范围内"
    assert fields["at"].value == "2026-03-02T09:30"  # Beijing wall time
    assert (fields["scan"].file_name, fields["scan"].file_size) == ("a.pdf", 6)
    city, zip_code = fields["addr"].children
    assert city.name == "addr.city" and city.value == "杭州" and city.required
    assert zip_code.error == "应为整数"
