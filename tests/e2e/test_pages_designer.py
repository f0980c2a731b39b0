"""Designer pages and the public 办事指南 through the test client (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from typing import Any

from tests.conftest import PROCESSES
from tests.fixtures.pages import csrf_token, sign_in

PASSWORD = "upload pages pw"
RESTAURANT = PROCESSES / "restaurant"


def _token(page: str) -> str:
    return csrf_token(page)


def _sign_in(client: Any, services: Any, name: str) -> str:
    return sign_in(client, services, name, PASSWORD)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _restaurant_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(RESTAURANT.iterdir()) if p.is_file()}


def _upload(client: Any, token: str, name: str, data: bytes) -> Any:
    return client.post(
        "/designer/upload",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _stored_versions(services: Any) -> int:
    with services.uow() as uow:
        return len(uow.bundles.list_versions())


def test_a_refused_upload_stores_nothing_and_places_each_problem(
    client: Any, users: Any, services: Any
) -> None:
    token = _sign_in(client, services, "designer")
    bpmn = (RESTAURANT / "restaurant.bpmn").read_text()
    broken = bpmn.replace('intake_decision == "correct"', '__import__("os").system("ls")')
    response = _upload(client, token, "restaurant.bpmn", broken.encode())

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "事项包未通过检查, 没有保存任何内容" in page
    problem = re.search(
        r'<li class="problem" data-element="flow_intake_correct">(.*?)</li>', page, re.S
    )
    assert problem, page
    text = html.unescape(problem.group(1))
    assert "不允许使用以下划线开头的名称" in text
    assert "顺序流 “补正”" in text  # the element's type and name, beside its id
    line = next(  # the line of the condition in error, in the file as shipped
        n for n, row in enumerate(bpmn.splitlines(), 1) if 'intake_decision == "correct"' in row
    )
    assert f"第 {line} 行" in text and "restaurant.bpmn" in text
    assert 'data-locate="flow_intake_correct" data-diagram="upload-diagram-1"' in text
    # the diagram comes from the uploaded bytes, the element in error marked
    state = re.search(
        r"id=\"upload-diagram-1\" class=\"diagram tall\" data-diagram-xml=\"upload-diagram-1-xml\"\s+"
        r"data-diagram-state='([^']*)'",
        page,
    )
    assert state and json.loads(html.unescape(state.group(1))) == {
        "errors": ["flow_intake_correct"]
    }
    embedded = re.search(
        r'<script type="application/json" id="upload-diagram-1-xml">(.*?)</script>', page, re.S
    )
    assert embedded and json.loads(embedded.group(1)) == broken
    assert _stored_versions(services) == 0
    assert "还没有部署任何事项包" in client.get("/designer/bundles").get_data(as_text=True)


def test_xml_that_is_not_well_formed_lists_its_problem_without_a_diagram(
    client: Any, users: Any, services: Any
) -> None:
    token = _sign_in(client, services, "designer")
    response = _upload(
        client, token, "bad.bpmn", b"<bpmn:definitions><unclosed></bpmn:definitions>"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "XML 格式错误" in page
    assert "data-diagram-xml" not in page and "bpmn-navigated-viewer" not in page
    missing = _upload(client, token, "", b"")
    assert missing.status_code == 422
    assert "请选择要上传的" in missing.get_data(as_text=True)
    assert _stored_versions(services) == 0


def test_only_designers_and_admins_may_upload(client: Any, users: Any, services: Any) -> None:
    for name in ("front_desk", "auditor"):
        token = _sign_in(client, services, name)
        assert client.get("/designer/upload").status_code == 403
        refused = _upload(client, token, "restaurant.zip", _zip(_restaurant_files()))
        assert refused.status_code == 403
        assert "无权访问" in refused.get_data(as_text=True)
        assert client.get("/designer/bundles").status_code == 403
        client.post("/logout", data={"csrf_token": token})
    assert _stored_versions(services) == 0
    stranger = client.get("/designer/upload")
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/login")
    token = _sign_in(client, services, "admin")
    assert _upload(client, token, "restaurant.zip", _zip(_restaurant_files())).status_code == 302
    assert _stored_versions(services) == 1


def test_uploading_shows_the_new_version_and_lists_every_version(
    client: Any, users: Any, services: Any
) -> None:
    token = _sign_in(client, services, "designer")
    first = _upload(client, token, "restaurant.zip", _zip(_restaurant_files()))
    assert first.status_code == 302
    assert first.headers["Location"] == "/designer/bundles/restaurant/1"
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "已将「我要开餐馆」第 1 版保存为草稿" in page  # the page's default: a draft
    assert 'data-diagram-url="/designer/bundles/restaurant/1/diagram.bpmn"' in page
    # every human task with its groups, and its form rendered read-only
    assert page.count('<tr data-element="') == 11  # the BPMN's user tasks
    assert re.search(r'<tr data-element="post_check">.*?20 个工作日', page, re.S)
    assert re.search(r'<tr data-element="supply_materials">.*?暂停计时', page, re.S)
    preview = re.search(r'<details class="form-preview" id="form-intake".*?</details>', page, re.S)
    assert preview and 'name="intake_decision"' in preview.group(0)
    assert " disabled" in preview.group(0)
    assert "承诺时限" in page and "7 个工作日" in page and "20 个工作日" in page
    assert "受理: 环节“受理方式” (<code>acceptance_gateway</code>)" in page
    assert re.search(r'data-material="health_certificates">.*?必须.*?可容缺', page, re.S)
    assert "<code>restaurant.bpmn</code>" in page and "<code>bundle.json</code>" in page

    second = _upload(client, token, "restaurant.zip", _zip(_restaurant_files()))
    assert second.headers["Location"] == "/designer/bundles/restaurant/2"
    again = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "与第 1 版内容完全相同" in again
    listing = client.get("/designer/bundles").get_data(as_text=True)
    assert re.findall(r'<tr data-version="(\d+)">', listing) == ["2", "1"]
    assert listing.count("<td>test</td>") == 0 and listing.count("<td>designer</td>") == 2


def test_the_compare_page_lists_process_form_and_metadata_changes(
    client: Any, users: Any, services: Any
) -> None:
    token = _sign_in(client, services, "designer")
    files = _restaurant_files()
    assert _upload(client, token, "restaurant.zip", _zip(files)).status_code == 302
    changed = dict(files)
    changed["restaurant.bpmn"] = (
        files["restaurant.bpmn"]
        .decode()
        .replace('name="一窗受理"', 'name="综合窗口受理"')
        .replace("needs_inspection == True", "needs_inspection == True and food_approved")
        .encode()
    )
    meta = json.loads(files["bundle.json"])
    meta["items"][1]["promised_workdays"] = 5
    next(m for m in meta["materials"] if m["code"] == "floor_plan")["deferrable"] = True
    changed["bundle.json"] = json.dumps(meta, ensure_ascii=False).encode()
    assert _upload(client, token, "restaurant.zip", _zip(changed)).status_code == 302

    response = client.get("/designer/bundles/restaurant/compare?a=1&b=2")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "用户任务 '综合窗口受理' (intake): 改名" in page
    assert "顺序流 '需要踏勘' (flow_inspection_needed): 条件变更" in page
    assert "承诺时限变更" in page and "7 个工作日" in page and "5 个工作日" in page
    assert "材料 '经营场所平面布局图' (floor_plan): 可否容缺变更" in page
    state_b = re.search(
        r'id="diagram-b" class="diagram[^"]*"\s+data-diagram-url="[^"]+"\s+'
        r"data-diagram-state='([^']*)'",
        page,
    )
    assert state_b
    assert set(json.loads(state_b.group(1))["changed"]) == {"intake", "flow_inspection_needed"}
    # the latest two by default; the same version twice has nothing to show
    assert "改名" in client.get("/designer/bundles/restaurant/compare").get_data(as_text=True)
    same = client.get("/designer/bundles/restaurant/compare?a=2&b=2").get_data(as_text=True)
    assert "两个版本内容相同, 没有变化" in same
    assert client.get("/designer/bundles/restaurant/compare?a=1&b=9").status_code == 404
    assert client.get("/designer/bundles/restaurant/compare?a=x").status_code == 404
    missing = client.get("/designer/bundles/restaurant/3")
    assert missing.status_code == 404 and "第 3 版 不存在" in missing.get_data(as_text=True)
    assert client.get("/designer/bundles/nothing/compare").status_code == 404


def test_the_public_guide_needs_no_sign_in(
    client: Any, app: Any, services: Any, restaurant: Any
) -> None:
    listing = client.get("/guide")
    assert listing.status_code == 200
    assert 'href="/guide/restaurant"' in listing.get_data(as_text=True)
    response = client.get("/guide/restaurant")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "我要开餐馆 · 办事指南" in page
    assert re.search(r'data-limit="promised">7 个工作日', page)
    assert re.search(r'data-limit="statutory">20 个工作日', page)
    assert re.search(r'data-material="floor_plan">.*?必须</span>\s*</td>', page, re.S)
    assert re.search(r'data-material="equipment_layout">.*?必须.*?可容缺', page, re.S)
    assert re.search(r'data-material="agent_authorization">.*?非必须', page, re.S)
    assert "<svg" in page and 'class="qr"' in page
    assert "http://localhost/guide/restaurant" in page  # the request's host when unset
    assert 'data-diagram-url="/guide/restaurant/diagram.bpmn"' in page
    diagram = client.get("/guide/restaurant/diagram.bpmn")
    assert diagram.status_code == 200 and b'id="restaurant"' in diagram.data
    assert client.get("/designer/bundles/restaurant/1/diagram.bpmn").status_code == 302
    app.config["PUBLIC_URL"] = "https://zwfw.example.cn/"
    shown = client.get("/guide/restaurant").get_data(as_text=True)
    assert "https://zwfw.example.cn/guide/restaurant" in shown
    missing = client.get("/guide/nothing")
    assert missing.status_code == 404 and "不存在" in missing.get_data(as_text=True)
    assert client.get("/guide/nothing/diagram.bpmn").status_code == 404


def test_home_links_to_the_guides(client: Any) -> None:
    assert 'href="/guide"' in client.get("/").get_data(as_text=True)


def test_an_upload_with_warnings_is_stored_and_shows_them_on_its_version_page(
    client: Any, users: Any, services: Any
) -> None:
    from tests.fixtures import bpmn as fixtures

    token = _sign_in(client, services, "designer")
    response = _upload(client, token, "d.bpmn", fixtures.decision("approved == True"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "检查提醒: 条件 `approved == True` 读取的字段 `approved`" in page
    assert "(元素 yes)" in page


def test_a_version_page_lists_its_checks_and_marks_them_on_the_diagram(
    client: Any, users: Any, services: Any
) -> None:
    from engine.services import accounts
    from tests.fixtures import bpmn as fixtures

    upload = fixtures.decision("approved == True").replace(
        b'camunda:candidateGroups="front_desk"', b'camunda:candidateGroups="drug_review"'
    )
    token = _sign_in(client, services, "designer")
    assert _upload(client, token, "d.bpmn", upload).status_code == 302
    page = client.get("/designer/bundles/p/1").get_data(as_text=True)
    checks = re.search(r'<section class="card checks".*?</section>', page, re.S)
    assert checks is not None
    assert 'data-warnings="2"' in checks.group(0)
    assert "办理组 &#39;drug_review&#39; 还没有任何成员" in checks.group(0)
    assert 'data-locate="yes"' in checks.group(0) and 'data-locate="task"' in checks.group(0)
    state = re.search(r"data-diagram-state='([^']*)'", page)
    assert state is not None
    assert sorted(json.loads(html.unescape(state.group(1)))["warnings"]) == ["task", "yes"]
    accounts.create_user(services, "pharmacist", "clerk", ["drug_review"])
    page = client.get("/designer/bundles/p/1").get_data(as_text=True)
    assert 'data-warnings="1"' in page and "drug_review" not in page.split("流程图")[0]
