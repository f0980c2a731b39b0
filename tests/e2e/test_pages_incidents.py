"""A case stopped as an incident says so on its page: why, when, and what the administrator
does next; its timeline names the incident events (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from engine.services import Services
from tests.e2e.test_pages_designer import _sign_in
from tests.fixtures.clock import FakeClock
from tests.integration.test_incidents import (
    default_limits,  # noqa: F401 (autouse fixture)
    looping_case,
    run_until_stopped,
)


def test_the_case_page_shows_the_incident_and_its_reason(
    services: Services, users: dict[str, Any]
) -> None:
    from web import create_app

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    case_id = looping_case(svc, users)
    run_until_stopped(svc, users, clock, case_id)
    client = create_app({"SERVICES": svc, "TESTING": True}).test_client()
    _sign_in(client, svc, "auditor")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "此办件出错, 已停止自动推进" in page
    assert "60 秒内定时触发已达 30 次" in page
    assert f"lianban incidents resume {case_id}" in page
    assert "出错, 已停止自动推进" in page  # the timeline's label of incident_raised


def test_the_clerk_is_told_the_process_failed_and_the_admin_handles_it_on_the_incidents_page(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.bundles.source import from_upload
    from engine.services import cases, publishing, queries
    from tests.fixtures.pages import csrf_token
    from tests.integration.test_incidents_runtime import MISSPELLED
    from web import create_app

    publishing.deploy(services, from_upload("shop.bpmn", MISSPELLED), "test")
    case = cases.start_case(services, users["front_desk"].user, "shop", {"sells_cold_chain": True})
    task = case["tasks"][0]["id"]
    app = create_app({"SERVICES": services, "TESTING": True})
    clerk = app.test_client()
    token = _sign_in(clerk, services, "front_desk")
    answer = clerk.post(f"/work/tasks/{task}", data={"csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "此办件流程出错, 已通知管理员" in page
    assert "变量 &#39;sells_coldchain&#39; 未定义" in page  # where and why, not only that it failed
    assert "表单填写有误" not in page and "field-error" not in page
    again = clerk.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert "管理员处理前不能办理" in again and "提交办理</button>" not in again  # nothing to press
    listed_for_clerk = clerk.get("/work/").get_data(as_text=True)
    assert "流程出错" in listed_for_clerk  # not 办理中/正常 as if nothing happened
    designer = app.test_client()
    _sign_in(designer, services, "designer")
    seen = designer.get("/incidents/").get_data(as_text=True)
    assert f"办件 {case['id']}" in seen and "sells_coldchain == True" in seen
    assert "更正并重试" not in seen  # designers look, administrators act
    assert designer.post(f"/incidents/{case['id']}/retry").status_code in (400, 403)
    admin = app.test_client()
    _sign_in(admin, services, "admin")
    listed = admin.get("/incidents/").get_data(as_text=True)
    assert '<code class="element">gw</code>' in listed and "表达式出错" in listed
    assert "sells_cold_chain" in listed and "缺失" in listed and "更正并重试" in listed
    fixed = admin.post(
        f"/incidents/{case['id']}/retry",
        data={"csrf_token": csrf_token(listed), "field:sells_coldchain": "true"},
    )
    assert fixed.status_code == 302, fixed.get_data(as_text=True)
    after = queries.get_case(services, users["auditor"].user, case["id"])
    assert after["status"] == "running"
    assert [t["element"] for t in after["tasks"]] == ["drug_review"]
    assert "没有出错的办件" in admin.get("/incidents/").get_data(as_text=True)


def test_the_administrator_moves_a_case_to_a_fixed_version_on_the_page(
    services: Services, users: dict[str, Any]
) -> None:
    from engine.bundles.source import from_upload
    from engine.services import audit, publishing, queries
    from tests.fixtures.pages import csrf_token
    from tests.integration.test_incidents_runtime import shop, stuck_case
    from web import create_app

    case_id, task = stuck_case(services, users)
    renamed = shop("sells_cold_chain == True", "accept")
    publishing.deploy(services, from_upload("shop.bpmn", renamed), "test")
    admin = create_app({"SERVICES": services, "TESTING": True}).test_client()
    _sign_in(admin, services, "admin")
    token = csrf_token(admin.get("/incidents/").get_data(as_text=True))
    url = f"/incidents/{case_id}/migrate"
    refused = admin.post(url, data={"csrf_token": token, "version": "2", "action": "apply"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "不能迁移" in page and "第 2 版没有环节 intake" in page
    bad = admin.post(url, data={"csrf_token": token, "version": "2", "mapping": "intake accept"})
    assert bad.status_code == 422 and "应写成「原环节=新环节」" in bad.get_data(as_text=True)
    moved = admin.post(
        url,
        data={"csrf_token": token, "version": "2", "mapping": "intake=accept", "action": "apply"},
    )
    assert moved.status_code == 302, moved.get_data(as_text=True)
    case = queries.get_case(services, users["auditor"].user, case_id)
    assert case["status"] == "running" and case["version"] == 2
    assert [(t["id"], t["element"]) for t in case["tasks"]] == [(task, "accept")]
    assert audit.replay(services, None, case_id)["verified"]
    timeline = admin.get(f"/cases/{case_id}").get_data(as_text=True)
    assert (
        "迁移到新版本" in timeline and "第 1 版 → 第 2 版 (环节对应: intake → accept)" in timeline
    )
