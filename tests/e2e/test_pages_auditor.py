"""The auditor pages through the test client (both databases): the case search's filters and
paging, the step JSON behind the slider, replay verification, the exports, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.bundles.source import from_path
from engine.services import Services, cases, publishing, queries
from engine.services.accounts import set_password
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import CLERK_OF

PASSWORD = "correct horse"
MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class Centre:
    """The services on a clock the test moves, the app on them, and the staff's users."""

    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        from web import create_app

        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        publishing.deploy(self.svc, from_path(PROCESSES / "restaurant"), "test")
        self.users = {name: u.user for name, u in users.items()}
        for name in users:
            set_password(services, name, PASSWORD)
        self.app = create_app({"SERVICES": self.svc, "TESTING": True})
        self.client = self.app.test_client()

    def sign_in(self, name: str) -> None:
        """Sign in as `name`, in a new browser session (a fresh client)."""
        self.client = self.app.test_client()
        token = _token(self.client.get("/login").get_data(as_text=True))
        response = self.client.post(
            "/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302

    def start(self, **data: Any) -> dict[str, Any]:
        return cases.start_case(
            self.svc, self.users["front_desk"], "restaurant", {**r.APPLICATION, **data}
        )

    def do(self, case: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
        task = next(t for t in case["tasks"] if t["element"] == element)
        return cases.complete(self.svc, self.users[CLERK_OF[element]], task["id"], data)

    def found(self, query: str) -> list[int]:
        """The case numbers the search page lists for `query`, in order."""
        response = self.client.get(f"/audit/?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [
            int(n) for n in re.findall(r'<tr data-case="(\d+)"', response.get_data(as_text=True))
        ]


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    return Centre(services, users)


def _granted(centre: Centre, case: dict[str, Any]) -> dict[str, Any]:
    for element, data in r.PATHS["granted_without_inspection"][0]:
        case = centre.do(case, element, data)
    return case


def test_the_search_filters_cases_and_pages_through_them(centre: Centre) -> None:
    # Monday: 张三's case, granted the same day; Tuesday: 李四's, accepted; Wednesday: 王五's,
    # refused at intake.
    zhang = _granted(centre, centre.start())
    centre.clock.advance(days=1)
    li = centre.do(
        centre.start(applicant_name="李四", applicant_id_number="330102198001011111"),
        "intake",
        r.ACCEPT,
    )
    centre.clock.advance(days=1)
    wang = centre.do(centre.start(applicant_name="王五"), "intake", r.REFUSE)
    centre.sign_in("auditor")

    assert centre.found("") == [wang["id"], li["id"], zhang["id"]]  # newest first
    assert centre.found(f"number={li['id']}") == [li["id"]]
    assert centre.found("applicant=李") == [li["id"]]  # part of the name
    assert centre.found("applicant=330102198001011111") == [li["id"]]  # the whole id number
    assert centre.found("applicant=3301021980") == []  # an id number only matches whole
    assert centre.found("applicant=%25") == []  # LIKE wildcards are searched as text
    assert centre.found("bundle=restaurant&status=running") == [li["id"]]
    assert centre.found("status=completed") == [wang["id"], zhang["id"]]
    assert centre.found("bundle=nothing") == []
    assert centre.found("received_from=2026-03-03&received_to=2026-03-03") == [li["id"]]
    assert centre.found("received_from=2026-03-03") == [wang["id"], li["id"]]
    assert centre.found("received_to=2026-03-02") == [zhang["id"]]

    first = centre.client.get("/audit/?limit=2").get_data(as_text=True)
    assert re.findall(r'<tr data-case="(\d+)"', first) == [str(wang["id"]), str(li["id"])]
    next_url = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_url, "no link to the next page"
    second = centre.client.get(next_url.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'<tr data-case="(\d+)"', second) == [str(zhang["id"])]
    assert 'rel="next"' not in second and 'rel="first"' in second


def test_only_cases_past_their_deadline_count_as_overdue(centre: Centre) -> None:
    late = centre.do(centre.start(), "intake", r.ACCEPT)  # Monday: due 2026-03-11 (7 days)
    on_time = _granted(centre, centre.start())
    waiting = centre.do(centre.start(), "intake", r.ACCEPT_WITH_GAPS)  # clock paused
    centre.sign_in("auditor")
    centre.clock.advance(days=9)  # Wednesday 03-11: the last day, not yet late
    assert centre.found("overdue=1") == []
    page = centre.client.get("/audit/").get_data(as_text=True)
    assert '<span class="badge warning">预警</span>' in page
    centre.clock.advance(days=1)  # Thursday 03-12
    assert centre.found("overdue=1") == [late["id"]]
    assert centre.found("overdue=1&status=completed") == []
    assert on_time["id"] not in centre.found("overdue=1")
    assert waiting["id"] not in centre.found("overdue=1")
    page = centre.client.get("/audit/?overdue=1").get_data(as_text=True)
    assert '<span class="badge overdue">超期</span>' in page


def test_bad_criteria_are_shown_next_to_their_fields(centre: Centre) -> None:
    centre.sign_in("auditor")
    response = centre.client.get(
        "/audit/?number=abc&received_from=2026-13-01&applicant=%E5%BC%A0&status=lost"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "办件编号应为正整数" in html and "日期格式应为" in html and "状态无效" in html
    assert 'name="applicant" value="张"' in html  # what was entered is kept
    reversed_range = centre.client.get("/audit/?received_from=2026-03-05&received_to=2026-03-01")
    assert reversed_range.status_code == 422
    assert "结束日期不能早于开始日期" in reversed_range.get_data(as_text=True)


def test_clerks_and_strangers_cannot_open_the_auditor_pages(centre: Centre) -> None:
    case = centre.start()
    paths = [
        "/audit/",
        f"/audit/cases/{case['id']}",
        f"/audit/cases/{case['id']}/steps/1.json",
        f"/audit/cases/{case['id']}/export.json",
        f"/audit/cases/{case['id']}/export.csv",
        f"/audit/cases/{case['id']}/archive",
    ]
    for path in paths:
        stranger = centre.client.get(path)
        assert stranger.status_code == 302 and "/login" in stranger.headers["Location"], path
    centre.sign_in("front_desk")
    for path in paths:
        response = centre.client.get(path)
        assert response.status_code == 403, path
        assert "无权访问" in response.get_data(as_text=True)
    token = _token(centre.client.get(f"/cases/{case['id']}").get_data(as_text=True))
    verify = centre.client.post(f"/audit/cases/{case['id']}/verify", data={"csrf_token": token})
    assert verify.status_code == 403


def test_the_slider_steps_through_the_re_executed_case(centre: Centre) -> None:
    case = _granted(centre, centre.start())
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    centre.sign_in("auditor")
    page = centre.client.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    assert f'max="{len(events)}"' in page and f'value="{len(events)}"' in page
    base = f"/audit/cases/{case['id']}/steps"

    first = centre.client.get(f"{base}/1.json").json
    assert first["event"]["label"] == "收件" and first["active"] == ["intake"]
    assert first["changed_fields"] == sorted(r.APPLICATION)  # everything is new at the start
    accepted_seq = next(
        e["seq"] for e in events if e["element"] == "intake" and e["type"] == "task_completed"
    )
    accepted = centre.client.get(f"{base}/{accepted_seq}.json").json
    assert accepted["changed_fields"] == ["intake_decision", "intake_opinion"]
    assert "intake" in accepted["completed"] and "intake" not in accepted["active"]
    assert accepted["event"]["detail"].startswith("一窗受理")
    last = centre.client.get(f"{base}/{len(events)}.json").json
    assert "concluded" in last["completed"] and last["active"] == []
    assert last["status"] == "completed" and last["matches_record"] is True
    before = centre.client.get(f"{base}/0.json").json
    assert before["completed"] == [] and before["data"] == {}
    missing = centre.client.get(f"{base}/{len(events) + 1}.json")
    assert missing.status_code == 404 and "没有第" in missing.json["error"]


def test_replay_verification_runs_on_demand_and_the_archive_exports(centre: Centre) -> None:
    case = _granted(centre, centre.start())
    centre.sign_in("auditor")
    page = centre.client.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    assert "核验通过" not in page  # not run on load
    no_token = centre.client.post(f"/audit/cases/{case['id']}/verify")
    assert no_token.status_code == 400
    verified = centre.client.post(
        f"/audit/cases/{case['id']}/verify", data={"csrf_token": _token(page)}
    )
    assert verified.status_code == 200
    steps = len(queries.events(centre.svc, centre.users["auditor"], case["id"]))
    assert f"核验通过: 哈希链完整, 重新执行全部 {steps} 步" in verified.get_data(as_text=True)

    exported = centre.client.get(f"/audit/cases/{case['id']}/export.json")
    assert exported.json["verification"] == {"verified": True, "steps": steps}
    assert exported.json["exported_by"] == "auditor"
    rows = list(
        csv.reader(
            io.StringIO(
                centre.client.get(f"/audit/cases/{case['id']}/export.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[0][:3] == ["序号", "时间", "事件"] and len(rows) == steps + 1
    archive = centre.client.get(f"/audit/cases/{case['id']}/archive").get_data(as_text=True)
    assert "办件档案" in archive and f"重新执行 {steps} 步, 与记录一致" in archive


def test_a_tampered_case_still_opens_and_fails_verification(centre: Centre) -> None:
    from sqlalchemy import update

    from engine.persistence.tables import cases as case_rows

    case = _granted(centre, centre.start())
    with centre.svc.engine.begin() as conn:  # someone edits the stored data behind the log
        conn.execute(
            update(case_rows)
            .where(case_rows.c.id == case["id"])
            .values(data={**case["data"], "applicant_name": "赵六"})
        )
    steps = len(queries.events(centre.svc, centre.users["auditor"], case["id"]))
    centre.sign_in("auditor")
    page = centre.client.get(f"/audit/cases/{case['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"无法回放到第 {steps} 步" in html
    assert centre.client.get(f"/audit/cases/{case['id']}/steps/{steps}.json").status_code == 409
    assert centre.client.get(f"/audit/cases/{case['id']}/steps/1.json").json["matches_record"]
    verified = centre.client.post(
        f"/audit/cases/{case['id']}/verify", data={"csrf_token": _token(html)}
    ).get_data(as_text=True)
    assert f"核验未通过: 第 {steps} 步 (共 {steps} 步) 与记录不符" in verified
    assert 'data-verified="false"' in verified
